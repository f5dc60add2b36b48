package keep_test

import (
	"testing"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/plugin/keep"
	"github.com/sipkeep/sipkeep/plugin/keeptest"
)

// The hot path must not allocate: inside a wasm guest an allocating call
// grows without bound, since the guest's garbage collector never runs
// inside an export call (RATIONALE.md, "The hot path is a hand-written,
// zero-allocation ABI").
func TestHotPathAllocatesNothing(t *testing.T) {
	p := keep.New()
	cases := []struct {
		name  string
		kind  abi.Kind
		dir   abi.Direction
		msg   string
		entry func(int32) int32
	}{
		{"register-out", abi.KindSIPRequest, abi.DirOut, keeptest.BenchRegister, p.OnRequest},
		{"invite-out", abi.KindSIPRequest, abi.DirOut, keeptest.BenchInvite, p.OnRequest},
		{"register-200-out", abi.KindSIPResponse, abi.DirOut, keeptest.ResponseTo(keeptest.BenchRegister, "200 OK"), p.OnResponse},
		{"invite-180-out", abi.KindSIPResponse, abi.DirOut, keeptest.ResponseTo(keeptest.BenchInvite, "180 Ringing"), p.OnResponse},
		{"timer", abi.KindNone, abi.DirIn, "", p.OnTimer},
	}
	for _, c := range cases {
		n := keeptest.BenchInput(p, c.kind, c.dir, abi.RoleProxy, []byte(c.msg), nil)
		if got := testing.AllocsPerRun(200, func() {
			if r := c.entry(n); r < 0 {
				t.Fatalf("%s: errno %d", c.name, -r)
			}
		}); got != 0 {
			t.Errorf("%s: %v allocations per call", c.name, got)
		}
	}
}
