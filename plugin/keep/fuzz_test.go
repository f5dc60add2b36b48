package keep_test

import (
	"testing"

	"github.com/sipkeep/sipkeep/abi"
	rfc4475data "github.com/sipkeep/sipkeep/plugin/internal/rfc4475"
	"github.com/sipkeep/sipkeep/plugin/keep"
	"github.com/sipkeep/sipkeep/plugin/keeptest"
)

// fuzzEntry feeds arbitrary messages and records to one entry point: the
// plugin must never panic, and its output must always be valid (the host
// would otherwise fail open and discard the instance).
func fuzzEntry(f *testing.F, kind abi.Kind, pick func(*keep.Plugin) func(int32) int32) {
	f.Add([]byte(keeptest.BenchRegister), []byte{}, uint8(1), uint8(1))
	f.Add([]byte(keeptest.BenchInvite), []byte{1, 0, 0, 0}, uint8(2), uint8(2))
	f.Add([]byte(keeptest.ResponseTo(keeptest.BenchInvite, "180 Ringing")), []byte{}, uint8(2), uint8(2))
	f.Add([]byte("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;keep=99999999999999999999\r\nCSeq: 1 REGISTER\r\n\r\n"), []byte{}, uint8(1), uint8(2))
	f.Add([]byte{0x01, 0x01, 0, 0, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, []byte{}, uint8(1), uint8(1))
	for _, tc := range rfc4475data.Messages(f) {
		f.Add(tc.Msg, []byte{}, uint8(0), uint8(0))
		f.Add(tc.Msg, []byte{}, uint8(1), uint8(1))
	}
	p := keep.New()
	entry := pick(p)
	f.Fuzz(func(t *testing.T, msg, rec []byte, dir, tr uint8) {
		if len(msg) > abi.MaxMessage || len(rec) > abi.MaxRecord {
			return
		}
		k := kind
		if k == abi.KindSTUN && len(msg) < 20 {
			k = abi.KindPong
			if kind == abi.KindSIPRequest {
				k = abi.KindPing
			}
		}
		in := abi.Input{Kind: k, Dir: abi.Direction(dir%2 + 1), Transport: abi.Transport(tr%6 + 1), Role: abi.Role(dir%2 + 1),
			Flags: uint16(tr % 4), Now: 1_700_000_000_000, Random: uint64(len(msg)), FlowID: 7, Record: rec, Message: msg}
		n := abi.EncodeInput(p.InputBuffer(), &in)
		r := entry(int32(n))
		if r < 0 {
			return
		}
		var out abi.Output
		if err := abi.DecodeOutput(p.OutputBuffer()[:r], len(msg), &out); err != nil {
			t.Fatalf("invalid output: %v", err)
		}
		// The record the plugin returns must be one it reads back.
		if out.Flags&abi.OutRecordChanged != 0 {
			in.Record = append([]byte(nil), out.Record...)
			in.Kind = abi.KindNone
			n = abi.EncodeInput(p.InputBuffer(), &in)
			r2 := p.OnTimer(int32(n))
			if r2 < 0 {
				t.Fatalf("on_timer on the returned record: errno %d", -r2)
			}
			var o2 abi.Output
			if err := abi.DecodeOutput(p.OutputBuffer()[:r2], 0, &o2); err != nil {
				t.Fatal(err)
			}
			if o2.Reason == abi.ReasonBadRecord {
				t.Fatalf("the plugin cannot read its own record")
			}
		}
	})
}

func FuzzOnRequestSIP(f *testing.F) {
	fuzzEntry(f, abi.KindSIPRequest, func(p *keep.Plugin) func(int32) int32 { return p.OnRequest })
}

func FuzzOnResponseSIP(f *testing.F) {
	fuzzEntry(f, abi.KindSIPResponse, func(p *keep.Plugin) func(int32) int32 { return p.OnResponse })
}

func FuzzOnResponseSTUN(f *testing.F) {
	fuzzEntry(f, abi.KindSTUN, func(p *keep.Plugin) func(int32) int32 { return p.OnResponse })
}

func FuzzOnTimer(f *testing.F) {
	fuzzEntry(f, abi.KindNone, func(p *keep.Plugin) func(int32) int32 { return p.OnTimer })
}
