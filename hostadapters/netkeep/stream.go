package netkeep

import (
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/host"
)

var (
	crlf     = []byte("\r\n")
	crlfcrlf = []byte("\r\n\r\n")
)

// Conn is a SIP stream (TCP or TLS) under sipkeep. Reads return whole SIP
// messages only (keep-alive CRLFs are consumed and answered), writes pass
// each message through the plugin.
type Conn struct {
	net.Conn
	k    *Keeper
	flow host.Flow

	rmu      sync.Mutex // the read side: rfr, out, rerr
	rfr      framer
	out      []byte // framed message bytes not yet returned to the reader
	rerr     error  // sticky error, returned once out is drained
	rbuf     []byte
	readIdle atomic.Int64 // the reader's last deadline as a duration; re-armed after keep-alives

	wmu sync.Mutex // the write side: wfr (serialises the application's writes)
	wfr framer

	sockMu   sync.Mutex   // bytes on the wire: application writes, pongs, pings
	pingsOut atomic.Int32 // our pings not yet answered

	closeOnce sync.Once
}

// WrapConn puts a dialed stream under the Keeper (client side). A *tls.Conn is
// a TLS flow, anything else TCP.
func (k *Keeper) WrapConn(c net.Conn) net.Conn { return k.wrapConn(c) }

// WrapConnTransport is WrapConn with the transport stated (e.g. TLS through a
// wrapper that hides the *tls.Conn).
func (k *Keeper) WrapConnTransport(c net.Conn, t abi.Transport) *Conn {
	w := &Conn{
		Conn: c,
		k:    k,
		flow: host.Flow{Transport: t, Local: addrPort(c.LocalAddr()), Remote: addrPort(c.RemoteAddr())},
		rbuf: make([]byte, 32<<10),
	}
	w.rfr.max, w.wfr.max = k.maxMessage, k.maxMessage
	k.addStream(w)
	return w
}

func (k *Keeper) wrapConn(c net.Conn) *Conn {
	t := abi.TransportTCP
	if _, ok := c.(*tls.Conn); ok {
		t = abi.TransportTLS
	}
	return k.WrapConnTransport(c, t)
}

// Flow is the stream's flow key.
func (c *Conn) Flow() host.Flow { return c.flow }

// Read returns framed SIP message bytes. Keep-alives are consumed: each ping is
// answered with a pong and reported, each lone CRLF is reported as a pong.
func (c *Conn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for len(c.out) == 0 {
		if c.rerr != nil {
			return 0, c.rerr
		}
		keepalive, err := c.drainFramer()
		if err != nil {
			c.rerr = err
			continue
		}
		if len(c.out) > 0 {
			break
		}
		if keepalive {
			c.rearmReadDeadline()
		}
		n, err := c.Conn.Read(c.rbuf)
		c.rfr.feed(c.rbuf[:n])
		if err != nil {
			// Frame what arrived before the error, then report it.
			if _, ferr := c.drainFramer(); ferr != nil {
				err = ferr
			}
			c.rerr = err
		}
	}
	n := copy(p, c.out)
	c.out = c.out[n:]
	if len(c.out) == 0 {
		c.out = c.out[:0:0]
	}
	return n, nil
}

// drainFramer takes every complete item off the read buffer.
func (c *Conn) drainFramer() (keepalive bool, err error) {
	for {
		expect := c.pingsOut.Load() > 0
		it, msg, err := c.rfr.next(expect, expect)
		if err != nil {
			return keepalive, err
		}
		switch it {
		case itemNone:
			return keepalive, nil
		case itemPing:
			keepalive = true
			c.k.cnt.pingsAnswered.Add(1)
			if err := c.writeRaw(crlf); err != nil {
				return keepalive, err
			}
			c.k.handle(abi.KindPing, abi.DirIn, c.flow, crlfcrlf)
		case itemPong:
			keepalive = true
			c.k.cnt.pongsIn.Add(1)
			for {
				n := c.pingsOut.Load()
				if n <= 0 || c.pingsOut.CompareAndSwap(n, n-1) {
					break
				}
			}
			c.k.handle(abi.KindPong, abi.DirIn, c.flow, crlf)
		case itemMessage:
			c.k.cnt.sipIn.Add(1)
			c.k.handle(sipKind(msg), abi.DirIn, c.flow, msg)
			c.out = append(c.out, msg...)
		}
	}
}

