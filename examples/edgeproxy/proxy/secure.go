package proxy

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// The TLS, WS and WSS listeners: each on its own port, beside UDP and TCP.

func (c *Config) registerSecureFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.TLSListen, "tls-listen", c.TLSListen, "host:port for SIP over TLS (needs --tls-cert, --tls-key; empty: off)")
	fs.StringVar(&c.WSListen, "ws-listen", c.WSListen, "host:port for SIP over WebSocket, RFC 7118 (empty: off)")
	fs.StringVar(&c.WSSListen, "wss-listen", c.WSSListen, "host:port for SIP over secure WebSocket (needs --tls-cert, --tls-key; empty: off)")
	fs.StringVar(&c.TLSCert, "tls-cert", c.TLSCert, "PEM certificate (chain) for TLS and WSS")
	fs.StringVar(&c.TLSKey, "tls-key", c.TLSKey, "PEM private key for TLS and WSS")
	fs.StringVar(&c.Webphone, "webphone", c.Webphone, "directory served over HTTP(S) on the WS and WSS ports to requests that are not WebSocket upgrades (empty: off)")
}

func (c *Config) validateSecure() error {
	if (c.TLSListen != "" || c.WSSListen != "") && (c.TLSCert == "" || c.TLSKey == "") {
		return errors.New("TLS and WSS need --tls-cert and --tls-key")
	}
	return nil
}

// secure holds the extra listeners.
type secure struct {
	tls, ws, wss net.Listener
	ports        map[string]int // upper-case transport -> port
	web          []*http.Server
}

// bindSecure opens the TLS, WS and WSS listeners the config asks for.
func (p *Proxy) bindSecure() error {
	p.sec.ports = map[string]int{"UDP": p.port, "TCP": p.port}
	var tlsConf *tls.Config
	if p.cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(p.cfg.TLSCert, p.cfg.TLSKey)
		if err != nil {
			return fmt.Errorf("load TLS certificate: %w", err)
		}
		tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	open := func(addr, transport string, secure bool) (net.Listener, error) {
		if addr == "" {
			return nil, nil
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("listen %s %s: %w", strings.ToLower(transport), addr, err)
		}
		p.sec.ports[transport] = l.Addr().(*net.TCPAddr).Port
		if secure {
			l = tls.NewListener(l, tlsConf)
		}
		return l, nil
	}
	var err error
	if p.sec.tls, err = open(p.cfg.TLSListen, "TLS", true); err != nil {
		return err
	}
	if p.sec.ws, err = open(p.cfg.WSListen, "WS", false); err != nil {
		return err
	}
	if p.sec.wss, err = open(p.cfg.WSSListen, "WSS", true); err != nil {
		return err
	}
	return nil
}

// serveSecure serves the listeners bindSecure opened.
func (p *Proxy) serveSecure() {
	if l := p.sec.tls; l != nil {
		p.serve(func() error { return p.ad.ServeTLS(p.srv, l) })
	}
	if l := p.sec.ws; l != nil {
		l = p.webphoneSplit(l)
		p.serve(func() error { return p.ad.ServeWS(p.srv, l) })
	}
	if l := p.sec.wss; l != nil {
		l = p.webphoneSplit(l)
		p.serve(func() error { return p.ad.ServeWSS(p.srv, l) })
	}
}

func (p *Proxy) closeSecure() {
	for _, s := range p.sec.web {
		s.Close()
	}
	for _, l := range []net.Listener{p.sec.tls, p.sec.ws, p.sec.wss} {
		if l != nil {
			l.Close()
		}
	}
}

// PortOf is the port of a transport ("UDP", "TCP", "TLS", "WS", "WSS"), or 0.
func (p *Proxy) PortOf(transport string) int { return p.sec.ports[strings.ToUpper(transport)] }

// ownPort reports whether port is one of our SIP ports.
func (p *Proxy) ownPort(port int) bool {
	for _, v := range p.sec.ports {
		if v == port {
			return true
		}
	}
	return port == p.port
}

// portFor is the port to put in a Record-Route for transport.
func (p *Proxy) portFor(transport string) int {
	if v := p.sec.ports[strings.ToUpper(transport)]; v != 0 {
		return v
	}
	return p.port
}

// webphoneSplit, with --webphone, hands the WebSocket upgrades accepted on
// l to SIP and serves every other HTTP request from the webphone
// directory, so that a browser loads the page from the origin it then
// connects to (and trusts one certificate for both).
func (p *Proxy) webphoneSplit(l net.Listener) net.Listener {
	if p.cfg.Webphone == "" {
		return l
	}
	s := &splitListener{Listener: l, ws: make(chan net.Conn), web: make(chan net.Conn), done: make(chan struct{})}
	web := &chanListener{s: s, ch: s.web}
	srv := &http.Server{Handler: http.FileServer(http.Dir(p.cfg.Webphone)), ReadHeaderTimeout: 5 * time.Second}
	p.sec.web = append(p.sec.web, srv)
	go srv.Serve(web)
	go s.run()
	return &chanListener{s: s, ch: s.ws}
}

// splitListener sorts accepted connections by their first request: a
// WebSocket upgrade or anything else.
type splitListener struct {
	net.Listener
	ws, web chan net.Conn
	done    chan struct{}
	once    sync.Once
}

func (s *splitListener) run() {
	defer s.once.Do(func() { close(s.done) })
	for {
		c, err := s.Listener.Accept()
		if err != nil {
			return
		}
		go s.sort(c)
	}
}

// sort reads the request head (at most 16 KiB, 5 s) and passes the
// connection on with those bytes put back in front.
func (s *splitListener) sort(c net.Conn) {
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReaderSize(c, 16<<10)
	var head []byte
	for !bytes.HasSuffix(head, []byte("\r\n\r\n")) && len(head) < 16<<10 {
		line, err := br.ReadSlice('\n')
		head = append(head, line...)
		if err != nil {
			c.Close()
			return
		}
	}
	c.SetReadDeadline(time.Time{})
	rest, _ := br.Peek(br.Buffered())
	pc := &prefixConn{Conn: c, pre: append(head, rest...)}
	ch := s.web
	if bytes.Contains(bytes.ToLower(head), []byte("upgrade: websocket")) {
		ch = s.ws
	}
	select {
	case ch <- pc:
	case <-s.done:
		c.Close()
	}
}

type chanListener struct {
	s  *splitListener
	ch chan net.Conn
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.s.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	l.s.once.Do(func() { close(l.s.done) })
	return l.s.Listener.Close()
}

func (l *chanListener) Addr() net.Addr { return l.s.Listener.Addr() }

// prefixConn is a connection whose first bytes were already read.
type prefixConn struct {
	net.Conn
	pre []byte
}

func (c *prefixConn) Read(b []byte) (int, error) {
	if len(c.pre) > 0 {
		n := copy(b, c.pre)
		c.pre = c.pre[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}
