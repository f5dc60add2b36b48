//go:build wasip1

// Command trap passes load checks, then panics on every message: a guest
// that dies mid-call.
package main

import (
	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/host/internal/testdata/base"
)

func main() {}

//go:wasmexport sipkeep_abi_version
func abiVersion() int32 { return int32(abi.Version) }

var m map[string]int

//go:wasmexport on_request
func onRequest(n int32) int32 { panic("trap fixture: boom") }

//go:wasmexport on_response
func onResponse(n int32) int32 {
	m["nil map write"] = 1 // a runtime error, not an explicit panic
	return base.Noop()
}

//go:wasmexport on_timer
func onTimer(n int32) int32 { panic("trap fixture: timer") }
