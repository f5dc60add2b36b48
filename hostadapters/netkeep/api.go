// Package netkeep puts sipkeep under any Go SIP server or client built on the
// net package, at the socket: it wraps a UDP net.PacketConn, a stream
// net.Listener or a dialed net.Conn so that
//
//   - STUN on a UDP SIP port is demultiplexed from SIP (never handed to the
//     SIP parser): Binding requests are answered (RFC 5389 XOR-MAPPED-ADDRESS,
//     RFC 3489 MAPPED-ADDRESS) with pion/stun, responses to our own keep-alives
//     go to the plugin;
//   - on streams, CRLFs are consumed only at a message boundary, every
//     CRLFCRLF ping is answered with a CRLF pong (also split across reads or
//     sharing a read with a message), pongs go to the plugin, and messages are
//     framed by Content-Length (RFC 5626 K1, K2, K6);
//   - every SIP message read is shown to the plugin (direction in) and every
//     SIP message written passes through it (direction out) and leaves with
//     the plugin's edits applied (";keep", "keep=N");
//   - the plugin's actions are carried out on the right socket: STUN Binding
//     requests from the flow's own UDP socket (same 5-tuple as the SIP
//     traffic, so they refresh the same NAT binding), CRLFCRLF pings on the
//     stream, failed flows closed and reported.
//
// # Framing under hostile input
//
// A stream is framed once, by netkeep, and the reader above gets exactly the
// messages the plugin was shown, one message per Read (a read never ends a
// header section just after a line's CRLF, where a stream parser could not
// tell whether the next line folds). The framer is incremental: each header
// line is scanned once however the bytes arrive, so a peer dribbling a body
// behind thousands of folded lines costs a few bytes of work per byte sent.
// It is strict where readers differ: a stream message must have exactly one
// Content-Length (or "l"), of digits; NUL, a bare CR or LF, a header line
// without a token name and a colon, a continuation line right after the
// start line, and anything but a start line after the keep-alive CRLFs at a
// message boundary (RFC 5626 §3.5.1) are framing errors (ErrFraming).
//
// Limits (Limits, WithLimits; DefaultLimits):
//
//	message             65,535 B  513 Message Too Large (RFC 3261 §21.5.14)
//	header section      32 KiB    513
//	header lines        256       400 Too Many Headers
//	continuation lines  16 per header field   400
//	message timeout     30 s from a message's first byte to its last
//	idle timeout        3 min on an accepted stream (see below)
//
// A request over a limit or malformed is answered (400, or 513 for size)
// when its Via, From, To, Call-ID and CSeq were read whole and it is not an
// ACK; then the stream closes, its buffers with it. A stream holds at most
// about one message plus a 4 KiB read window while a message arrives, and at
// most 4 KiB once drained. Stats counts framing errors, answers and
// timeouts.
//
// The idle timeout closes an accepted stream on which nothing has passed
// either way, unless the plugin keeps the flow alive (it started sending or
// expecting keep-alives: its failure detection governs the stream, and once
// it reports the flow dead the idle timeout applies again) or a 2xx to a
// REGISTER went out on it: a UA registered over a connection without
// keep-alives is reached over that connection until its registration ends,
// so only the registrar, the UA or TCP keep-alive failure (Go enables TCP
// keep-alives on accepted connections) ends it. Dialed streams have no idle
// timeout.
//
// UDP datagrams get the same header checks (at most one Content-Length,
// well-formed lines, the same limits) and are cut after their Content-Length
// (RFC 3261 §18.3); a datagram that fails is dropped and counted.
package netkeep

// This file pins the API other adapters (sipgo, examples) build on.

import (
	"time"

	"context"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/host"
)

// Handler is what the wrappers call for each message: *host.Host implements it.
type Handler interface {
	Handle(ctx context.Context, ev host.Event) host.Result
}

// Forgetter is implemented by handlers that keep per-flow state (*host.Host
// does): a closed stream's flow is forgotten at once.
type Forgetter interface {
	Forget(f host.Flow)
}

// FlowEvent tells the application about a flow's keep-alive life: started,
// answered, failed (our keep-alives went unanswered: re-register, drop the
// contact), dead (as receiver, nothing arrived for too long).
type FlowEvent struct {
	Flow   host.Flow
	Action abi.Action // Kind says what happened, Reason why
	// Time is when netkeep acted: for a send, just before the bytes left,
	// so the event of a ping always precedes that of its pong, which
	// another goroutine may report before the send returns.
	Time time.Time
	// Closed: the stream closed (either side); Action is zero. Whatever was
	// registered over the flow can no longer be reached through it.
	Closed bool
}
