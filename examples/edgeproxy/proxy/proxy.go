// Package proxy is the sipkeep example edge proxy and registrar, built on
// sipgo: UAs behind NAT register through it, requests for them go back over
// the flow they registered on, dialogs are record-routed, and — with the
// sipkeep plugin loaded — it grants RFC 6223 keep=N to its UAs and answers
// their RFC 5626 keep-alives (STUN on UDP, CRLF on TCP).
//
// The package is the whole proxy; cmd main (examples/edgeproxy) only parses
// flags and handles signals, so tests run it in-process on random ports.
package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/sipkeep/sipkeep/hostadapters/sipgokeep"
)

// Proxy is one running edge proxy.
type Proxy struct {
	cfg Config
	log *slog.Logger
	reg *prometheus.Registry

	ua  *sipgo.UserAgent
	srv *sipgo.Server
	cli *sipgo.Client
	loc *Location
	ad  *sipgokeep.Adapter // flow pinning, and sipkeep when a module is loaded
	k   *keep              // nil without a module
	mt  *metrics
	au  *authenticator

	host    string // advertised host
	port    int    // listen port (UDP and TCP)
	domains map[string]bool
	// anyDomain: no Domains configured, the registrar serves every domain
	// and keys AORs by user alone (Config.Domains).
	anyDomain bool

	udp     net.PacketConn
	tcp     net.Listener
	sec     secure // TLS, WS, WSS (secure.go)
	httpSrv *http.Server
	httpLn  net.Listener

	stop      context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// Option adjusts a Proxy beyond its Config.
type Option func(*Proxy)

// WithLogger sets the logger (slog.Default otherwise).
func WithLogger(l *slog.Logger) Option { return func(p *Proxy) { p.log = l } }

// New checks cfg, loads the plugin (when cfg.Wasm is set) and starts
// listening. It returns once every socket is bound and served; Close stops it.
func New(ctx context.Context, cfg Config, opts ...Option) (*Proxy, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("edgeproxy config: %w", err)
	}
	p := &Proxy{cfg: cfg, log: slog.Default(), reg: prometheus.NewRegistry(), loc: NewLocation(KeyByUser(len(cfg.Domains) == 0))}
	for _, o := range opts {
		o(p)
	}
	p.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	p.mt = newMetrics(p.reg, p.loc)
	p.au = newAuthenticator(cfg.AuthRealm, cfg.Users)

	if err := p.bind(); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			p.Close()
		}
	}()
	if err := p.bindSecure(); err != nil {
		return nil, err
	}

	var err error
	sl := SipgoLogger(p.log) // sipgo logs what peers send: see SipgoLogger
	p.ua, err = sipgo.NewUA(sipgo.WithUserAgent("sipkeep-edgeproxy"), sipgo.WithUserAgentHostname(p.host),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(sl)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(sl)))
	if err != nil {
		return nil, fmt.Errorf("sipgo user agent: %w", err)
	}
	p.srv, err = sipgo.NewServer(p.ua, sipgo.WithServerLogger(sl))
	if err != nil {
		return nil, fmt.Errorf("sipgo server: %w", err)
	}
	p.cli, err = sipgo.NewClient(p.ua, sipgo.WithClientHostname(p.host), sipgo.WithClientLogger(sl))
	if err != nil {
		return nil, fmt.Errorf("sipgo client: %w", err)
	}

	var adOpts []sipgokeep.Option
	if cfg.sipkeep() {
		p.k, err = newKeep(ctx, p)
		if err != nil {
			return nil, err
		}
		adOpts = append(adOpts, sipgokeep.WithKeeper(p.k.nk))
	}
	p.ad = sipgokeep.New(p.ua, adOpts...)

	// sipgokeep.Handler: each handler ends in a plugin call (the response
	// or the forwarded request is written through netkeep); see its doc.
	p.srv.OnRegister(sipgokeep.Handler(p.onRegister))
	p.srv.OnAck(sipgokeep.Handler(p.onAck))
	p.srv.OnCancel(sipgokeep.Handler(p.onCancel))
	p.srv.OnOptions(sipgokeep.Handler(p.onOptions))
	p.srv.OnNoRoute(sipgokeep.Handler(p.onRequest))

	sctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	p.stop = stop
	if p.udp != nil {
		p.serve(func() error { return p.ad.ServeUDP(p.srv, p.udp) })
	}
	if p.tcp != nil {
		p.serve(func() error { return p.ad.ServeTCP(p.srv, p.tcp) })
	}
	p.serveSecure()
	if cfg.Metrics != "" {
		if err := p.serveMetrics(sctx); err != nil {
			return nil, err
		}
	}
	ok = true
	p.log.Info("edge proxy listening", "addr", net.JoinHostPort(p.host, strconv.Itoa(p.port)),
		"transports", cfg.Transports, "ports", p.sec.ports, "record_route", cfg.RecordRoute, "sipkeep", cfg.sipkeep(), "native_plugin", cfg.NativePlugin)
	return p, nil
}

