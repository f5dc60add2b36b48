package proxy

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// respond sends a locally generated response on tx.
func (p *Proxy) respond(req *sip.Request, tx sip.ServerTransaction, code int, reason string, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	p.send(tx, res)
}

// send sends a response on tx; a failure is counted and logged (a
// response too large to send is an operator's problem, so it is a
// warning; a transaction that ended or a flow that closed is routine).
func (p *Proxy) send(tx sip.ServerTransaction, res *sip.Response) {
	if err := tx.Respond(res); err != nil {
		p.sendFailed(res, err)
	}
}

func (p *Proxy) sendFailed(res *sip.Response, err error) {
	reason := sendFailure(err)
	p.mt.sendFailures.WithLabelValues(reason).Inc()
	lvl := slog.LevelDebug
	if reason == "too_large" {
		lvl = slog.LevelWarn
	}
	p.log.Log(context.Background(), lvl, "response not sent", "code", res.StatusCode, "reason", reason,
		"transport", res.Transport(), "to", res.Destination(), "err", err)
}

// onOptions answers OPTIONS addressed to the proxy itself (a keep-alive probe
// or a health check); any other OPTIONS is proxied.
func (p *Proxy) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	if req.Route() == nil && req.Recipient.User == "" && p.isUs(req.Recipient) {
		p.mt.requests.WithLabelValues("OPTIONS", "local").Inc()
		p.respond(req, tx, 200, "OK", sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, SUBSCRIBE, NOTIFY, REFER, UPDATE, INFO, MESSAGE, PRACK"))
		return
	}
	p.onRequest(req, tx)
}

// onRequest proxies any request other than REGISTER, ACK and CANCEL
// statefully (RFC 3261 §16): route, add our Via (and Record-Route for
// dialog-forming requests), send on a client transaction, and relay every
// response upstream with our Via removed.
func (p *Proxy) onRequest(req *sip.Request, tx sip.ServerTransaction) {
	method := methodLabel(req.Method)
	if mf := req.MaxForwards(); mf != nil && mf.Val() <= 1 {
		p.mt.requests.WithLabelValues(method, "483").Inc()
		p.respond(req, tx, 483, "Too Many Hops")
		return
	}
	fwd := req.Clone()
	tgt, err := p.route(fwd)
	if err != nil {
		var re *routeError
		if errors.As(err, &re) {
			p.mt.requests.WithLabelValues(method, itoa(re.code)).Inc()
			p.respond(req, tx, re.code, re.reason)
			return
		}
		p.respond(req, tx, 500, "Server Internal Error")
		return
	}
	if p.preferTCP(fwd, tgt) {
		tgt.Transport = "TCP"
	}
	p.prepare(fwd, req, tgt)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ctr, err := p.cli.TransactionRequest(ctx, fwd, sipgo.ClientRequestAddVia, p.ad.ClientRequestFlow)
	if err != nil {
		p.log.Info("forward failed", "req", req.StartLine(), "to", tgt.Destination, "err", err)
		p.mt.requests.WithLabelValues(method, "503").Inc()
		p.respond(req, tx, 503, "Service Unavailable")
		return
	}
	p.mt.requests.WithLabelValues(method, "forwarded").Inc()
	if req.IsInvite() {
		// CANCEL from upstream: sipgo has already answered it 200 and the
		// INVITE 487; cancel the branch downstream too.
		tx.OnCancel(func(*sip.Request) { go p.cancelBranch(fwd) })
	}
	for {
		select {
		case res, ok := <-ctr.Responses():
			if !ok {
				return
			}
			if res.StatusCode == 100 {
				continue // hop-by-hop; sipgo's server tx sends its own
			}
			p.send(tx, relayResponse(res, req))
			if res.StatusCode < 200 {
				continue
			}
			if res.IsSuccess() && req.IsInvite() {
				// 2xx retransmissions reach us on the client transaction
				// and must be relayed too (the server tx is gone after the
				// first 2xx).
				go p.relayRetransmissions(ctr, req)
			}
			return
		case <-ctr.Done():
			if err := ctr.Err(); err != nil {
				code, reason := 408, "Request Timeout"
				if errors.Is(err, sip.ErrTransactionTransport) {
					code, reason = 503, "Service Unavailable"
				}
				p.respond(req, tx, code, reason)
			}
			return
		}
	}
}

// prepare turns the clone of a received request into the request we send:
// request-URI, Max-Forwards, Record-Route, transport and destination. Our
// Via is added by sipgo.ClientRequestAddVia when it is sent.
func (p *Proxy) prepare(fwd, req *sip.Request, tgt target) {
	if tgt.RequestURI != nil {
		fwd.Recipient = *tgt.RequestURI
	}
	if mf := fwd.MaxForwards(); mf != nil {
		mf.Dec()
	} else {
		m := sip.MaxForwardsHeader(70)
		fwd.AppendHeader(&m)
	}
	if p.cfg.RecordRoute && dialogForming(fwd) {
		p.recordRoute(fwd, req.Transport(), tgt.Transport)
	}
	fwd.SetTransport(tgt.Transport)
	fwd.SetDestination(tgt.Destination)
	fwd.Laddr = sip.Addr{}
}

