package netkeep

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/host"
)

// maxHandshake bounds the HTTP upgrade request or response netkeep passes
// through before WebSocket framing starts.
const maxHandshake = 16 << 10

// WSConn is a SIP-over-WebSocket stream (RFC 7118, WS or WSS) under sipkeep.
// It sits below the application's WebSocket code (sipgo's WS transport), on
// the bytes of the connection: the HTTP upgrade passes through unchanged,
// then every frame is parsed.
//
// Peer to application: a data message (text or binary, fragmented or not)
// is one SIP message or a keep-alive. CRLFCRLF is answered with a CRLF in a
// text message and reported as a ping, a lone CRLF is a pong; neither reaches
// the application. A SIP message is checked (start line, end of headers,
// Content-Length if present), shown to the plugin and handed up as a single
// text frame. WebSocket pings are answered with pongs here. Anything else
// (non-SIP payload, oversized or malformed frames) closes the connection with
// the matching close code.
//
// Application to peer: each SIP message written passes through the plugin
// and leaves in one frame with its edits; CRLFCRLF pings written by the
// application are counted so the CRLF that answers them is a pong.
type WSConn struct {
	net.Conn
	k      *Keeper
	flow   host.Flow
	client bool // we opened the connection: our frames are masked, the peer's are not

	rmu  sync.Mutex // the read side
	rin  []byte     // bytes read from the socket, not yet parsed
	rhs  bool       // the peer's half of the handshake has passed
	msg  []byte     // a fragmented message being reassembled
	mop  byte       // its opcode; 0: none in progress
	out  []byte     // bytes for the application's reader
	rerr error
	rbuf []byte

	wmu sync.Mutex // the write side
	win []byte
	whs bool

	sockMu   sync.Mutex // frames on the wire: application writes, pongs, pings, close
	pingsOut atomic.Int32
	closeOut atomic.Bool // a close frame was sent

	closeOnce sync.Once
}

// WrapWSConn puts a WebSocket connection under the Keeper, before its HTTP
// upgrade: c is the raw TCP connection (WS) or the TLS connection (WSS).
// client is true for a connection we dial (sender side).
func (k *Keeper) WrapWSConn(c net.Conn, t abi.Transport, client bool) *WSConn {
	w := &WSConn{
		Conn:   c,
		k:      k,
		client: client,
		flow:   host.Flow{Transport: t, Local: addrPort(c.LocalAddr()), Remote: addrPort(c.RemoteAddr())},
		rbuf:   make([]byte, 32<<10),
	}
	k.wsStreams.add(w)
	return w
}

// Flow is the connection's flow key.
func (c *WSConn) Flow() host.Flow { return c.flow }

func (c *WSConn) limit() int { return c.k.lim.Message }

// Read returns the handshake bytes, then one text frame per SIP message.
func (c *WSConn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for len(c.out) == 0 {
		if c.rerr != nil {
			return 0, c.rerr
		}
		if err := c.drain(); err != nil {
			c.fail(err)
			continue
		}
		if len(c.out) > 0 {
			break
		}
		n, err := c.Conn.Read(c.rbuf)
		c.rin = append(c.rin, c.rbuf[:n]...)
		if err != nil {
			if derr := c.drain(); derr != nil {
				c.fail(derr)
			} else {
				c.rerr = err
			}
		}
	}
	n := copy(p, c.out)
	c.out = c.out[n:]
	if len(c.out) == 0 {
		c.out = c.out[:0:0]
	}
	return n, nil
}

