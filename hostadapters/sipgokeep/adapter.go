package sipgokeep

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/sipkeep/sipkeep/hostadapters/netkeep"
)

// Adapter puts one sipgo UserAgent's sockets under sipkeep and keeps its
// outgoing requests on those sockets. Create it with New before serving.
type Adapter struct {
	ua *sipgo.UserAgent
	nk *netkeep.Keeper // nil: flow pinning only

	mu       sync.Mutex
	udpLocal []sip.Addr    // served UDP sockets, for pinning requests
	dialer   *dialListener // outgoing streams handed to sipgo, once a TCP listener is served
	dialTCP  func(ctx context.Context, addr string) (net.Conn, error)
}

// Option configures an Adapter.
type Option func(*Adapter)

// WithKeeper runs every socket through k (netkeep): STUN answered, pings
// ponged, every SIP message shown to the plugin and edited on write. Without
// it the Adapter only pins flows (still worth it: see ClientRequestFlow).
func WithKeeper(k *netkeep.Keeper) Option { return func(a *Adapter) { a.nk = k } }

// WithTCPDialer replaces how outgoing TCP connections are opened (tests,
// source address selection). The default is a net.Dialer.
func WithTCPDialer(f func(ctx context.Context, addr string) (net.Conn, error)) Option {
	return func(a *Adapter) { a.dialTCP = f }
}

// New returns an Adapter for ua.
func New(ua *sipgo.UserAgent, opts ...Option) *Adapter {
	a := &Adapter{ua: ua}
	for _, o := range opts {
		o(a)
	}
	if a.dialTCP == nil {
		var d net.Dialer
		a.dialTCP = func(ctx context.Context, addr string) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }
	}
	return a
}

// Keeper is the netkeep Keeper, or nil.
func (a *Adapter) Keeper() *netkeep.Keeper { return a.nk }

// ServeUDP wraps pc and serves it with srv (blocking, like srv.ServeUDP).
// sipgo writes every response and every request it sends from this socket
// through the wrapper (sip.UDPConnection.WriteTo calls PacketConn.WriteTo),
// so edits on write reach the wire.
func (a *Adapter) ServeUDP(srv *sipgo.Server, pc net.PacketConn) error {
	if a.nk != nil {
		pc = a.nk.WrapPacketConn(pc)
	}
	if ua, ok := pc.LocalAddr().(*net.UDPAddr); ok {
		a.mu.Lock()
		a.udpLocal = append(a.udpLocal, sip.Addr{IP: ua.IP, Port: ua.Port})
		a.mu.Unlock()
	}
	return srv.ServeUDP(pc)
}

// ServeTCP wraps l and serves it with srv (blocking). The first call also
// starts the hand-off of outgoing streams (see ClientRequestFlow).
func (a *Adapter) ServeTCP(srv *sipgo.Server, l net.Listener) error {
	if a.nk != nil {
		l = a.nk.WrapListener(l)
	}
	a.mu.Lock()
	if a.dialer == nil {
		a.dialer = newDialListener(l.Addr())
		d := a.dialer
		go srv.ServeTCP(d) // returns when Close closes d
	}
	a.mu.Unlock()
	return srv.ServeTCP(l)
}

// ListenAndServe listens on network ("udp" or "tcp") and addr and serves
// until ctx ends.
func (a *Adapter) ListenAndServe(ctx context.Context, srv *sipgo.Server, network, addr string) error {
	var lc net.ListenConfig
	switch network {
	case "udp", "udp4", "udp6":
		pc, err := lc.ListenPacket(ctx, network, addr)
		if err != nil {
			return fmt.Errorf("sipgokeep: %w", err)
		}
		stop := context.AfterFunc(ctx, func() { pc.Close() })
		defer stop()
		return a.ServeUDP(srv, pc)
	case "tcp", "tcp4", "tcp6":
		l, err := lc.Listen(ctx, network, addr)
		if err != nil {
			return fmt.Errorf("sipgokeep: %w", err)
		}
		stop := context.AfterFunc(ctx, func() { l.Close() })
		defer stop()
		return a.ServeTCP(srv, l)
	}
	return fmt.Errorf("sipgokeep: network %q: %w", network, sip.ErrTransportNotSuported)
}

// ClientRequestFlow is a sipgo.ClientRequestOption (use it after
// sipgo.ClientRequestAddVia, with the destination and transport already set
// on the request) that makes the request leave on a socket under sipkeep:
//
//   - UDP: from the served UDP socket. Otherwise sipgo opens a fresh
//     ephemeral socket for a destination it has not heard from — a socket
//     sipkeep does not see, from a port that is not the flow a NATed UA's
//     binding points at.
//   - TCP: over an existing connection to the destination (the flow a UA
//     registered on), else over one the Adapter dials, wraps and hands to
//     sipgo. sipgo's own dialer (TransportTCP.DialerCreate returns a
//     net.Dialer value) cannot wrap the connection it opens.
func (a *Adapter) ClientRequestFlow(c *sipgo.Client, req *sip.Request) error {
	switch sip.NetworkToLower(req.Transport()) {
	case "udp":
		a.mu.Lock()
		if len(a.udpLocal) > 0 && req.Laddr.IP == nil {
			req.Laddr = a.udpLocal[0]
		}
		a.mu.Unlock()
	case "tcp":
		return a.EnsureStream(context.Background(), req.Destination())
	}
	return nil
}

// EnsureStream makes sure sipgo has a TCP connection to addr (host:port, an
// IP address) that runs under sipkeep: an existing one (accepted or dialed
// earlier) is reused; otherwise the Adapter dials, wraps and hands it to
// sipgo, so sipgo's connection reuse picks it for the request.
func (a *Adapter) EnsureStream(ctx context.Context, addr string) error {
	tp := a.ua.TransportLayer()
	if c, err := tp.GetConnection("tcp", addr); err == nil {
		c.TryClose() // GetConnection took a reference
		return nil
	}
	a.mu.Lock()
	d := a.dialer
	a.mu.Unlock()
	if d == nil {
		return nil // no TCP listener served: let sipgo dial (not under sipkeep)
	}
	// Only literal addresses: sipgo looks connections up by resolved
	// address; a name would not match the key.
	if host, _, err := net.SplitHostPort(addr); err != nil || net.ParseIP(strings.Trim(host, "[]")) == nil {
		return nil
	}
	conn, err := a.dialTCP(ctx, addr)
	if err != nil {
		return fmt.Errorf("sipgokeep: dial %s: %w", addr, err)
	}
	if a.nk != nil {
		conn = a.nk.WrapConn(conn)
	}
	if err := d.handOff(ctx, conn); err != nil {
		conn.Close()
		return err
	}
	return nil
}

// Close stops the outgoing-stream hand-off. Listeners and sockets passed to
// Serve* belong to the caller.
func (a *Adapter) Close() error {
	a.mu.Lock()
	d := a.dialer
	a.mu.Unlock()
	if d != nil {
		return d.Close()
	}
	return nil
}

var errClosed = errors.New("sipgokeep: adapter closed")
