package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/emiago/sipgo/sip"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type metrics struct {
	requests     *prometheus.CounterVec
	registers    *prometheus.CounterVec
	sendFailures *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry, loc *Location) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "edgeproxy", Name: "requests_total",
			Help: "Requests handled other than REGISTER, by method and outcome (forwarded, local, or the status code of a local rejection).",
		}, []string{"method", "outcome"}),
		registers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "edgeproxy", Name: "registers_total",
			Help: "REGISTER requests answered by the registrar, by status code.",
		}, []string{"code"}),
		sendFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "edgeproxy", Name: "send_failures_total",
			Help: "Responses the proxy could not send, by why (too_large: over what UDP carries; transport; transaction_ended).",
		}, []string{"reason"}),
	}
	reg.MustRegister(m.requests, m.registers, m.sendFailures,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "edgeproxy", Name: "bindings",
			Help: "Live registered contacts in the location service.",
		}, func() float64 { return float64(loc.Len()) }))
	return m
}

// serveMetrics starts the Prometheus endpoint; it stops with ctx.
func (p *Proxy) serveMetrics(ctx context.Context) error {
	ln, err := net.Listen("tcp", p.cfg.Metrics)
	if err != nil {
		return fmt.Errorf("metrics listen %s: %w", p.cfg.Metrics, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(p.reg, promhttp.HandlerOpts{Registry: p.reg}))
	p.httpLn = ln
	p.httpSrv = &http.Server{Handler: mux, BaseContext: func(net.Listener) context.Context { return ctx }}
	p.serve(func() error {
		if err := p.httpSrv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	return nil
}

// methodLabel is a request's method as a metric label: the methods SIP
// defines, else "other" — a peer choosing method names must not create
// metric series.
func methodLabel(m sip.RequestMethod) string {
	switch m {
	case sip.INVITE, sip.ACK, sip.CANCEL, sip.BYE, sip.OPTIONS, sip.REGISTER, sip.SUBSCRIBE,
		sip.NOTIFY, sip.REFER, sip.UPDATE, sip.INFO, sip.MESSAGE, sip.PRACK, sip.PUBLISH:
		return string(m)
	}
	return "other"
}
