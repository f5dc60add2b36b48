package netkeep

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
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
	k        *Keeper
	flow     host.Flow
	accepted bool // from a wrapped Listener: the idle timeout applies

	rmu      sync.Mutex // the read side: rfr, queue, cur, rerr, msgStart
	rfr      framer
	queue    []framed // framed messages not yet returned to the reader
	cur      framed   // the message being returned
	rerr     error    // sticky error, returned once the messages are drained
	msgStart time.Time
	msgSeq   int          // rfr.done when msgStart was set
	readIdle atomic.Int64 // the reader's last deadline as a duration; re-armed after keep-alives

	dlMu        sync.Mutex // deadlines: the application's and netkeep's
	appDeadline time.Time
	ourDeadline time.Time

	lastActive atomic.Int64 // unix ns of the last message or keep-alive, either way
	keepFlow   atomic.Bool  // the plugin sends or expects keep-alives on this flow
	regFlow    atomic.Bool  // a 2xx to a REGISTER went out on this stream

	wmu sync.Mutex // the write side: wfr (serialises the application's writes)
	wfr framer

	sockMu   sync.Mutex   // bytes on the wire: application writes, pongs, pings
	pingsOut atomic.Int32 // our pings not yet answered

	closeOnce sync.Once
}

// framed is one message for the reader; head is how many of its bytes are
// headers (see cut).
type framed struct {
	msg  []byte
	head int
}

// readWindow is the least free buffer a socket read gets.
const readWindow = 2 << 10

// WrapConn puts a dialed stream under the Keeper (client side). A *tls.Conn is
// a TLS flow, anything else TCP.
func (k *Keeper) WrapConn(c net.Conn) net.Conn { return k.wrapConn(c, false) }

// WrapConnTransport is WrapConn with the transport stated (e.g. TLS through a
// wrapper that hides the *tls.Conn).
func (k *Keeper) WrapConnTransport(c net.Conn, t abi.Transport) *Conn {
	return k.wrapConnTransport(c, t, false)
}

func (k *Keeper) wrapConnTransport(c net.Conn, t abi.Transport, accepted bool) *Conn {
	w := &Conn{
		Conn:     c,
		k:        k,
		flow:     host.Flow{Transport: t, Local: addrPort(c.LocalAddr()), Remote: addrPort(c.RemoteAddr())},
		accepted: accepted,
		rfr:      newFramer(k.lim, true, true),
		wfr:      newFramer(unlimited, false, false),
	}
	w.lastActive.Store(time.Now().UnixNano())
	k.addStream(w)
	return w
}

// unlimited: the write side frames the application's own messages.
var unlimited = Limits{Message: -1, Header: -1, Lines: -1, Folds: -1}

func (k *Keeper) wrapConn(c net.Conn, accepted bool) *Conn {
	t := abi.TransportTCP
	if _, ok := c.(*tls.Conn); ok {
		t = abi.TransportTLS
	}
	return k.wrapConnTransport(c, t, accepted)
}

// Flow is the stream's flow key.
func (c *Conn) Flow() host.Flow { return c.flow }

// Read returns framed SIP message bytes, from one message per call, so that a
// reader's stream parser sees the messages netkeep framed and the plugin saw.
// Keep-alives are consumed: each ping is answered with a pong and reported,
// each lone CRLF is reported as a pong.
func (c *Conn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for len(c.cur.msg) == 0 {
		if len(c.queue) > 0 {
			c.cur, c.queue[0] = c.queue[0], framed{}
			c.queue = c.queue[1:]
			if len(c.queue) == 0 {
				c.queue = nil
			}
			break
		}
		if c.rerr != nil {
			return 0, c.rerr
		}
		keepalive, err := c.drainFramer()
		if err != nil {
			c.fail(err)
			continue
		}
		if len(c.queue) > 0 {
			continue
		}
		if keepalive {
			c.rearmReadDeadline()
		}
		// The message timeout runs from when a message is first seen
		// partial: a new one (the last completed, the next begun in the
		// same read) restarts it.
		if c.rfr.inMessage() {
			if c.msgStart.IsZero() || c.msgSeq != c.rfr.done {
				c.msgStart, c.msgSeq = time.Now(), c.rfr.done
			}
		} else {
			c.msgStart = time.Time{}
		}
		c.readSocket()
	}
	n := cut(len(p), c.cur)
	copy(p, c.cur.msg[:n])
	c.cur.msg, c.cur.head = c.cur.msg[n:], c.cur.head-n
	if len(c.cur.msg) == 0 {
		c.cur = framed{}
	}
	return n, nil
}

