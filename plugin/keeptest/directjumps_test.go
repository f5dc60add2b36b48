package keeptest_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/internal/testwasm"
	"github.com/sipkeep/sipkeep/plugin/keep"
	"github.com/sipkeep/sipkeep/plugin/keeptest"
)

// twinGuest runs every call on the module as hosts load it (jumps made
// direct, internal/wasmjump) and on the module as Go built it, and fails
// the test when the two differ in a byte of their result or output.
type twinGuest struct {
	t       *testing.T
	direct  *keeptest.WasmGuest
	asBuilt *keeptest.WasmGuest
	calls   int
}

func (g *twinGuest) InputBuffer() []byte  { return g.direct.InputBuffer() }
func (g *twinGuest) OutputBuffer() []byte { return g.direct.OutputBuffer() }
func (g *twinGuest) OnRequest(n int32) int32 {
	return g.both(n, g.direct.OnRequest, g.asBuilt.OnRequest)
}
func (g *twinGuest) OnResponse(n int32) int32 {
	return g.both(n, g.direct.OnResponse, g.asBuilt.OnResponse)
}
func (g *twinGuest) OnTimer(n int32) int32 { return g.both(n, g.direct.OnTimer, g.asBuilt.OnTimer) }

func (g *twinGuest) Configure(p keep.Policy) error {
	if err := g.asBuilt.Configure(p); err != nil {
		return err
	}
	return g.direct.Configure(p)
}

func (g *twinGuest) both(n int32, direct, asBuilt func(int32) int32) int32 {
	g.t.Helper()
	// The harness wrote the input into the direct guest's buffer.
	copy(g.asBuilt.InputBuffer(), g.direct.InputBuffer()[:max(n, 0)])
	want := asBuilt(n)
	got := direct(n)
	g.calls++
	if got != want {
		g.t.Fatalf("call %d: direct jumps returned %d, as built %d", g.calls, got, want)
	}
	if got > 0 && !bytes.Equal(g.direct.OutputBuffer()[:got], g.asBuilt.OutputBuffer()[:got]) {
		g.t.Fatalf("call %d: the outputs differ\ndirect:   %x\nas built: %x", g.calls,
			g.direct.OutputBuffer()[:got], g.asBuilt.OutputBuffer()[:got])
	}
	return got
}

// twinModules compiles the plugin both ways once and returns a maker of
// twin guests, each a fresh instance of both, closed with the test.
func twinModules(t *testing.T) func(*testing.T) *twinGuest {
	ctx := context.Background()
	direct, err := keeptest.CompileWasm(ctx, testwasm.Path(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { direct.Close() })
	asBuilt, err := keeptest.CompileWasmAsBuilt(ctx, testwasm.Path(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { asBuilt.Close() })
	return func(t *testing.T) *twinGuest {
		d, err := direct.NewGuest(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		a, err := asBuilt.NewGuest(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		return &twinGuest{t: t, direct: d, asBuilt: a}
	}
}

// TestDirectJumpsSameResults runs every conformance case on the module with
// its jumps made direct and on the module as Go built it, call by call: the
// rewrite must not change a byte of any result.
func TestDirectJumpsSameResults(t *testing.T) {
	newTwin := twinModules(t)
	total := 0
	for _, c := range keeptest.Cases {
		t.Run(c.ID+"/"+c.Name, func(t *testing.T) {
			g := newTwin(t)
			c.Run(t, keeptest.New(t, g))
			total += g.calls
		})
	}
	if total < 100 {
		t.Fatalf("only %d calls compared", total)
	}
}

// TestDirectJumpsSameResultsOnMutations compares the two modules on random
// edits of real messages, fed to every entry in both directions and roles,
// with and without the record the previous call returned: the malformed,
// odd and unusual paths the conformance cases do not take.
func TestDirectJumpsSameResultsOnMutations(t *testing.T) {
	g := twinModules(t)(t)
	seeds := []string{
		keeptest.BenchRegister, keeptest.BenchInvite, keeptest.RegistrarOK,
		keeptest.ResponseTo(keeptest.BenchRegister, "200 OK"),
		keeptest.ResponseTo(keeptest.BenchInvite, "180 Ringing"),
		keeptest.ResponseTo(keeptest.BenchInvite, "486 Busy Here"),
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var rec []byte
	n := 3000
	if testing.Short() {
		n = 300
	}
	for i := range n {
		msg := mutate(rng, []byte(seeds[i%len(seeds)]))
		kind := abi.KindSIPRequest
		if msg[0] == 'S' {
			kind = abi.KindSIPResponse
		}
		dir := abi.Direction(1 + rng.IntN(2))
		role := abi.Role(1 + rng.IntN(2))
		if rng.IntN(4) == 0 {
			rec = nil
		}
		in := keeptest.BenchInput(g, kind, dir, role, msg, rec)
		var r int32
		if kind == abi.KindSIPRequest {
			r = g.OnRequest(in)
		} else {
			r = g.OnResponse(in)
		}
		if r > 0 {
			var out abi.Output
			if abi.DecodeOutput(g.OutputBuffer()[:r], len(msg), &out) == nil && out.Flags&abi.OutRecordChanged != 0 {
				rec = append(rec[:0], out.Record...)
			}
		}
	}
}

// mutate applies one to four random edits: a byte changed, a byte
// removed, a run repeated, the message cut.
func mutate(rng *rand.Rand, b []byte) []byte {
	for range 1 + rng.IntN(4) {
		if len(b) < 2 {
			break
		}
		i := 1 + rng.IntN(len(b)-1)
		switch rng.IntN(4) {
		case 0:
			b[i] = " ;=,:\r\n\t\"<>0123456789abcKEP"[rng.IntN(27)]
		case 1:
			b = append(b[:i], b[i+1:]...)
		case 2:
			j := min(len(b), i+rng.IntN(16))
			b = append(b[:j], append(append([]byte(nil), b[i:j]...), b[j:]...)...)
		case 3:
			b = b[:i]
		}
	}
	return b
}
