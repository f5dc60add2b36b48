package wasmjump

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/sipkeep/sipkeep/internal/testwasm"
	"github.com/sipkeep/sipkeep/internal/wasmbin"
)

// goShaped is a function laid out as Go's wasm backend lays out every
// function, f(pc_b, x): a dispatch loop over three segments, a forward
// jump (x > 10: to segment 2) and a back edge (segment 1 loops while x > 0).
//
//	segment 0: if x > 10 { goto 2 }
//	segment 1: acc += x; x--; if x > 0 { goto 1 }
//	segment 2: return acc*2 + x
func goShaped(segment1 ...byte) []byte {
	b := []byte{
		0x01, 0x01, 0x7f, // one local: acc i32
		0x03, 0x40, // loop
		0x02, 0x40, 0x02, 0x40, 0x02, 0x40, // block ×3
		0x20, 0x00, // local.get 0
		0x0e, 0x03, 0x00, 0x01, 0x02, 0x00, // br_table 0 1 2 (default 0)
		0x0b,                         // end: segment 0
		0x20, 0x01, 0x41, 0x0a, 0x4a, // x > 10
		0x04, 0x40, 0x41, 0x02, 0x21, 0x00, 0x0c, 0x03, 0x0b, // if { pc_b = 2; br loop }
		0x0b, // end: segment 1
	}
	b = append(b, segment1...)
	b = append(b,
		0x20, 0x02, 0x20, 0x01, 0x6a, 0x21, 0x02, // acc += x
		0x20, 0x01, 0x41, 0x01, 0x6b, 0x22, 0x01, 0x41, 0x00, 0x4a, // x--; x > 0
		0x04, 0x40, 0x41, 0x01, 0x21, 0x00, 0x0c, 0x02, 0x0b, // if { pc_b = 1; br loop }
		0x0b,                                                 // end: segment 2
		0x20, 0x02, 0x41, 0x02, 0x6c, 0x20, 0x01, 0x6a, 0x0f, // return acc*2 + x
		0x0b, 0x00, 0x0b, // end loop; unreachable; end
	)
	return b
}

// module wraps function bodies of type (i32, i32) -> i32, the first
// exported as "f".
func module(bodies ...[]byte) []byte {
	out := append([]byte(nil), wasmbin.Magic...)
	out = wasmbin.AppendSection(out, 1, []byte{0x01, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f})
	funcs := wasmbin.AppendULEB(nil, uint32(len(bodies)))
	for range bodies {
		funcs = append(funcs, 0x00)
	}
	out = wasmbin.AppendSection(out, 3, funcs)
	out = wasmbin.AppendSection(out, 7, []byte{0x01, 0x01, 'f', 0x00, 0x00})
	code := wasmbin.AppendULEB(nil, uint32(len(bodies)))
	for _, b := range bodies {
		code = wasmbin.AppendULEB(code, uint32(len(b)))
		code = append(code, b...)
	}
	return wasmbin.AppendSection(out, wasmbin.SecCode, code)
}

// code is a module's code section (its size written either way).
func code(t *testing.T, wasm []byte) []byte {
	t.Helper()
	secs, err := wasmbin.Sections(wasm)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secs {
		if s.ID == wasmbin.SecCode {
			return s.Body
		}
	}
	t.Fatal("no code section")
	return nil
}

func TestThreadGoShapedFunction(t *testing.T) {
	in := module(goShaped())
	out, st, err := Thread(in)
	if err != nil {
		t.Fatal(err)
	}
	if st != (Stats{Functions: 1, Direct: 1, Left: 1}) {
		t.Errorf("stats %+v, want 1 function, 1 direct jump, 1 left", st)
	}
	// The forward jump is now `br 2` (the block whose end starts segment
	// 2, seen from inside the if); the entry branches to segment 0.
	want := goShaped()
	want = bytes.Replace(want, []byte{0x41, 0x02, 0x21, 0x00, 0x0c, 0x03}, []byte{0x0c, 0x02}, 1)
	want = bytes.Replace(want, []byte{0x20, 0x00, 0x0e}, []byte{0x20, 0x00, 0x45, 0x0d, 0x00, 0x20, 0x00, 0x0e}, 1)
	if got := code(t, out); !bytes.Equal(got, code(t, module(want))) {
		t.Errorf("rewritten code\n got %x\nwant %x", got, code(t, module(want)))
	}
	sameResults(t, in, out, -3, 0, 1, 5, 10, 11, 40)
}

