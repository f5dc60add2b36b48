//go:build wasip1

// Command hog allocates until the runtime runs out of memory.
package main

import (
	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/host/internal/testdata/base"
)

func main() {}

//go:wasmexport sipkeep_abi_version
func abiVersion() int32 { return int32(abi.Version) }

var keep [][]byte

//go:wasmexport on_request
func onRequest(n int32) int32 {
	for {
		b := make([]byte, 1<<20)
		b[0] = 1
		keep = append(keep, b)
	}
}

//go:wasmexport on_response
func onResponse(n int32) int32 { return base.Noop() }

//go:wasmexport on_timer
func onTimer(n int32) int32 { return base.Noop() }
