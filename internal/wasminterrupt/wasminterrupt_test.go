package wasminterrupt

import (
	"context"
	"errors"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/sipkeep/sipkeep/internal/wasmbin"
)

// module is one function f(n i32) -> i32 exported as "f".
func module(body []byte) []byte {
	out := append([]byte(nil), wasmbin.Magic...)
	out = wasmbin.AppendSection(out, 1, []byte{0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f})
	out = wasmbin.AppendSection(out, 3, []byte{0x01, 0x00})
	out = wasmbin.AppendSection(out, wasmbin.SecExport, []byte{0x01, 0x01, 'f', 0x00, 0x00})
	code := wasmbin.AppendULEB([]byte{0x01}, uint32(len(body)))
	return wasmbin.AppendSection(out, wasmbin.SecCode, append(code, body...))
}

// instantiate instruments body's module and returns f and the fuel.
func instantiate(t *testing.T, body []byte) (api.Function, api.MutableGlobal) {
	t.Helper()
	bin, name, err := Instrument(module(body))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { rt.Close(ctx) })
	m, err := rt.Instantiate(ctx, bin)
	if err != nil {
		t.Fatal(err)
	}
	fuel, ok := m.ExportedGlobal(name).(api.MutableGlobal)
	if !ok {
		t.Fatalf("no exported mutable global %q", name)
	}
	return m.ExportedFunction("f"), fuel
}

// countdown loops n times: each iteration after the first takes the
// br_if back to the loop; it returns 7.
var countdown = []byte{
	0x00,       // no locals
	0x03, 0x40, // loop
	0x20, 0x00, 0x41, 0x01, 0x6b, 0x22, 0x00, // n = n - 1 (tee)
	0x41, 0x00, 0x4a, // n > 0
	0x0d, 0x00, // br_if 0: back to the loop
	0x0b,             // end
	0x41, 0x07, 0x0b, // i32.const 7; end
}

// TestFuelPerIteration: a loop burns one unit of fuel each time it reaches
// its br_if back to the top (taken or not), and a call runs out of fuel
// with a trap.
func TestFuelPerIteration(t *testing.T) {
	f, fuel := instantiate(t, countdown)
	ctx := context.Background()
	for _, c := range []struct{ n, burnt uint64 }{{1, 1}, {2, 2}, {10, 10}} {
		fuel.Set(100)
		r, err := f.Call(ctx, c.n)
		if err != nil || r[0] != 7 {
			t.Fatalf("f(%d) = %v, %v", c.n, r, err)
		}
		if got := 100 - fuel.Get(); got != c.burnt {
			t.Errorf("f(%d) burnt %d fuel, want %d (one per iteration)", c.n, got, c.burnt)
		}
	}
	fuel.Set(5)
	if _, err := f.Call(ctx, 1000); err == nil {
		t.Error("a call past its fuel did not trap")
	}
}

// TestBackEdgesOnly: the check goes before the branches to a loop, not
// before a branch out of a block, and a function without a loop is kept
// byte for byte.
func TestBackEdgesOnly(t *testing.T) {
	check := []byte{0xaa}
	out, err := instrumentFunc(nil, countdown, check)
	if err != nil {
		t.Fatal(err)
	}
	want := append(append(append([]byte(nil), countdown[:13]...), 0xaa), countdown[13:]...)
	if string(out) != string(want) {
		t.Errorf("got %x\nwant %x", out, want)
	}
	blockOnly := []byte{0x00, 0x02, 0x40, 0x20, 0x00, 0x0d, 0x00, 0x0b, 0x41, 0x07, 0x0b} // block; br_if 0; end
	if out, err := instrumentFunc(nil, blockOnly, check); err != nil || string(out) != string(blockOnly) {
		t.Errorf("a body without a back edge changed: %x, %v", out, err)
	}
}

// TestLoopEntryIsFree: entering a loop burns nothing; only a branch back to
// it does. (Go compiles every function as a loop entered on each call.)
func TestLoopEntryIsFree(t *testing.T) {
	once := []byte{0x00, 0x03, 0x40, 0x0b, 0x41, 0x07, 0x0b} // loop; end; i32.const 7
	f, fuel := instantiate(t, once)
	fuel.Set(100)
	if r, err := f.Call(context.Background(), 0); err != nil || r[0] != 7 {
		t.Fatalf("f = %v, %v", r, err)
	}
	if fuel.Get() != 100 {
		t.Errorf("entering a loop burnt %d fuel", 100-fuel.Get())
	}
}

// A module that grows a table is refused: wazero allocates the growth at
// once, outside the memory limit. table.fill, a neighbour with the same
// prefix, is not.
func TestTableGrowIsRefused(t *testing.T) {
	grow := []byte{
		0x00,                   // no locals
		0xd0, 0x70, 0x20, 0x00, // ref.null func; local.get 0
		0xfc, 0x0f, 0x00, // table.grow 0: returns the old size
		0x0b,
	}
	if _, _, err := Instrument(module(grow)); !errors.Is(err, ErrTableGrow) {
		t.Fatalf("Instrument(table.grow) = %v, want ErrTableGrow", err)
	}
	fill := []byte{
		0x00,
		0x41, 0x00, 0xd0, 0x70, 0x20, 0x00, // i32.const 0; ref.null func; local.get 0
		0xfc, 0x11, 0x00, // table.fill 0
		0x20, 0x00, 0x0b, // local.get 0; end
	}
	if _, _, err := Instrument(module(fill)); err != nil {
		t.Fatalf("Instrument(table.fill) = %v", err)
	}
}
