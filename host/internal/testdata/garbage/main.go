//go:build wasip1

// Command garbage returns outputs that fail validation: on_request claims
// 65 edits (over abi.MaxEdits), on_response an edit beyond the message,
// on_timer a length larger than its output buffer.
package main

import (
	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/host/internal/testdata/base"
)

func main() {}

//go:wasmexport sipkeep_abi_version
func abiVersion() int32 { return int32(abi.Version) }

//go:wasmexport on_request
func onRequest(n int32) int32 {
	h := abi.OutputHeader{Edits: abi.MaxEdits + 1}
	abi.PutOutputHeader(base.Out[:], &h)
	return int32(abi.OutputSize(&h))
}

//go:wasmexport on_response
func onResponse(n int32) int32 {
	h := abi.OutputHeader{Edits: 1}
	abi.PutOutputHeader(base.Out[:], &h)
	e := abi.Edit{Op: abi.EditAddKeep, Start: 1 << 20, End: 1 << 20}
	abi.PutEdit(base.Out[abi.OutputHeaderSize:], &e)
	return int32(abi.OutputSize(&h))
}

//go:wasmexport on_timer
func onTimer(n int32) int32 { return 1 << 30 }