// brIfBody is a plain function (no dispatch) of f(x, y) with three
// br_ifs: the first, to an empty block, is first (br_if 0, or its
// rewrite); one carries a block's result, one the function's.
func brIfBody(first ...byte) []byte {
	b := []byte{0x00, // no locals
		0x02, 0x40, // block
		0x20, 0x01} // local.get 1
	b = append(b, first...) // br_if 0, or its rewrite
	return append(b,
		0x02, 0x7f, // block (result i32)
		0x41, 0x07, 0x20, 0x01, 0x41, 0x01, 0x46, // 7, y == 1
		0x0d, 0x00, // br_if 0: carries the 7, stays
		0x1a, 0x41, 0x09, // drop; 9
		0x0b, 0x0f, // end; return
		0x0b,                                     // end
		0x41, 0x05, 0x20, 0x01, 0x41, 0x02, 0x46, // 5, y == 2
		0x0d, 0x00, // br_if 0: the function's body, stays
		0x1a, 0x41, 0x03, // drop; 3
		0x0b)
}

// TestThreadConditionalBranches: in a function without Go's dispatch, a
// br_if to a construct without parameters or results becomes if/br/end;
// one to a block with a result, or to the function's body, stays.
func TestThreadConditionalBranches(t *testing.T) {
	in := module(brIfBody(0x0d, 0x00))
	out, st, err := Thread(in)
	if err != nil {
		t.Fatal(err)
	}
	if st != (Stats{CondBr: 1}) {
		t.Errorf("stats %+v, want 1 conditional branch rewritten", st)
	}
	want := code(t, module(brIfBody(0x04, 0x40, 0x0c, 0x01, 0x0b)))
	if got := code(t, out); !bytes.Equal(got, want) {
		t.Errorf("rewritten code\n got %x\nwant %x", got, want)
	}
	sameResults(t, in, out, 0, 1, 2, 5)
}

// TestThreadKeepsGoBrIf: in a function with Go's dispatch, a br_if stays
// (see the package comment).
func TestThreadKeepsGoBrIf(t *testing.T) {
	brIf := []byte{0x02, 0x40, 0x20, 0x01, 0x0d, 0x00, 0x0b} // block; local.get 1; br_if 0; end
	in := module(goShaped(brIf...))
	out, st, err := Thread(in)
	if err != nil {
		t.Fatal(err)
	}
	if st.CondBr != 0 || st.Functions != 1 || !bytes.Contains(code(t, out), brIf) {
		t.Errorf("stats %+v: the br_if of a Go-shaped function must stay", st)
	}
	sameResults(t, in, out, -3, 0, 1, 5, 10, 11, 40)
}

// TestThreadLeavesLivePCB: a segment that reads local 0 before writing it
// could observe the write a direct jump drops, so its function is kept.
func TestThreadLeavesLivePCB(t *testing.T) {
	in := module(goShaped(0x20, 0x00, 0x1a)) // local.get 0; drop
	out, st, err := Thread(in)
	if err != nil {
		t.Fatal(err)
	}
	// Its jumps stay through the dispatch, and a Go-shaped function's
	// br_ifs are never rewritten (TestThreadKeepsGoBrIf).
	if st.Functions != 0 || !bytes.Equal(code(t, out), code(t, in)) {
		t.Errorf("a function reading PC_B was rewritten: %+v", st)
	}
}

// TestThreadLeavesOtherFunctions: a function without Go's dispatch loop
// (hand-written assembly, a wasmexport wrapper) is copied as it is.
func TestThreadLeavesOtherFunctions(t *testing.T) {
	plain := []byte{0x00, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b} // x + y
	in := module(plain, goShaped())
	out, st, err := Thread(in)
	if err != nil {
		t.Fatal(err)
	}
	if st.Functions != 1 || !bytes.Contains(out, append([]byte{byte(len(plain))}, plain...)) {
		t.Errorf("stats %+v; the plain function must be kept as it is", st)
	}
}

