package uaclient

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/hostadapters/netkeep"
)

// Run registers and keeps the registration (and with it the keep-alives the
// plugin negotiates) until ctx ends, then unregisters. A failed flow or a
// failed registration leads to a new REGISTER (a new connection on TCP),
// with backoff while the registrar does not answer.
func (c *Client) Run(ctx context.Context) error {
	backoff := c.cfg.RetryBackoff
	for {
		granted, err := c.ensureRegistered(ctx)
		if ctx.Err() != nil {
			break
		}
		var wait time.Duration
		if err != nil {
			c.emit(Event{Kind: EventRegisterFailed, Err: err})
			c.log.Warn("registration failed", "err", err, "retry_in", backoff)
			wait = backoff
			backoff = min(backoff*2, 30*time.Second)
		} else {
			backoff = c.cfg.RetryBackoff
			// Refresh before expiry; each refresh re-negotiates keep (R1).
			wait = max(granted*8/10, time.Second)
		}
		c.waitOrFail(ctx, wait)
		if ctx.Err() != nil {
			break
		}
	}
	// Registration ends: the plugin stops keep-alives on the 2xx (R2).
	uctx, cancel := context.WithTimeout(context.Background(), c.cfg.RequestTimeout)
	defer cancel()
	if _, err := c.register(uctx, 0); err != nil {
		return fmt.Errorf("uaclient: unregister: %w", err)
	}
	c.emit(Event{Kind: EventUnregistered})
	c.log.Info("unregistered")
	return nil
}

// waitOrFail waits for d, the end of ctx, or a failure of the current flow
// (on TCP it then drops the connection, so the next REGISTER dials a new
// one). A failure reported for an earlier TCP flow, e.g. both a pong timeout
// and the connection's close, is ignored.
func (c *Client) waitOrFail(ctx context.Context, d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
			return
		case f := <-c.failed:
			if c.cfg.Transport == "tcp" {
				c.mu.Lock()
				stale := c.conn != nil && c.conn.Flow() != f
				if !stale {
					c.conn = nil
				}
				c.mu.Unlock()
				if stale {
					c.log.Debug("failure of an earlier flow ignored", "flow", f.Local.String()+"->"+f.Remote.String())
					continue
				}
			}
			c.log.Warn("flow failed: re-registering", "flow", f.Local.String()+"->"+f.Remote.String())
			return
		}
	}
}

func (c *Client) ensureRegistered(ctx context.Context) (time.Duration, error) {
	if c.cfg.Transport == "tcp" {
		c.mu.Lock()
		need := c.conn == nil
		c.mu.Unlock()
		if need {
			if err := c.connect(ctx); err != nil {
				return 0, err
			}
		}
	}
	return c.register(ctx, c.cfg.Expires)
}

// register sends one REGISTER (same Call-ID, increasing CSeq) on the current
// flow and returns the granted lifetime.
func (c *Client) register(ctx context.Context, expires time.Duration) (time.Duration, error) {
	c.mu.Lock()
	laddr, conn := c.laddr, c.conn
	c.cseq++
	cseq := c.cseq
	c.mu.Unlock()
	if c.cfg.Transport == "tcp" && conn == nil {
		return 0, errNoFlow
	}
	lhost, lport, err := sip.ParseAddr(laddr)
	if err != nil {
		return 0, fmt.Errorf("local address %q: %w", laddr, err)
	}
	recipient := sip.Uri{Scheme: "sip", Host: c.proxyHost, Port: c.proxyPort}
	if c.cfg.Transport == "tcp" {
		recipient.UriParams = sip.NewParams()
		recipient.UriParams.Add("transport", "tcp")
	}
	req := sip.NewRequest(sip.REGISTER, recipient)
	aor := sip.Uri{Scheme: "sip", User: c.cfg.User, Host: c.proxyHost}
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", c.tag)
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor, Params: sip.NewParams()})
	callID := sip.CallIDHeader(c.callID)
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: sip.REGISTER})
	contact := sip.Uri{Scheme: "sip", User: c.cfg.User, Host: lhost, Port: lport}
	if c.cfg.Transport == "tcp" {
		contact.UriParams = sip.NewParams()
		contact.UriParams.Add("transport", "tcp")
	}
	req.AppendHeader(&sip.ContactHeader{Address: contact})
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(expires/time.Second))))

	rctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	res, err := c.sipc.Do(rctx, req, sipgo.ClientRequestBuild, onFlow(laddr))
	if err != nil {
		return 0, fmt.Errorf("REGISTER: %w", err)
	}
	if !res.IsSuccess() {
		return 0, fmt.Errorf("REGISTER: %d %s", res.StatusCode, res.Reason)
	}
	granted := grantedExpiry(res, expires)
	if expires > 0 {
		c.emit(Event{Kind: EventRegistered, Expires: granted})
		c.log.Info("registered", "expires", granted, "via", topVia(res))
	}
	return granted, nil
}

// onFlow pins the request to the flow netkeep wrapped: sipgo looks the
// connection up by the request's Laddr.
func onFlow(laddr string) sipgo.ClientRequestOption {
	return func(_ *sipgo.Client, r *sip.Request) error {
		host, port, err := sip.ParseAddr(laddr)
		if err != nil {
			return err
		}
		r.Laddr = sip.Addr{IP: netParseIP(host), Port: port, Hostname: host}
		return nil
	}
}

func grantedExpiry(res *sip.Response, asked time.Duration) time.Duration {
	if h := res.Contact(); h != nil {
		if v, ok := h.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(v); err == nil {
				return time.Duration(n) * time.Second
			}
		}
	}
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil {
			return time.Duration(n) * time.Second
		}
	}
	return asked
}

func topVia(res *sip.Response) string {
	if v := res.Via(); v != nil {
		return v.Value()
	}
	return ""
}

// onFlowEvent turns netkeep's flow events into UA events and logs.
func (c *Client) onFlowEvent(e netkeep.FlowEvent) {
	a := e.Action
	ev := Event{Flow: e.Flow, Action: a, Time: e.Time}
	log := c.log.With("flow", e.Flow.Local.String()+"->"+e.Flow.Remote.String())
	switch a.Kind {
	case abi.ActKeepaliveStarted:
		ev.Kind = EventKeepaliveStarted
		log.Info("keep-alives started", "interval_s", a.Value)
	case abi.ActSendSTUN:
		ev.Kind = EventKeepaliveSent
		log.Info("keep-alive sent", "kind", "stun", "attempt", a.Attempt, "rto_ms", a.Value)
	case abi.ActSendPing:
		ev.Kind = EventKeepaliveSent
		log.Info("keep-alive sent", "kind", "crlf", "pong_deadline_ms", a.Value)
	case abi.ActKeepaliveAnswered:
		ev.Kind = EventKeepaliveAnswered
		log.Info("keep-alive answered")
	case abi.ActKeepaliveStopped:
		ev.Kind = EventKeepaliveStopped
		log.Info("keep-alives stopped", "reason", a.Reason.String())
	case abi.ActFlowFailed:
		ev.Kind = EventFlowFailed
		log.Warn("keep-alives failed", "reason", a.Reason.String())
		select {
		case c.failed <- e.Flow:
		default:
		}
	default:
		return
	}
	c.emit(ev)
}

func (c *Client) emit(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if c.cfg.OnEvent != nil {
		c.cfg.OnEvent(e)
	}
}
