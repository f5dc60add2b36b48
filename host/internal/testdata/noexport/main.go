//go:build wasip1

// Command noexport lacks on_timer.
package main

import (
	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/host/internal/testdata/base"
)

func main() {}

//go:wasmexport sipkeep_abi_version
func abiVersion() int32 { return int32(abi.Version) }

//go:wasmexport on_request
func onRequest(n int32) int32 { return base.Noop() }

//go:wasmexport on_response
func onResponse(n int32) int32 { return base.Noop() }
