package proxy

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/host"
	"github.com/sipkeep/sipkeep/hostadapters/netkeep"
	keepplugin "github.com/sipkeep/sipkeep/plugin/keep"
)

// KeepStats are the socket-level keep-alive counters (netkeep).
type KeepStats = netkeep.Stats

// keep is sipkeep inside the proxy: the host running the plugin and the
// netkeep Keeper every socket runs through.
type keep struct {
	p  *Proxy
	h  *host.Host
	nk *netkeep.Keeper
}

func newKeep(ctx context.Context, p *Proxy) (*keep, error) {
	k := &keep{p: p}
	k.nk = netkeep.New(
		netkeep.WithRole(abi.RoleProxy),
		netkeep.WithLogger(p.log),
		netkeep.WithEvents(k.onEvent),
		// The registrar's answers are generated here; everything else
		// the proxy writes upstream is a relayed response.
		netkeep.WithLocalReply(isRegisterResponse),
	)
	module := host.WithModuleFile(p.cfg.Wasm)
	if p.cfg.NativePlugin {
		module = host.WithNativeGuest(keepplugin.Native)
	}
	opts := []host.Option{
		module,
		host.WithActionHandler(k.nk.HandleAction),
		host.WithPolicy(p.cfg.Keep.Policy()),
		host.WithMetrics(p.reg),
		host.WithLogger(p.log),
	}
	if p.cfg.Watch && !p.cfg.NativePlugin {
		opts = append(opts, host.WithWatch(time.Second))
	}
	h, err := host.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load sipkeep module %s: %w", p.cfg.Wasm, err)
	}
	k.h = h
	k.nk.Attach(h)
	p.reg.MustRegister(statsCollector{k.nk})
	return k, nil
}

// onEvent: a flow whose keep-alives failed or stopped, or a stream that
// closed, is dead; drop the bindings registered over it so requests are not
// sent into it (RFC 5626 §5.3), and let the UA re-register.
func (k *keep) onEvent(ev netkeep.FlowEvent) {
	switch {
	case ev.Closed, ev.Action.Kind == abi.ActFlowFailed, ev.Action.Kind == abi.ActFlowDead:
		f := Flow{Transport: ev.Flow.Transport.String(), Remote: ev.Flow.Remote.String()}
		n := k.p.loc.RemoveFlow(f)
		why := []any{"closed", true}
		if !ev.Closed {
			why = []any{"action", ev.Action.Kind, "reason", ev.Action.Reason}
		}
		k.p.log.Info("flow lost", append(why, "transport", f.Transport, "remote", f.Remote, "bindings_dropped", n)...)
	}
}

func (k *keep) stats() KeepStats { return k.nk.Stats() }

func (k *keep) reload(ctx context.Context) error { return k.h.Reload(ctx) }

func (k *keep) generation() uint64 { return k.h.Generation().Number }

func (k *keep) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	k.h.Close(ctx)
}

// isRegisterResponse reports whether a response answers a REGISTER (its
// CSeq method), which this proxy, being the registrar, answers itself. It
// runs on every response written, so it walks the lines in place.
func isRegisterResponse(msg []byte) bool {
	for rest := msg; len(rest) > 0; {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			return false // end of the headers
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if ok && bytes.EqualFold(bytes.TrimSpace(name), []byte("CSeq")) {
			return bytes.HasSuffix(bytes.TrimSpace(value), []byte("REGISTER"))
		}
	}
	return false
}

// statsCollector exports netkeep's counters to Prometheus.
type statsCollector struct{ nk *netkeep.Keeper }

var statsDescs = func() map[string]*prometheus.Desc {
	m := map[string]*prometheus.Desc{}
	for name, help := range map[string]string{
		"stun_requests_served_total": "STUN Binding requests received on a SIP UDP port and answered (RFC 5626 keep-alives of our UAs).",
		"stun_requests_sent_total":   "STUN Binding requests we sent as keep-alives (retransmissions included).",
		"stun_responses_total":       "STUN responses received to our keep-alives.",
		"pings_answered_total":       "CRLFCRLF pings received on streams and answered with a CRLF pong.",
		"pings_sent_total":           "CRLFCRLF pings we sent.",
		"pongs_total":                "CRLF pongs received.",
		"keepalives_answered_total":  "Our keep-alives the plugin matched to an answer.",
		"flows_failed_total":         "Flows whose keep-alives we sent went unanswered.",
		"flows_dead_total":           "Flows whose UA stopped sending keep-alives.",
		"udp_crlf_dropped_total":     "CRLF datagrams dropped on UDP (not a keep-alive there, RFC 5626 K1).",
		"sip_in_total":               "SIP messages read through the wrapped sockets.",
		"sip_out_total":              "SIP messages written through the wrapped sockets.",
	} {
		m[name] = prometheus.NewDesc("sipkeep_netkeep_"+name, help, nil, nil)
	}
	return m
}()

func (c statsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range statsDescs {
		ch <- d
	}
}

func (c statsCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.nk.Stats()
	for name, v := range map[string]uint64{
		"stun_requests_served_total": s.STUNRequestsServed,
		"stun_requests_sent_total":   s.STUNRequestsSent,
		"stun_responses_total":       s.STUNResponsesIn,
		"pings_answered_total":       s.PingsAnswered,
		"pings_sent_total":           s.PingsSent,
		"pongs_total":                s.PongsIn,
		"keepalives_answered_total":  s.KeepalivesAnswered,
		"flows_failed_total":         s.FlowsFailed,
		"flows_dead_total":           s.FlowsDead,
		"udp_crlf_dropped_total":     s.StrayUDPCRLF,
		"sip_in_total":               s.SIPIn,
		"sip_out_total":              s.SIPOut,
	} {
		ch <- prometheus.MustNewConstMetric(statsDescs[name], prometheus.CounterValue, float64(v))
	}
}
