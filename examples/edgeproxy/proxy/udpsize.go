package proxy

import (
	"errors"
	"syscall"

	"github.com/emiago/sipgo/sip"
)

// Large messages over UDP.
//
// sipgo refuses to write any UDP message within 200 bytes of its
// sip.UDPMTUSize (1500), silently for the caller of tx.Respond: a 200 to a
// REGISTER listing 20 contacts, or answering a REGISTER with 100 Vias,
// never left, and that user's registrations went unanswered. RFC 3261
// §18.2.2 sends a response over the transport its request came on, and an
// edge proxy cannot switch a NATed UA's UDP flow to TCP; IP fragmentation
// is what RFC 3261 §18.1.1 leaves for a message that must stay on UDP.
// So the proxy lifts sipgo's limit to the largest UDP payload IPv4
// carries and lets the kernel fragment; what the kernel still refuses is
// logged and counted (edgeproxy_send_failures_total).
//
// Requests are different: RFC 3261 §18.1.1 sends a request over 1300 bytes
// (path MTU unknown) on a congestion-controlled transport, so a large
// request that is not bound to a registered UDP flow is forwarded over TCP
// when the proxy serves TCP (see preferTCP).

// maxUDPPayload is the largest datagram payload over IPv4 (65535 less the
// IP and UDP headers).
const maxUDPPayload = 65507

// udpRequestLimit is RFC 3261 §18.1.1's size above which a request goes
// over TCP when the path MTU is unknown.
const udpRequestLimit = 1300

// sip.UDPMTUSize is a package variable of sipgo, read on every UDP write:
// set once, before any proxy exists, so it is never written concurrently
// with a read. It applies to every sipgo user in the process, which for
// this command is the proxy alone.
func init() { sip.UDPMTUSize = maxUDPPayload + 200 }

// sendFailure names why a message could not be sent, from a bounded set
// (a metric label).
func sendFailure(err error) string {
	switch {
	case errors.Is(err, sip.ErrUDPMTUCongestion), errors.Is(err, syscall.EMSGSIZE):
		return "too_large"
	case errors.Is(err, sip.ErrTransactionTerminated), errors.Is(err, sip.ErrTransactionCanceled):
		return "transaction_ended"
	default:
		return "transport"
	}
}

// preferTCP reports whether a request (not yet prepared) bound for tgt over UDP should go
// over TCP instead (RFC 3261 §18.1.1): it is larger than udpRequestLimit
// with our Via, is not for a registered UDP flow (which only UDP reaches),
// and the proxy serves TCP.
func (p *Proxy) preferTCP(fwd *sip.Request, tgt target) bool {
	if tgt.Flow != nil || tgt.Transport != "UDP" || !p.hasTransport("tcp") {
		return false
	}
	const room = 200 // our Via and Record-Route, added after this check
	return len(fwd.String())+room > udpRequestLimit
}
