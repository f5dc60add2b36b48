package keeptest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/internal/testwasm"
	"github.com/sipkeep/sipkeep/plugin/keep"
	"github.com/sipkeep/sipkeep/plugin/keeptest"
)

// guests returns the native plugin and wasm instances side by side: "wasm"
// as every sipkeep host loads the module (its jumps made direct,
// internal/wasmjump) and "wasm-as-built", exactly as Go built it.
func guests(tb testing.TB) (map[string]keeptest.Guest, func()) {
	gs := map[string]keeptest.Guest{"native": keep.New()}
	var closers []func() error
	for name, compile := range map[string]func(context.Context, string) (*keeptest.WasmModule, error){
		"wasm": keeptest.CompileWasm, "wasm-as-built": keeptest.CompileWasmAsBuilt,
	} {
		m, err := compile(context.Background(), testwasm.Path(tb))
		if err != nil {
			tb.Fatal(err)
		}
		w, err := m.NewGuest(context.Background())
		if err != nil {
			tb.Fatal(err)
		}
		gs[name] = w
		closers = append(closers, m.Close)
	}
	return gs, func() {
		for _, c := range closers {
			c()
		}
	}
}

// engines are the guests each benchmark runs, in this order.
var engines = []string{"native", "wasm", "wasm-as-built"}

// BenchmarkCall is the per-call cost of the hot path for 1 KB messages, the
// same code native and in wasm in one run (targets: ≤ 2 µs in wasm, within
// 5× of native, 0 guest allocations).
func BenchmarkCall(b *testing.B) {
	gs, done := guests(b)
	defer done()
	msgs := []struct {
		name string
		kind abi.Kind
		dir  abi.Direction
		msg  string
	}{
		{"REGISTER/on_request", abi.KindSIPRequest, abi.DirOut, keeptest.BenchRegister},
		{"REGISTER/on_response", abi.KindSIPResponse, abi.DirOut, keeptest.ResponseTo(keeptest.BenchRegister, "200 OK")},
		{"INVITE/on_request", abi.KindSIPRequest, abi.DirOut, keeptest.BenchInvite},
		{"INVITE/on_response", abi.KindSIPResponse, abi.DirOut, keeptest.ResponseTo(keeptest.BenchInvite, "180 Ringing")},
	}
	for _, m := range msgs {
		for _, engine := range engines {
			g := gs[engine]
			b.Run(m.name+"/"+engine, func(b *testing.B) {
				entry := g.OnRequest
				if m.kind == abi.KindSIPResponse {
					entry = g.OnResponse
				}
				msg := []byte(m.msg)
				b.SetBytes(int64(len(msg)))
				b.ReportAllocs()
				for b.Loop() {
					// The input is rewritten each time, as a host does.
					n := keeptest.BenchInput(g, m.kind, m.dir, abi.RoleProxy, msg, nil)
					if r := entry(n); r < 0 {
						b.Fatalf("errno %d", -r)
					}
				}
			})
		}
	}
}

// TestWasmMemoryFlat: a million hot-path calls do not grow guest memory
// (a guest that allocated per call would grow without bound: its GC never
// runs inside a call).
func TestWasmMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("1M calls")
	}
	gs, done := guests(t)
	defer done()
	w := gs["wasm"].(*keeptest.WasmGuest)
	reg := []byte(keeptest.BenchRegister)
	resp := []byte(keeptest.ResponseTo(keeptest.BenchInvite, "180 Ringing"))
	call := func(i int) {
		if i%2 == 0 {
			w.OnRequest(keeptest.BenchInput(w, abi.KindSIPRequest, abi.DirOut, abi.RoleProxy, reg, nil))
		} else {
			w.OnResponse(keeptest.BenchInput(w, abi.KindSIPResponse, abi.DirOut, abi.RoleProxy, resp, nil))
		}
	}
	for i := 0; i < 1000; i++ {
		call(i)
	}
	before := w.MemorySize()
	for i := 0; i < 1_000_000; i++ {
		call(i)
	}
	if after := w.MemorySize(); after != before {
		t.Fatalf("guest memory grew from %d to %d bytes over 1M calls", before, after)
	}
}

