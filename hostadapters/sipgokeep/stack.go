package sipgokeep

import (
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Handler returns h with its goroutine's stack grown once, up front, to
// what a plugin call needs.
//
// sipgo runs every request handler on a new goroutine, which starts with a
// 2 KB stack. The response the handler sends (or the request it forwards)
// is written through netkeep, which calls the plugin, and the call into
// wazero needs several KB more (wazero's callWithStack alone has a 2.3 KB
// frame). Without this the stack grows right there: the runtime copies
// every frame on it, ~25 of sipgo's by then, on every message. Growing it
// at the top of the handler, while it is shallow, copies a handful. On the
// edge proxy's REGISTER load this took ~4 µs of CPU off each REGISTER
// (an A/B of BenchmarkEdgeProxy); without a plugin it costs one 12 KB zeroing.
func Handler(h sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		growStack()
		h(req, tx)
	}
}

// stackPad is sized so the stack reaches 16 KB (the largest size the
// runtime keeps in its per-P stack cache): the edge proxy's write path
// outgrew 8 KB (a uprobe on runtime.morestack still caught growths in
// host.(*instance).invoke with a 6 KB pad). A goroutine whose stack is
// already larger is not affected.
const stackPad = 12 << 10

// growStack has a frame of stackPad bytes: calling it grows the stack (once)
// to fit. The frame must really be used, or the compiler drops it.
//
//go:noinline
func growStack() {
	var pad [stackPad]byte
	touchPad(&pad)
}

//go:noinline
func touchPad(p *[stackPad]byte) { p[len(p)-1] = 1 }
