//go:build wasip1

// Command badsig exports on_request with an i64 parameter.
package main

import (
	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/host/internal/testdata/base"
)

func main() {}

//go:wasmexport sipkeep_abi_version
func abiVersion() int32 { return int32(abi.Version) }

//go:wasmexport on_request
func onRequest(n int64) int32 { return base.Noop() }

//go:wasmexport on_response
func onResponse(n int32) int32 { return base.Noop() }

//go:wasmexport on_timer
func onTimer(n int32) int32 { return base.Noop() }
