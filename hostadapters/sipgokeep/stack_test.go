package sipgokeep

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

// Handler only adds the stack growth: the wrapped handler gets the same
// request and transaction.
func TestHandlerPassesThrough(t *testing.T) {
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Host: "127.0.0.1"})
	var got *sip.Request
	calls := 0
	Handler(func(r *sip.Request, tx sip.ServerTransaction) { got, calls = r, calls+1 })(req, nil)
	if calls != 1 || got != req {
		t.Fatalf("wrapped handler called %d times with %p, want once with %p", calls, got, req)
	}
}

// BenchmarkHandlerStack: a new goroutine that reaches a deep call with a
// large frame (as a plugin call from deep in sipgo does) with and without
// growing its stack first. The difference is the copy of the deep stack.
func BenchmarkHandlerStack(b *testing.B) {
	for _, bc := range []struct {
		name string
		pre  bool
	}{{"deep-growth", false}, {"grown-up-front", true}} {
		b.Run(bc.name, func(b *testing.B) {
			done := make(chan struct{})
			for b.Loop() {
				go func() {
					if bc.pre {
						growStack()
					}
					deep(25)
					done <- struct{}{}
				}()
				<-done
			}
		})
	}
}

//go:noinline
func deep(n int) byte {
	if n == 0 {
		var frame [2300]byte // like wazero's callWithStack
		touchFrame(&frame)
		return frame[0]
	}
	var local [64]byte
	local[n%64] = byte(n)
	return deep(n-1) + local[n%64]
}

//go:noinline
func touchFrame(p *[2300]byte) { p[len(p)-1] = 1 }