// bind opens the sockets. UDP and TCP share one port number; with port 0 the
// UDP socket picks it and TCP follows (retrying if TCP finds it taken).
func (p *Proxy) bind() error {
	host, portStr, err := net.SplitHostPort(p.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", p.cfg.Listen, err)
	}
	port, _ := strconv.Atoi(portStr)
	wantUDP, wantTCP := p.hasTransport("udp"), p.hasTransport("tcp")
	for attempt := 0; ; attempt++ {
		addr := net.JoinHostPort(host, strconv.Itoa(port))
		var udp net.PacketConn
		if wantUDP {
			if udp, err = net.ListenPacket("udp", addr); err != nil {
				return fmt.Errorf("listen udp %s: %w", addr, err)
			}
			addr = udp.LocalAddr().String()
		}
		var tcp net.Listener
		if wantTCP {
			tcp, err = net.Listen("tcp", addr)
			if err != nil {
				if udp != nil {
					udp.Close()
				}
				if port == 0 && attempt < 10 {
					continue
				}
				return fmt.Errorf("listen tcp %s: %w", addr, err)
			}
			addr = tcp.Addr().String()
		}
		p.udp, p.tcp = udp, tcp
		ap := netip.MustParseAddrPort(addr)
		p.port = int(ap.Port())
		break
	}
	p.host = p.cfg.Advertise
	if p.host == "" {
		p.host = host
		if ip, err := netip.ParseAddr(host); err == nil && ip.IsUnspecified() {
			p.host = "127.0.0.1"
		}
	}
	p.domains = map[string]bool{strings.ToLower(p.host): true, "localhost": true, strings.ToLower(host): true}
	for _, d := range p.cfg.Domains {
		p.domains[strings.ToLower(d)] = true
	}
	p.anyDomain = len(p.cfg.Domains) == 0
	return nil
}

func (p *Proxy) serve(f func() error) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		if err := f(); err != nil && !errors.Is(err, net.ErrClosed) {
			p.log.Error("serve stopped", "err", err)
		}
	}()
}

// Port is the SIP port (UDP and TCP).
func (p *Proxy) Port() int { return p.port }

// Host is the advertised host.
func (p *Proxy) Host() string { return p.host }

// Addr is host:port of the SIP listeners.
func (p *Proxy) Addr() string { return net.JoinHostPort(p.host, strconv.Itoa(p.port)) }

// MetricsAddr is the bound address of the metrics endpoint, or "".
func (p *Proxy) MetricsAddr() string {
	if p.httpLn == nil {
		return ""
	}
	return p.httpLn.Addr().String()
}

// Location is the registrar's location service.
func (p *Proxy) Location() *Location { return p.loc }

// Registry is the Prometheus registry (proxy, host and Go metrics).
func (p *Proxy) Registry() *prometheus.Registry { return p.reg }

// KeepStats reports the socket-level keep-alive counters; ok is false when
// the proxy runs without sipkeep.
func (p *Proxy) KeepStats() (s KeepStats, ok bool) {
	if p.k == nil {
		return KeepStats{}, false
	}
	return p.k.stats(), true
}

// Reload re-reads the plugin module from its file (SIGHUP).
func (p *Proxy) Reload(ctx context.Context) error {
	if p.k == nil {
		return errors.New("no sipkeep module loaded")
	}
	return p.k.reload(ctx)
}

// Generation is the plugin module generation (1 after start, +1 per swap);
// 0 without a module.
func (p *Proxy) Generation() uint64 {
	if p.k == nil {
		return 0
	}
	return p.k.generation()
}

// Close stops listening and releases the plugin.
func (p *Proxy) Close() error {
	p.closeOnce.Do(func() {
		if p.stop != nil {
			p.stop()
		}
		if p.httpSrv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			p.httpSrv.Shutdown(ctx)
			cancel()
		}
		if p.udp != nil {
			p.udp.Close()
		}
		if p.tcp != nil {
			p.tcp.Close()
		}
		p.closeSecure()
		if p.ad != nil {
			p.ad.Close()
		}
		if p.ua != nil {
			p.ua.Close()
		}
		p.wg.Wait()
		if p.k != nil {
			p.k.close()
		}
	})
	return nil
}
