//go:build wasip1

// Command initloop never finishes _initialize: its package init spins
// forever. Only the host's bound on guest steps ends it.
package main

import (
	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/host/internal/testdata/base"
)

func main() {}

var counter int32

func init() {
	for {
		counter++
	}
}

//go:wasmexport sipkeep_abi_version
func abiVersion() int32 { return int32(abi.Version) }

//go:wasmexport on_request
func onRequest(n int32) int32 { return base.Noop() }

//go:wasmexport on_response
func onResponse(n int32) int32 { return base.Noop() }

//go:wasmexport on_timer
func onTimer(n int32) int32 { return base.Noop() }