// drain handles every whole frame in rin.
func (c *WSConn) drain() error {
	for c.rerr == nil {
		if !c.rhs {
			i := bytes.Index(c.rin, crlfcrlf)
			if i < 0 {
				if len(c.rin) > maxHandshake {
					return &wsError{wsCloseProtocol, "no end of the HTTP upgrade within 16 KiB"}
				}
				return nil
			}
			c.out = append(c.out, c.rin[:i+4]...)
			c.consume(i + 4)
			c.rhs = true
			// The handshake alone: the application's WebSocket library
			// reads it through a buffer it discards after the upgrade
			// (gobwas/ws's Upgrader), so frames must come in a later Read.
			return nil
		}
		f, n, err := parseWSFrame(c.rin, !c.client, c.limit())
		if err != nil || n == 0 {
			return err
		}
		err = c.onFrame(f)
		c.consume(n)
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *WSConn) consume(n int) {
	c.rin = c.rin[n:]
	if len(c.rin) == 0 {
		c.rin = c.rin[:0:0]
	}
}

// onFrame handles one frame from the peer. f.payload points into rin.
func (c *WSConn) onFrame(f wsFrame) error {
	switch f.op {
	case wsOpPing:
		return c.writeFrame(wsOpPong, f.payload)
	case wsOpPong:
		return nil
	case wsOpClose:
		code := uint16(wsCloseNormal)
		if len(f.payload) >= 2 {
			code = uint16(f.payload[0])<<8 | uint16(f.payload[1])
		}
		c.sendClose(code, "")
		c.rerr = io.EOF
		return nil
	case wsOpText, wsOpBinary:
		if c.mop != 0 {
			return &wsError{wsCloseProtocol, "a new message started inside a fragmented one"}
		}
		if f.fin {
			return c.onMessage(f.payload)
		}
		c.mop = f.op
		c.msg = append(c.msg[:0], f.payload...)
		return nil
	default: // continuation
		if c.mop == 0 {
			return &wsError{wsCloseProtocol, "continuation frame without a message"}
		}
		if len(c.msg)+len(f.payload) > c.limit() {
			return &wsError{wsCloseTooBig, fmt.Sprintf("fragmented message exceeds %d bytes", c.limit())}
		}
		c.msg = append(c.msg, f.payload...)
		if !f.fin {
			return nil
		}
		m := c.msg
		c.msg, c.mop = nil, 0
		return c.onMessage(m)
	}
}

// onMessage handles one whole data message: a keep-alive or a SIP message.
func (c *WSConn) onMessage(m []byte) error {
	switch {
	case bytes.Equal(m, crlfcrlf):
		c.k.cnt.pingsAnswered.Add(1)
		if err := c.writeFrame(wsOpText, crlf); err != nil {
			return err
		}
		c.k.handle(abi.KindPing, abi.DirIn, c.flow, crlfcrlf)
		return nil
	case bytes.Equal(m, crlf):
		c.k.cnt.pongsIn.Add(1)
		for {
			n := c.pingsOut.Load()
			if n <= 0 || c.pingsOut.CompareAndSwap(n, n-1) {
				break
			}
		}
		c.k.handle(abi.KindPong, abi.DirIn, c.flow, crlf)
		return nil
	}
	if err := checkSIPMessage(m, c.k.lim); err != nil {
		return &wsError{wsCloseUnsupported, err.Error()}
	}
	c.k.cnt.sipIn.Add(1)
	c.k.handle(sipKind(m), abi.DirIn, c.flow, m)
	// Handed up as one text frame whatever the peer used (binary,
	// fragments): the application's WebSocket reader then sees only what
	// it handles well. A server reads masked frames; the zero key leaves
	// the bytes as they are.
	var mask *[4]byte
	if !c.client {
		mask = &zeroMask
	}
	c.out = appendWSFrame(c.out, wsOpText, m, mask)
	return nil
}

var zeroMask [4]byte

// fail ends the read side on a protocol error: the peer gets a close frame
// with the matching code, the reader gets the error (and closes the conn).
func (c *WSConn) fail(err error) {
	var we *wsError
	code, reason := uint16(wsCloseProtocol), err.Error()
	if errors.As(err, &we) {
		code, reason = we.code, we.reason
	}
	c.k.log.Info("sipkeep: WebSocket flow closed on bad input", "flow", flowString(c.flow), "err", err)
	c.sendClose(code, reason)
	c.linger()
	c.rerr = err
}

// Bounds on reading what a peer still sends after our close frame.
const (
	wsLingerTime  = time.Second
	wsLingerBytes = 2 << 20
)

// linger reads and discards what the peer still sends after a close frame,
// for a bounded time and byte count (RFC 6455 §7.1.1: the server closes the
// TCP connection after the closing handshake). Closing a socket with unread
// bytes makes the kernel reset the connection, and the reset can destroy our
// close frame before the peer reads it.
func (c *WSConn) linger() {
	if err := c.Conn.SetReadDeadline(time.Now().Add(wsLingerTime)); err != nil {
		return
	}
	for left := wsLingerBytes; left > 0; {
		n, err := c.Conn.Read(c.rbuf)
		left -= n
		if err != nil {
			return
		}
	}
}

// Write frames what the application writes; each SIP message in a whole
// data frame passes through the plugin and leaves in one frame with its
// edits. The handshake and control frames pass unchanged.
func (c *WSConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.win = append(c.win, p...)
	if !c.whs {
		i := bytes.Index(c.win, crlfcrlf)
		if i < 0 && len(c.win) <= maxHandshake {
			return len(p), nil
		}
		end := len(c.win)
		if i >= 0 {
			end = i + 4
		}
		if err := c.writeRaw(c.win[:end]); err != nil {
			return 0, err
		}
		c.win = c.win[end:]
		c.whs = true
	}
	for len(c.win) > 0 {
		f, n, err := parseWSFrame(c.win, c.client, 1<<31-1)
		if err != nil {
			// Not frames we can read: pass them on rather than break
			// the application's stream.
			raw := c.win
			c.win = nil
			if werr := c.writeRaw(raw); werr != nil {
				return 0, werr
			}
			return len(p), nil
		}
		if n == 0 {
			break
		}
		if err := c.writeOut(f); err != nil {
			return 0, err
		}
		c.win = c.win[n:]
	}
	if len(c.win) == 0 {
		c.win = c.win[:0:0]
	}
	return len(p), nil
}

func (c *WSConn) writeOut(f wsFrame) error {
	if !f.fin || (f.op != wsOpText && f.op != wsOpBinary) {
		if f.op == wsOpClose {
			c.closeOut.Store(true)
		}
		return c.writeFrameFin(f.op, f.fin, f.payload)
	}
	switch {
	case bytes.Equal(f.payload, crlfcrlf):
		c.pingsOut.Add(1)
		return c.writeFrame(f.op, f.payload)
	case len(bytes.Trim(f.payload, "\r\n")) == 0:
		return c.writeFrame(f.op, f.payload)
	}
	c.k.cnt.sipOut.Add(1)
	res := c.k.handle(sipKind(f.payload), abi.DirOut, c.flow, f.payload)
	return c.writeFrame(f.op, res.Message)
}

// writeFrame sends one whole frame, masked with a fresh key when we are the
// client (RFC 6455 §5.3).
func (c *WSConn) writeFrame(op byte, payload []byte) error {
	return c.writeFrameFin(op, true, payload)
}

func (c *WSConn) writeFrameFin(op byte, fin bool, payload []byte) error {
	var mask *[4]byte
	if c.client {
		var m [4]byte
		_, _ = rand.Read(m[:])
		mask = &m
	}
	b := appendWSFrame(make([]byte, 0, len(payload)+14), op, payload, mask)
	if !fin {
		b[0] &^= 0x80
	}
	return c.writeRaw(b)
}

func (c *WSConn) writeRaw(b []byte) error {
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

// sendClose sends a close frame once (best effort: the peer may be gone).
func (c *WSConn) sendClose(code uint16, reason string) {
	if c.closeOut.Swap(true) {
		return
	}
	_ = c.writeFrame(wsOpClose, closePayload(code, reason))
}

// sendPing sends CRLFCRLF in a text message (action send-ping over WS).
func (c *WSConn) sendPing() error {
	c.pingsOut.Add(1)
	if err := c.writeFrame(wsOpText, crlfcrlf); err != nil {
		c.pingsOut.Add(-1)
		return err
	}
	c.k.cnt.pingsSent.Add(1)
	return nil
}

// Close closes the connection and forgets its flow.
func (c *WSConn) Close() error {
	c.closeOnce.Do(func() { c.k.wsStreams.remove(c.k, c) })
	return c.Conn.Close()
}

// WSListener accepts WebSocket connections under the Keeper.
type WSListener struct {
	net.Listener
	k *Keeper
	t abi.Transport
}

// WrapWSListener wraps a listener whose connections will be upgraded to
// WebSocket by the application: a TCP listener (t = abi.TransportWS) or a TLS
// listener (abi.TransportWSS).
func (k *Keeper) WrapWSListener(l net.Listener, t abi.Transport) net.Listener {
	k.addLocal(addrPort(l.Addr()))
	return &WSListener{Listener: l, k: k, t: t}
}

// Accept wraps the next connection.
func (l *WSListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return l.k.WrapWSConn(c, l.t, false), nil
}

// Close closes the listener.
func (l *WSListener) Close() error {
	l.k.removeLocal(addrPort(l.Listener.Addr()))
	return l.Listener.Close()
}

// wsRegistry finds a WebSocket connection by flow for the plugin's actions.
type wsRegistry struct {
	mu sync.Mutex
	m  map[streamKey]*WSConn
}

func (r *wsRegistry) add(c *WSConn) {
	r.mu.Lock()
	if r.m == nil {
		r.m = map[streamKey]*WSConn{}
	}
	r.m[streamKey{c.flow.Local, c.flow.Remote}] = c
	r.mu.Unlock()
}

func (r *wsRegistry) get(f host.Flow) *WSConn {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.m[streamKey{f.Local, f.Remote}]
}

// remove drops c and, as for any closed stream, makes the host forget its
// flow and tells the application.
func (r *wsRegistry) remove(k *Keeper, c *WSConn) {
	key := streamKey{c.flow.Local, c.flow.Remote}
	r.mu.Lock()
	mine := r.m[key] == c
	if mine {
		delete(r.m, key)
	}
	r.mu.Unlock()
	if !mine {
		return
	}
	k.flowClosed(c.flow)
}

// checkSIPMessage is the check a WebSocket message gets before the SIP
// parser sees it: the header checks and limits a UDP datagram gets (one
// authority on what a message is), and a Content-Length (optional over
// WebSocket, RFC 7118 §5) that matches the body exactly when present, since
// a WebSocket message carries exactly one SIP message.
func checkSIPMessage(m []byte, lim Limits) error {
	if len(m) > lim.Message {
		return fmt.Errorf("%w: message of %d bytes exceeds %d", ErrFraming, len(m), lim.Message)
	}
	n, ferr := checkDatagram(m, lim)
	if ferr != nil {
		return ferr
	}
	if n != len(m) {
		return fmt.Errorf("%w: Content-Length does not match the body", ErrFraming)
	}
	return nil
}

// sendWSPing carries out send-ping on a WebSocket flow: CRLFCRLF in a text
// message, the keep-alive RFC 7118 clients send (SIP.js keepAliveInterval).
func (k *Keeper) sendWSPing(f host.Flow, a abi.Action, at time.Time, log *slog.Logger) {
	c := k.wsStreams.get(f)
	if c == nil {
		log.Warn("sipkeep: cannot send ping", "err", errNoFlow)
		return
	}
	if err := c.sendPing(); err != nil {
		log.Warn("sipkeep: ping not sent", "err", err)
		return
	}
	log.Debug("sipkeep: ping sent over WebSocket", "pong_deadline_ms", a.Value)
	k.emit(f, a, at)
}