// BenchmarkFixed is the fixed cost of one hot-path call with no SIP to scan:
// a CRLFCRLF ping on a flow with no record (decode, record, encode) and a
// timer with no record. It bounds what BenchmarkCall can reach in wasm.
func BenchmarkFixed(b *testing.B) {
	gs, done := guests(b)
	defer done()
	for _, c := range []struct {
		name string
		kind abi.Kind
		msg  string
	}{
		{"ping/on_request", abi.KindPing, "\r\n\r\n"},
		{"timer/on_timer", abi.KindNone, ""},
	} {
		for _, engine := range engines {
			g := gs[engine]
			b.Run(c.name+"/"+engine, func(b *testing.B) {
				entry := g.OnRequest
				if c.kind == abi.KindNone {
					entry = g.OnTimer
				}
				msg := []byte(c.msg)
				b.ReportAllocs()
				for b.Loop() {
					n := keeptest.BenchInput(g, c.kind, abi.DirIn, abi.RoleProxy, msg, nil)
					if r := entry(n); r < 0 {
						b.Fatalf("errno %d", -r)
					}
				}
			})
		}
	}
}

// BenchmarkRegistrarOK is the call the edge proxy makes for every REGISTER
// refresh (its only one: the REGISTER itself is a quiet refresh the host
// keeps out of the guest): its own ~340-byte 200 with keep=30 granted, on a
// flow whose record already holds the registration, a second later each
// time. BenchmarkCall's 1 KB messages on fresh flows are what the ≤ 2 µs
// target is measured on (BENCHMARKS.md); this one is the steady state a
// registrar lives in, where the fixed cost of a call (decode, record, encode) weighs more than the scan.
func BenchmarkRegistrarOK(b *testing.B) {
	benchRegistrar(b, [][]byte{[]byte(keeptest.RegistrarOK)}, 1000, 1)
}

// BenchmarkRegistrarManyAORs is BenchmarkRegistrarOK on a flow that
// carries many registrations (a PBX or trunk registering its lines over one
// connection; sipp registering a new AOR per call): the record holds
// maxBindings of them and each 200 adds one, evicting the first to expire.
func BenchmarkRegistrarManyAORs(b *testing.B) {
	msgs := make([][]byte, 256)
	for i := range msgs {
		msgs[i] = []byte(strings.ReplaceAll(keeptest.RegistrarOK, "user1@", fmt.Sprintf("line%03d@", i)))
	}
	benchRegistrar(b, msgs, 10, 100)
}

// benchRegistrar sends the registrar's 200s in msgs, in turn, on one flow
// (on_response, the record carried from call to call, the clock advanced
// by step ms), warm calls first, and checks each grants keep.
func benchRegistrar(b *testing.B, msgs [][]byte, step int64, warm int) {
	gs, done := guests(b)
	defer done()
	for _, engine := range engines {
		g := gs[engine]
		b.Run(engine, func(b *testing.B) {
			in := abi.Input{Kind: abi.KindSIPResponse, Dir: abi.DirOut, Transport: abi.TransportUDP, Role: abi.RoleProxy,
				Now: 1_700_000_000_000, Random: 42, FlowID: 1}
			var rec []byte
			var out abi.Output
			i := 0
			call := func() {
				in.Message = msgs[i%len(msgs)]
				i++
				r := g.OnResponse(int32(abi.EncodeInput(g.InputBuffer(), &in)))
				if r < 0 {
					b.Fatalf("errno %d", -r)
				}
				if err := abi.DecodeOutput(g.OutputBuffer()[:r], len(in.Message), &out); err != nil {
					b.Fatal(err)
				}
				if len(out.EditList) != 1 {
					b.Fatalf("keep=30 not granted: %+v", out.OutputHeader)
				}
				if out.Flags&abi.OutRecordChanged != 0 {
					rec = append(rec[:0], out.Record...)
				}
				in.Record = rec
				in.Now += step
			}
			for range warm {
				call()
			}
			b.ReportAllocs()
			for b.Loop() {
				call()
			}
		})
	}
}
