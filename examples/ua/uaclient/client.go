package uaclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/host"
	"github.com/sipkeep/sipkeep/hostadapters/netkeep"
)

// Client is one registering UA.
type Client struct {
	cfg    Config
	log    *slog.Logger
	keeper *netkeep.Keeper
	host   *host.Host
	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	sipc   *sipgo.Client

	proxyHost string
	proxyPort int

	pc net.PacketConn // UDP: the one socket for SIP and STUN
	ln *connListener  // TCP: hands our dialed conns to sipgo

	mu     sync.Mutex
	conn   *netkeep.Conn // TCP: the current flow
	laddr  string        // local address of the current flow
	callID string
	cseq   uint32
	tag    string

	failed chan host.Flow
	closed atomic.Bool // Close was called
}

// New starts the host (loading the plugin), the sockets and sipgo. Run
// registers; Close releases everything.
func New(ctx context.Context, cfg Config) (*Client, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	ph, pp, err := net.SplitHostPort(cfg.Proxy)
	if err != nil {
		return nil, fmt.Errorf("uaclient: proxy %q: %w", cfg.Proxy, err)
	}
	port, err := strconv.Atoi(pp)
	if err != nil {
		return nil, fmt.Errorf("uaclient: proxy port %q: %w", pp, err)
	}
	c := &Client{
		cfg: cfg, log: cfg.Logger.With("ua", cfg.User, "transport", cfg.Transport),
		proxyHost: ph, proxyPort: port,
		callID: uuid.NewString(), cseq: 1, tag: sip.GenerateTagN(16),
		failed: make(chan host.Flow, 1),
	}
	c.keeper = netkeep.New(netkeep.WithRole(abi.RoleUA), netkeep.WithLogger(c.log), netkeep.WithEvents(c.onFlowEvent))
	hopts := []host.Option{host.WithModuleFile(cfg.WASM), host.WithActionHandler(c.keeper.HandleAction), host.WithLogger(c.log)}
	if cfg.Policy != nil {
		hopts = append(hopts, host.WithPolicy(cfg.Policy))
	}
	c.host, err = host.New(ctx, append(hopts, cfg.HostOptions...)...)
	if err != nil {
		return nil, fmt.Errorf("uaclient: loading the plugin: %w", err)
	}
	c.keeper.Attach(c.host)
	if err := c.startSIP(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *Client) startSIP(ctx context.Context) error {
	lhost, _, err := net.SplitHostPort(c.cfg.Listen)
	if err != nil {
		return fmt.Errorf("uaclient: listen %q: %w", c.cfg.Listen, err)
	}
	c.ua, err = sipgo.NewUA(sipgo.WithUserAgent(c.cfg.User), sipgo.WithUserAgentHostname(lhost))
	if err != nil {
		return fmt.Errorf("uaclient: sipgo UA: %w", err)
	}
	if c.srv, err = sipgo.NewServer(c.ua); err != nil {
		return fmt.Errorf("uaclient: sipgo server: %w", err)
	}
	if c.sipc, err = sipgo.NewClient(c.ua); err != nil {
		return fmt.Errorf("uaclient: sipgo client: %w", err)
	}
	// A UA answers what reaches its contact (OPTIONS pings from a registrar).
	c.srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	if c.cfg.Transport == "tcp" {
		laddr, err := net.ResolveTCPAddr("tcp", c.cfg.Listen)
		if err != nil {
			return fmt.Errorf("uaclient: listen %q: %w", c.cfg.Listen, err)
		}
		c.ln = newConnListener(laddr)
		go func() { _ = c.srv.ServeTCP(c.ln) }()
		return nil
	}
	var lc net.ListenConfig
	pc, err := lc.ListenPacket(ctx, "udp", c.cfg.Listen)
	if err != nil {
		return fmt.Errorf("uaclient: listen udp %s: %w", c.cfg.Listen, err)
	}
	// Wrapped, and served by sipgo: client requests with this Laddr go out on
	// this very socket, so STUN keep-alives refresh the SIP flow's binding.
	c.pc = c.keeper.WrapPacketConn(pc)
	go func() { _ = c.srv.ServeUDP(c.pc) }()
	c.laddr = c.pc.LocalAddr().String()
	return c.waitPooled(ctx, "udp", c.laddr, nil)
}

// waitPooled waits until sipgo's transport layer holds the connection (or
// gone closes: the connection ended first).
func (c *Client) waitPooled(ctx context.Context, network, addr string, gone <-chan struct{}) error {
	deadline := time.Now().Add(3 * time.Second)
	for {
		if conn, err := c.ua.TransportLayer().GetConnection(network, addr); err == nil && conn != nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("uaclient: sipgo did not take the %s connection %s", network, addr)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-gone:
			return fmt.Errorf("uaclient: the %s connection %s closed before sipgo took it", network, addr)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// connect dials a new TCP flow to the proxy through netkeep and hands it to
// sipgo.
func (c *Client) connect(ctx context.Context) error {
	d := net.Dialer{Timeout: c.cfg.RequestTimeout}
	if a := c.ln.addr.(*net.TCPAddr); a.Port != 0 || !a.IP.IsUnspecified() {
		d.LocalAddr = a
	}
	raw, err := d.DialContext(ctx, "tcp", c.cfg.Proxy)
	if err != nil {
		return fmt.Errorf("uaclient: dial %s: %w", c.cfg.Proxy, err)
	}
	w := c.keeper.WrapConn(raw).(*netkeep.Conn)
	// The current flow before sipgo reads it: a close seen by its first
	// read is then this flow's failure.
	c.mu.Lock()
	c.conn, c.laddr = w, w.LocalAddr().String()
	c.mu.Unlock()
	cw := &closeWatch{Conn: w, c: c, gone: make(chan struct{})}
	if !c.ln.push(cw) {
		w.Close()
		return net.ErrClosed
	}
	c.log.Info("connected", "local", w.LocalAddr(), "remote", w.RemoteAddr())
	return c.waitPooled(ctx, "tcp", w.LocalAddr().String(), cw.gone)
}

// closeWatch is the TCP flow as sipgo reads it: a read error other than our
// own Close (the proxy closed or reset the connection, or restarted) is a
// failed flow (RFC 5626 §4.4.1). Without it the UA would notice only when its
// next ping went unanswered for 10 s (K2), or never if the ping could not
// even be written.
type closeWatch struct {
	*netkeep.Conn
	c    *Client
	once sync.Once
	gone chan struct{} // closed at the first read error
}

func (w *closeWatch) Read(p []byte) (int, error) {
	n, err := w.Conn.Read(p)
	if err != nil {
		w.once.Do(func() {
			close(w.gone)
			if !errors.Is(err, net.ErrClosed) {
				w.c.flowClosed(w.Conn, err)
			}
		})
	}
	return n, err
}

// flowClosed reports the end of the current TCP flow and makes Run
// re-register on a new connection.
func (c *Client) flowClosed(conn *netkeep.Conn, err error) {
	c.mu.Lock()
	current := c.conn == conn
	c.mu.Unlock()
	if !current || c.closed.Load() {
		return
	}
	f := conn.Flow()
	c.log.Warn("connection closed by the peer", "flow", f.Local.String()+"->"+f.Remote.String(), "err", err)
	c.emit(Event{Kind: EventFlowClosed, Flow: f, Err: err})
	select {
	case c.failed <- f:
	default:
	}
}

// Close unregisters nothing (Run does that) and releases sockets, sipgo and
// the host.
func (c *Client) Close() error {
	c.closed.Store(true)
	if c.ln != nil {
		c.ln.Close()
	}
	c.mu.Lock()
	if c.conn != nil {
		c.conn.Close()
	}
	c.mu.Unlock()
	if c.pc != nil {
		c.pc.Close()
	}
	if c.ua != nil {
		c.ua.Close()
	}
	if c.host != nil {
		return c.host.Close(context.Background())
	}
	return nil
}

// Keeper exposes the netkeep counters (keep-alives sent and answered).
func (c *Client) Keeper() *netkeep.Keeper { return c.keeper }

// LocalAddr is the local address of the current flow.
func (c *Client) LocalAddr() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.laddr
}

var errNoFlow = errors.New("uaclient: no flow")

func netParseIP(s string) net.IP { return net.ParseIP(s) }
