//go:build wasip1

// Command loop spins forever in on_request: only the host's watchdog ends it.
package main

import (
	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/host/internal/testdata/base"
)

func main() {}

//go:wasmexport sipkeep_abi_version
func abiVersion() int32 { return int32(abi.Version) }

var counter int32

//go:wasmexport on_request
func onRequest(n int32) int32 {
	for {
		counter++
	}
}

//go:wasmexport on_response
func onResponse(n int32) int32 { return base.Noop() }

//go:wasmexport on_timer
func onTimer(n int32) int32 { return base.Noop() }
