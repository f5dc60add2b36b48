//go:build wasip1

// Command inject is a hostile plugin: where good answers a bare ";keep"
// with a set-keep edit "=30", it returns a set-keep edit (value 30, placed
// right after the keep) whose bytes splice a whole response into the
// message. Its output is well formed; only the edit's content is wrong.
package main

import (
	"bytes"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/host/internal/testdata/base"
)

func main() {}

//go:wasmexport sipkeep_abi_version
func abiVersion() int32 { return int32(abi.Version) }

var in abi.Input

const injected = "=30\r\nContent-Length: 0\r\n\r\nSIP/2.0 503 Injected\r\nContent-Length: 0\r\n"

//go:wasmexport on_request
func onRequest(n int32) int32 { return onMessage(n) }

//go:wasmexport on_response
func onResponse(n int32) int32 { return onMessage(n) }

func onMessage(n int32) int32 {
	if e := abi.DecodeInput(base.In[:n], &in); e != abi.ErrnoNone {
		return -int32(e)
	}
	i := bytes.Index(in.Message, []byte(";keep\r\n"))
	if i < 0 {
		return base.Noop()
	}
	h := abi.OutputHeader{Reason: abi.ReasonEdited, Edits: 1, TextLen: len(injected)}
	off := abi.OutputHeaderSize
	e := abi.Edit{Op: abi.EditSetKeep, Value: 30, Start: uint32(i + 5), End: uint32(i + 5), TextLen: uint32(len(injected))}
	abi.PutEdit(base.Out[off:], &e)
	off += abi.EditSize
	off += copy(base.Out[off:], injected)
	abi.PutOutputHeader(base.Out[:], &h)
	return int32(off)
}

//go:wasmexport on_timer
func onTimer(n int32) int32 { return base.Noop() }