// dialogForming: an initial request that creates a dialog (no To tag).
func dialogForming(req *sip.Request) bool {
	switch req.Method {
	case sip.INVITE, sip.SUBSCRIBE, sip.REFER:
	default:
		return false
	}
	to := req.To()
	return to == nil || !to.Params.Has("tag")
}

// recordRoute adds our Record-Route: one entry, or two when the transport
// changes between the legs (RFC 3261 §16.6 step 4, RFC 5658), so each side
// routes to us over its own transport.
func (p *Proxy) recordRoute(req *sip.Request, inTransport, outTransport string) {
	in, out := sip.NetworkToLower(inTransport), sip.NetworkToLower(outTransport)
	if in != out {
		req.PrependHeader(p.rrHeader(in))
	}
	req.PrependHeader(p.rrHeader(out))
}

func (p *Proxy) rrHeader(transport string) *sip.RecordRouteHeader {
	return &sip.RecordRouteHeader{Address: sip.Uri{
		Scheme: "sip",
		Host:   p.host,
		Port:   p.portFor(transport),
		UriParams: sip.HeaderParams{
			{K: "transport", V: transport},
			{K: "lr", V: ""},
		},
	}}
}

// relayResponse is the response to send upstream for req: a copy without our Via
// (RFC 3261 §16.7 step 3). With sipkeep, this is where keep=N lands on the
// new top Via: the netkeep wrapper shows the response to the plugin as it is
// written on the upstream flow.
func relayResponse(res *sip.Response, req *sip.Request) *sip.Response {
	out := res.Clone()
	out.RemoveHeader("Via")
	// Back to where the request came from (symmetric response, RFC 3581),
	// over the request's transport.
	out.SetTransport(req.Transport())
	out.SetDestination(req.Source())
	return out
}

func (p *Proxy) relayRetransmissions(ctr sip.ClientTransaction, req *sip.Request) {
	for {
		select {
		case res := <-ctr.Responses():
			if res == nil || !res.IsSuccess() {
				continue
			}
			out := relayResponse(res, req)
			if err := p.srv.WriteResponse(out); err != nil {
				p.sendFailed(out, err)
			}
		case <-ctr.Done():
			return
		}
	}
}

// cancelBranch sends CANCEL for a forwarded INVITE (RFC 3261 §9.1: same
// request-URI, Call-ID, From, To, CSeq number, Route and top Via).
func (p *Proxy) cancelBranch(inv *sip.Request) {
	c := sip.NewRequest(sip.CANCEL, *inv.Recipient.Clone())
	if v := inv.Via(); v != nil {
		c.AppendHeader(v.Clone())
	}
	for _, name := range []string{"Route"} {
		for _, h := range inv.GetHeaders(name) {
			c.AppendHeader(sip.HeaderClone(h))
		}
	}
	for _, h := range []sip.Header{inv.From(), inv.To(), inv.CallID()} {
		if h != nil {
			c.AppendHeader(sip.HeaderClone(h))
		}
	}
	if cs := inv.CSeq(); cs != nil {
		c.AppendHeader(&sip.CSeqHeader{SeqNo: cs.SeqNo, MethodName: sip.CANCEL})
	}
	mf := sip.MaxForwardsHeader(70)
	c.AppendHeader(&mf)
	c.SetTransport(inv.Transport())
	c.SetDestination(inv.Destination())
	c.Laddr = inv.Laddr
	c.SetBody(nil)
	ctx, cancel := context.WithTimeout(context.Background(), 32*time.Second)
	defer cancel()
	if _, err := p.cli.Do(ctx, c, p.ad.ClientRequestFlow); err != nil {
		p.log.Debug("CANCEL downstream failed", "err", err)
	}
}

// onCancel handles a CANCEL that matched no INVITE transaction (sipgo
// answers matching ones itself): 481.
func (p *Proxy) onCancel(req *sip.Request, tx sip.ServerTransaction) {
	p.respond(req, tx, 481, "Call/Transaction Does Not Exist")
}

// onAck forwards an ACK for a 2xx (a new transaction; an ACK for a non-2xx
// is absorbed by sipgo's server transaction) statelessly along the route.
func (p *Proxy) onAck(req *sip.Request, tx sip.ServerTransaction) {
	fwd := req.Clone()
	tgt, err := p.route(fwd)
	if err != nil {
		return
	}
	p.prepare(fwd, req, tgt)
	if err := p.cli.WriteRequest(fwd, sipgo.ClientRequestAddVia, p.ad.ClientRequestFlow); err != nil {
		p.log.Debug("forward ACK failed", "err", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
