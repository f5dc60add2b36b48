//go:build wasip1

// Command good is a small, correct plugin for the host's tests: it keeps a
// record for flows whose messages mention keep, answers a bare ";keep" with
// a set-keep edit, schedules a timer when asked (X-Timer-Ms), deletes the
// record on BYE, and on_timer bumps a counter and asks for a ping.
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
var rec [64]byte

//go:wasmexport on_request
func onRequest(n int32) int32 { return onMessage(n) }

//go:wasmexport on_response
func onResponse(n int32) int32 { return onMessage(n) }

// Record layout: [0] version 1, [1] messages seen, [2] timer fires.
func onMessage(n int32) int32 {
	if e := abi.DecodeInput(base.In[:n], &in); e != abi.ErrnoNone {
		return -int32(e)
	}
	msg := in.Message
	if bytes.Contains(msg, []byte("BYE ")) && len(in.Record) > 0 {
		h := abi.OutputHeader{Reason: abi.ReasonDialogEnded, Flags: abi.OutRecordDelete}
		abi.PutOutputHeader(base.Out[:], &h)
		return abi.OutputHeaderSize
	}
	if !bytes.Contains(msg, []byte("keep")) {
		if len(in.Record) == 0 {
			return base.Noop()
		}
	}
	r := rec[:3]
	r[0], r[1], r[2] = 1, 0, 0
	if len(in.Record) >= 3 {
		copy(r, in.Record)
	}
	r[1]++
	h := abi.OutputHeader{Reason: abi.ReasonNoKeep, Flags: abi.OutRecordChanged, RecordLen: len(r)}
	if i := bytes.Index(msg, []byte("X-Timer-Ms: ")); i >= 0 {
		ms := int64(0)
		for _, c := range msg[i+12:] {
			if c < '0' || c > '9' {
				break
			}
			ms = ms*10 + int64(c-'0')
		}
		h.Deadline = in.Now + ms
	}
	off := abi.OutputHeaderSize
	text := ""
	if i := bytes.Index(msg, []byte(";keep\r\n")); i >= 0 {
		text = "=30"
		e := abi.Edit{Op: abi.EditSetKeep, Value: 30, Start: uint32(i + 5), End: uint32(i + 5), TextLen: 3}
		abi.PutEdit(base.Out[off:], &e)
		off += abi.EditSize
		h.Edits, h.TextLen, h.Reason = 1, 3, abi.ReasonEdited
	}
	off += copy(base.Out[off:], text)
	off += copy(base.Out[off:], r)
	abi.PutOutputHeader(base.Out[:], &h)
	return int32(off)
}

//go:wasmexport on_timer
func onTimer(n int32) int32 {
	if e := abi.DecodeInput(base.In[:n], &in); e != abi.ErrnoNone {
		return -int32(e)
	}
	r := rec[:3]
	r[0], r[1], r[2] = 1, 0, 0
	copy(r, in.Record)
	r[2]++
	h := abi.OutputHeader{Reason: abi.ReasonNone, Flags: abi.OutRecordChanged, RecordLen: len(r), Actions: 1}
	a := abi.Action{Kind: abi.ActSendPing, Value: 10000, FlowID: in.FlowID}
	off := abi.OutputHeaderSize
	abi.PutAction(base.Out[off:], &a)
	off += abi.ActionSize
	off += copy(base.Out[off:], r)
	abi.PutOutputHeader(base.Out[:], &h)
	return int32(off)
}