// cut is how many bytes of m a read of size room returns. A cut inside the
// headers never falls just after a line's CRLF: a stream parser that reaches
// the end of its buffer there cannot know whether the next line folds onto
// that one (sipgo then parses the next, folded, line as a header of its own).
func cut(room int, m framed) int {
	n := min(room, len(m.msg))
	if n < len(m.msg) && n < m.head && n > 1 && m.msg[n-1] == '\n' {
		n--
	}
	return n
}

// readSocket reads once into the framer, under the earliest of the
// application's deadline and netkeep's (message or idle timeout).
func (c *Conn) readSocket() {
	c.armDeadline()
	n, err := c.Conn.Read(c.rfr.space(readWindow))
	c.rfr.grew(n)
	if err == nil {
		return
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		ours, spurious := c.timeoutCause()
		if spurious {
			return // the deadline moved on since the read began
		}
		if ours != nil {
			c.fail(ours)
			return
		}
	}
	// Frame what arrived before the error, then report it.
	if _, ferr := c.drainFramer(); ferr != nil {
		c.fail(ferr)
		return
	}
	c.rerr = err
	c.rfr.release()
}

// fail ends the stream: a framing error is answered (400, 513) when the
// request can be answered, then the stream closes; its buffers go with it.
func (c *Conn) fail(err error) {
	var fe *frameError
	if errors.As(err, &fe) {
		c.k.cnt.framingErrors.Add(1)
		if res := c.rfr.errorResponse(fe); res != nil {
			// Do not let a peer that stopped reading hold us here.
			_ = c.Conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
			if c.writeRaw(res) == nil {
				c.k.cnt.rejectsAnswered.Add(1)
			}
		}
	} else {
		c.k.cnt.timeouts.Add(1)
	}
	c.k.log.Debug("sipkeep: stream closed", "flow", flowString(c.flow), "err", err)
	// The reader learns why, and that netkeep closed the stream (sipgo then
	// logs it as a closed connection, at debug: a peer cannot fill the
	// error log by opening bad streams; Stats counts them).
	c.rerr = fmt.Errorf("%w; %w", err, net.ErrClosed)
	c.rfr.release()
	_ = c.Close()
}

// drainFramer takes every complete item off the read buffer.
func (c *Conn) drainFramer() (keepalive bool, err error) {
	for {
		expect := c.pingsOut.Load() > 0
		it, msg, err := c.rfr.next(expect, expect)
		if err != nil {
			return keepalive, err
		}
		if it == itemNone {
			return keepalive, nil
		}
		c.lastActive.Store(time.Now().UnixNano())
		switch it {
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
			c.queue = append(c.queue, framed{msg, c.rfr.lastHead})
		}
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
			raw := c.wfr.store[c.wfr.r:c.wfr.w]
			c.wfr = newFramer(unlimited, false, false)
			if werr := c.writeRaw(raw); werr != nil {
				return 0, werr
			}
			return len(p), nil
		}
		if it != itemNone {
			c.lastActive.Store(time.Now().UnixNano())
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
			if c.accepted && !c.regFlow.Load() && isRegisterOK(msg) {
				c.regFlow.Store(true) // see Limits.IdleTimeout
			}
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

// Close closes the stream and forgets its flow. Its buffers are dropped now,
// or by the reader or writer holding them when it returns.
// Closing again returns nil (netkeep closes a stream it refused; the
// application's own Close then has nothing left to do).
func (c *Conn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		err = c.Conn.Close()
		c.k.removeStream(c)
	})
	if c.rmu.TryLock() {
		c.rfr.release()
		c.queue, c.cur = nil, framed{}
		if c.rerr == nil {
			c.rerr = net.ErrClosed
		}
		c.rmu.Unlock()
	}
	if c.wmu.TryLock() {
		c.wfr.release()
		c.wmu.Unlock()
	}
	return err
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
	return l.k.wrapConn(c, true), nil
}

// Close closes the listener.
func (l *Listener) Close() error {
	l.k.removeLocal(addrPort(l.Listener.Addr()))
	return l.Listener.Close()
}

// errNoFlow: an action for a flow no wrapped socket carries.
var errNoFlow = errors.New("netkeep: no wrapped socket for the flow")