// SetReadDeadline remembers the reader's timeout so that a keep-alive, which
// the reader never sees, still counts as activity (sipgo's ReadTimeout).
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.noteReadDeadline(t)
	return c.Conn.SetReadDeadline(t)
}

// SetDeadline: see SetReadDeadline.
func (c *Conn) SetDeadline(t time.Time) error {
	c.noteReadDeadline(t)
	return c.Conn.SetDeadline(t)
}

func (c *Conn) noteReadDeadline(t time.Time) {
	if t.IsZero() {
		c.readIdle.Store(0)
		return
	}
	c.readIdle.Store(int64(time.Until(t)))
}

func (c *Conn) rearmReadDeadline() {
	if d := time.Duration(c.readIdle.Load()); d > 0 {
		_ = c.Conn.SetReadDeadline(time.Now().Add(d))
	}
}

// Write frames what the application writes; each whole SIP message passes
// through the plugin and leaves with its edits. A partial message is held
// until the rest is written. Keep-alive CRLFs written by the application pass
// unchanged.
func (c *Conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wfr.feed(p)
	for {
		it, msg, err := c.wfr.next(false, true)
		if err != nil {
			// Not SIP we can frame: pass it through rather than break the
			// application's stream.
			raw := c.wfr.buf
			c.wfr.buf = nil
			if werr := c.writeRaw(raw); werr != nil {
				return 0, werr
			}
			return len(p), nil
		}
		switch it {
		case itemNone:
			return len(p), nil
		case itemPing:
			c.pingsOut.Add(1)
			if err := c.writeRaw(crlfcrlf); err != nil {
				return 0, err
			}
		case itemPong:
			if err := c.writeRaw(crlf); err != nil {
				return 0, err
			}
		case itemMessage:
			c.k.cnt.sipOut.Add(1)
			res := c.k.handle(sipKind(msg), abi.DirOut, c.flow, msg)
			if err := c.writeRaw(res.Message); err != nil {
				return 0, err
			}
		}
	}
}

func (c *Conn) writeRaw(b []byte) error {
	c.sockMu.Lock()
	defer c.sockMu.Unlock()
	for len(b) > 0 {
		n, err := c.Conn.Write(b)
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// sendPing writes CRLFCRLF (action send-ping).
func (c *Conn) sendPing() error {
	c.pingsOut.Add(1)
	if err := c.writeRaw(crlfcrlf); err != nil {
		c.pingsOut.Add(-1)
		return err
	}
	c.k.cnt.pingsSent.Add(1)
	return nil
}

// Close closes the stream and forgets its flow.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() { c.k.removeStream(c) })
	return c.Conn.Close()
}

// Listener accepts streams under the Keeper.
type Listener struct {
	net.Listener
	k *Keeper
}

// WrapListener wraps a TCP or TLS listener: every accepted stream is a *Conn.
// A listener from tls.NewListener yields TLS flows.
func (k *Keeper) WrapListener(l net.Listener) net.Listener {
	k.addLocal(addrPort(l.Addr()))
	return &Listener{Listener: l, k: k}
}

// Accept wraps the next stream.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return l.k.wrapConn(c), nil
}

// Close closes the listener.
func (l *Listener) Close() error {
	l.k.removeLocal(addrPort(l.Listener.Addr()))
	return l.Listener.Close()
}

// errNoFlow: an action for a flow no wrapped socket carries.
var errNoFlow = errors.New("netkeep: no wrapped socket for the flow")
