//go:build wasip1

// Command badabi claims ABI 2.0.
package main

import "github.com/sipkeep/sipkeep/host/internal/testdata/base"

func main() {}

//go:wasmexport sipkeep_abi_version
func abiVersion() int32 { return 2 << 16 }

//go:wasmexport on_request
func onRequest(n int32) int32 { return base.Noop() }

//go:wasmexport on_response
func onResponse(n int32) int32 { return base.Noop() }

//go:wasmexport on_timer
func onTimer(n int32) int32 { return base.Noop() }