func TestThreadRejectsBadInput(t *testing.T) {
	for name, in := range map[string][]byte{
		"not wasm":  []byte("hello, world"),
		"truncated": module(goShaped())[:30],
		"bad op":    module([]byte{0x00, 0xfe, 0x0b}),
	} {
		if _, _, err := Thread(in); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestThreadPlugin rewrites the real plugin: most of its functions are Go's
// and most of their jumps go forward; wazero must accept the result
// (plugin/keeptest compares the two modules' behaviour call by call).
func TestThreadPlugin(t *testing.T) {
	in, err := os.ReadFile(testwasm.Path(t))
	if err != nil {
		t.Fatal(err)
	}
	out, st, err := Thread(in)
	if err != nil {
		t.Fatal(err)
	}
	if st.Functions < 1000 || st.Direct < 5*st.Left || st.CondBr < 1000 {
		t.Errorf("stats %+v: fewer functions, direct jumps or br_ifs than Go's output and the scanner have", st)
	}
	t.Logf("%+v", st)
	rt := wazero.NewRuntime(context.Background())
	defer rt.Close(context.Background())
	if _, err := rt.CompileModule(context.Background(), out); err != nil {
		t.Fatalf("the rewritten plugin does not compile: %v", err)
	}
}

// FuzzThread: Thread never panics, and a module wazero accepts is still
// accepted after the rewrite, computing the same results.
func FuzzThread(f *testing.F) {
	f.Add(module(goShaped()))
	f.Add(module(goShaped(0x20, 0x00, 0x1a)))
	f.Add(module(brIfBody(0x0d, 0x00)))
	f.Fuzz(func(t *testing.T, in []byte) {
		out, _, err := Thread(in)
		if err != nil {
			return
		}
		// The host refuses such modules before compiling (wazero's decoder
		// would reserve room for a section's declared entry count first);
		// so does this harness, which compiles its input too.
		if secs, err := wasmbin.Sections(in); err != nil || wasmbin.CheckVectorCounts(secs) != nil {
			return
		}
		ctx := context.Background()
		rt := wazero.NewRuntime(ctx)
		defer rt.Close(ctx)
		if _, err := rt.CompileModule(ctx, in); err != nil {
			return
		}
		if _, err := rt.CompileModule(ctx, out); err != nil {
			t.Fatalf("valid module made invalid: %v", err)
		}
		sameResults(t, in, out, -1, 3, 12)
	})
}

// sameResults calls f(0, x) in both modules, bounded in time, and compares.
func sameResults(t *testing.T, a, b []byte, xs ...int32) {
	t.Helper()
	ctx := context.Background()
	// The host's memory limit (host.WithMemoryLimitPages, default 512):
	// with wazero's own, 65,536 pages, a 15-byte module declaring 52,119
	// pages made each instance allocate 3.4 GB (FuzzThread, out of memory).
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(true).WithMemoryLimitPages(512))
	defer rt.Close(ctx)
	timedOut := false
	call := func(bin []byte, x int32) (uint64, bool) {
		m, err := rt.InstantiateWithConfig(ctx, bin, wazero.NewModuleConfig().WithName(""))
		if err != nil {
			return 0, false
		}
		defer m.Close(ctx)
		fn := m.ExportedFunction("f")
		if fn == nil || len(fn.Definition().ParamTypes()) != 2 || len(fn.Definition().ResultTypes()) != 1 {
			return 0, false
		}
		cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		r, err := fn.Call(cctx, 0, uint64(uint32(x)))
		if err != nil {
			timedOut = timedOut || cctx.Err() != nil
			return 0, false
		}
		return r[0], true
	}
	for _, x := range xs {
		ra, oka := call(a, x)
		rb, okb := call(b, x)
		if timedOut {
			return // (the rewrite is faster: one may finish in time and not the other)
		}
		if oka != okb || ra != rb {
			t.Errorf("f(0, %d): %d (%v) as built, %d (%v) rewritten", x, int32(ra), oka, int32(rb), okb)
		}
	}
}

// BenchmarkThread is the rewrite's share of loading the plugin (the host
// runs it before every compile, cached or not).
func BenchmarkThread(b *testing.B) {
	in, err := os.ReadFile(testwasm.Path(b))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Thread(in); err != nil {
			b.Fatal(err)
		}
	}
}

// TestThreadLeavesForeignControl: a function with an instruction Go never
// emits (here try … end, which also opens a construct) is copied as it is.
func TestThreadLeavesForeignControl(t *testing.T) {
	body := goShaped()
	// try; end as the first instructions after the locals.
	body = append(append(append([]byte(nil), body[:3]...), 0x06, 0x40, 0x0b), body[3:]...)
	out, st, err := Thread(module(body))
	if err != nil {
		t.Fatal(err)
	}
	if st.Functions != 0 || !bytes.Equal(code(t, out), code(t, module(body))) {
		t.Errorf("a function with try was rewritten: %+v", st)
	}
}
