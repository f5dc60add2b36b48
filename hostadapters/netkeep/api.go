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
