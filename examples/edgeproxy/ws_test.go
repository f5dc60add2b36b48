package main_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/sipkeep/sipkeep/examples/edgeproxy/proxy"
	"github.com/sipkeep/sipkeep/internal/testtls"
)

// The WebSocket tests speak RFC 7118 to the edge proxy with gobwas/ws (the
// library under sipgo's WS transport) as the client: frames are written as
// a browser would, and bad ones as a broken client would.

// withSecure turns on TLS, WS and WSS on random ports.
func withSecure(t testing.TB) proxyOpt {
	cert := testtls.New(t)
	return func(c *proxy.Config) {
		c.TLSListen, c.WSListen, c.WSSListen = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
		c.TLSCert, c.TLSKey = cert.CertFile, cert.KeyFile
	}
}

// wsClient is one WebSocket connection to the proxy.
type wsClient struct {
	t         testing.TB
	c         net.Conn
	transport string
}

func dialWS(t testing.TB, p *proxy.Proxy, transport string) *wsClient {
	t.Helper()
	d := ws.Dialer{Protocols: []string{"sip"}, TLSConfig: &tls.Config{InsecureSkipVerify: true}, Timeout: 5 * time.Second}
	scheme := strings.ToLower(transport)
	url := fmt.Sprintf("%s://127.0.0.1:%d/", scheme, p.PortOf(transport))
	c, br, hs, err := d.Dial(context.Background(), url)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	if br != nil {
		ws.PutReader(br)
	}
	if hs.Protocol != "sip" {
		t.Fatalf("subprotocol %q, want sip (RFC 7118 §4.1)", hs.Protocol)
	}
	t.Cleanup(func() { c.Close() })
	return &wsClient{t: t, c: c, transport: strings.ToUpper(transport)}
}

func (w *wsClient) send(s string) {
	w.t.Helper()
	if err := wsutil.WriteClientText(w.c, []byte(s)); err != nil {
		w.t.Fatal(err)
	}
}

// next reads the next data message (control frames other than close are
// skipped); err is io.EOF after a close frame.
func (w *wsClient) next(timeout time.Duration) (string, ws.OpCode, error) {
	w.c.SetReadDeadline(time.Now().Add(timeout))
	for {
		h, err := ws.ReadHeader(w.c)
		if err != nil {
			return "", 0, err
		}
		p := make([]byte, h.Length)
		if _, err := io.ReadFull(w.c, p); err != nil {
			return "", 0, err
		}
		switch h.OpCode {
		case ws.OpClose:
			code := 0
			if len(p) >= 2 {
				code = int(p[0])<<8 | int(p[1])
			}
			return fmt.Sprint(code), ws.OpClose, io.EOF
		case ws.OpText, ws.OpBinary, ws.OpPong:
			return string(p), h.OpCode, nil
		}
	}
}

// response reads until a SIP response arrives.
func (w *wsClient) response() string {
	w.t.Helper()
	for {
		m, _, err := w.next(5 * time.Second)
		if err != nil {
			w.t.Fatalf("waiting for a response: %v", err)
		}
		if strings.HasPrefix(m, "SIP/2.0 ") {
			return m
		}
	}
}

var wsSeq int

// register is a REGISTER as SIP.js writes it (Via host *.invalid, Contact
// with transport=ws), with ;keep when keep is set.
func (w *wsClient) register(user string, keep bool) string {
	wsSeq++
	k := ""
	if keep {
		k = ";keep"
	}
	return fmt.Sprintf("REGISTER sip:127.0.0.1 SIP/2.0\r\n"+
		"Via: SIP/2.0/%s abcd%d.invalid;branch=z9hG4bKws%d%s\r\n"+
		"Max-Forwards: 70\r\n"+
		"To: <sip:%s@127.0.0.1>\r\n"+
		"From: <sip:%s@127.0.0.1>;tag=t%d\r\n"+
		"Call-ID: ws%d@test\r\n"+
		"CSeq: 1 REGISTER\r\n"+
		"Contact: <sip:%s@abcd%d.invalid;transport=ws>;expires=600\r\n"+
		"Content-Length: 0\r\n\r\n",
		w.transport, wsSeq, wsSeq, k, user, user, wsSeq, wsSeq, user, wsSeq)
}

// W1: the receiver role over WS and WSS — the 200 to a REGISTER whose top
// Via (SIP/2.0/WS, SIP/2.0/WSS) has ;keep carries keep=N; without ;keep none.
func TestW1_RegisterOverWebSocketGetsKeep(t *testing.T) {
	p := startProxy(t, withSecure(t))
	for _, tr := range []string{"WS", "WSS"} {
		t.Run(tr, func(t *testing.T) {
			c := dialWS(t, p, tr)
			c.send(c.register("alice"+tr, true))
			res := c.response()
			if !strings.HasPrefix(res, "SIP/2.0 200") {
				t.Fatalf("got %q", firstLine(res))
			}
			if ok, v := keepOf(topVia(res)); !ok || v != "30" {
				t.Fatalf("top Via %q: want keep=30", topVia(res))
			}
			if !strings.Contains(topVia(res), "SIP/2.0/"+tr) {
				t.Fatalf("top Via %q is not the client's %s Via", topVia(res), tr)
			}
			c.send(c.register("bob"+tr, false))
			res = c.response()
			if ok, _ := keepOf(topVia(res)); ok {
				t.Fatalf("keep granted without ;keep: %q", topVia(res))
			}
		})
	}
}

// W2: the RFC 5626 ping over WebSocket is CRLFCRLF as a message's whole
// payload; the pong is a message holding CRLF. Neither reaches SIP.
func TestW2_CRLFPingInWebSocketMessageAnswered(t *testing.T) {
	p := startProxy(t, withSecure(t))
	for _, tr := range []string{"WS", "WSS"} {
		t.Run(tr, func(t *testing.T) {
			before, _ := p.KeepStats()
			c := dialWS(t, p, tr)
			for i := 0; i < 3; i++ {
				c.send("\r\n\r\n")
				m, op, err := c.next(5 * time.Second)
				if err != nil || op != ws.OpText || m != "\r\n" {
					t.Fatalf("ping %d: got %q op %v err %v, want a text message CRLF", i, m, op, err)
				}
			}
			after, _ := p.KeepStats()
			if after.PingsAnswered-before.PingsAnswered != 3 {
				t.Fatalf("pings answered %d, want 3", after.PingsAnswered-before.PingsAnswered)
			}
			// The flow still carries SIP after keep-alives.
			c.send(c.register("carol"+tr, true))
			if res := c.response(); !strings.HasPrefix(res, "SIP/2.0 200") {
				t.Fatalf("got %q", firstLine(res))
			}
		})
	}
}

// W3: WebSocket ping frames are answered with a pong carrying the same
// payload (RFC 6455 §5.5.2); they are not RFC 5626 keep-alives.
func TestW3_WebSocketPingFrameAnswered(t *testing.T) {
	p := startProxy(t, withSecure(t))
	c := dialWS(t, p, "WS")
	before, _ := p.KeepStats()
	if err := ws.WriteFrame(c.c, ws.MaskFrame(ws.NewPingFrame([]byte("hello")))); err != nil {
		t.Fatal(err)
	}
	m, op, err := c.next(5 * time.Second)
	if err != nil || op != ws.OpPong || m != "hello" {
		t.Fatalf("got %q op %v err %v, want a pong with the ping's payload", m, op, err)
	}
	after, _ := p.KeepStats()
	if after.PingsAnswered != before.PingsAnswered {
		t.Fatal("a WebSocket ping frame was counted as an RFC 5626 keep-alive")
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\r\n")
	return l
}

// TLS served: K1 and K2 over the proxy's TLS listener as over TCP — keep=N
// granted, CRLFCRLF answered with CRLF.
func TestK1_EdgeProxyServesTLS(t *testing.T) {
	p := startProxy(t, withSecure(t))
	c, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", p.PortOf("TLS")), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	reg := strings.Replace(strings.Replace((&wsClient{transport: "TLS"}).register("tina", true),
		"abcd", "host", -1), ";transport=ws", ";transport=tls", 1)
	c.Write([]byte(reg))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 8192)
	var got []byte
	for !bytes.Contains(got, []byte("\r\n\r\n")) {
		n, err := c.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
	}
	if ok, v := keepOf(topVia(string(got))); !ok || v != "30" {
		t.Fatalf("TLS REGISTER: top Via %q, want keep=30", topVia(string(got)))
	}
	c.Write([]byte("\r\n\r\n"))
	pong := make([]byte, 2)
	if _, err := io.ReadFull(c, pong); err != nil || string(pong) != "\r\n" {
		t.Fatalf("TLS ping: got %q err %v, want CRLF", pong, err)
	}
}

// W5: bad input over WebSocket. Each case on its own connection, next to a
// healthy registered client: the proxy does not crash, the bad connection
// is closed (with the close code saying why) and its flow forgotten, the
// healthy one keeps working. A fragmented message is legal (RFC 6455 §5.4)
// and is reassembled.
func TestW5_BadWebSocketInput(t *testing.T) {
	p := startProxy(t, withSecure(t))
	good := dialWS(t, p, "WS")
	good.send(good.register("good", true))
	if res := good.response(); !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Fatalf("healthy client: %q", firstLine(res))
	}
	reg := (&wsClient{transport: "WS"}).register("frag", true)
	cases := []struct {
		name      string
		write     func(c net.Conn) error
		wantClose string // close code; "" = the connection stays and answers
	}{
		{"non-SIP text", func(c net.Conn) error { return wsutil.WriteClientText(c, []byte("hello, is this SIP?")) }, "1003"},
		{"binary garbage", func(c net.Conn) error { return wsutil.WriteClientBinary(c, []byte{0, 1, 2, 3, 0xff}) }, "1003"},
		{"1 MB frame", func(c net.Conn) error {
			return ws.WriteFrame(c, ws.MaskFrame(ws.NewTextFrame(bytes.Repeat([]byte("A"), 1<<20))))
		}, "1009"},
		{"unmasked client frame", func(c net.Conn) error { return ws.WriteFrame(c, ws.NewTextFrame([]byte(reg))) }, "1002"},
		{"fragmented REGISTER", func(c net.Conn) error {
			third := len(reg) / 3
			for i, part := range []struct {
				op  ws.OpCode
				b   string
				fin bool
			}{{ws.OpText, reg[:third], false}, {ws.OpContinuation, reg[third : 2*third], false}, {ws.OpContinuation, reg[2*third:], true}} {
				if err := ws.WriteFrame(c, ws.MaskFrame(ws.NewFrame(part.op, part.fin, []byte(part.b)))); err != nil {
					return fmt.Errorf("fragment %d: %w", i, err)
				}
			}
			return nil
		}, ""},
		{"abrupt close", func(c net.Conn) error { return c.(*net.TCPConn).SetLinger(0) }, "abrupt"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dialWS(t, p, "WS")
			if err := tc.write(c.c); err != nil {
				t.Fatal(err)
			}
			switch tc.wantClose {
			case "":
				res := c.response()
				if ok, v := keepOf(topVia(res)); !strings.HasPrefix(res, "SIP/2.0 200") || !ok || v != "30" {
					t.Fatalf("fragmented REGISTER: %q, Via %q", firstLine(res), topVia(res))
				}
			case "abrupt":
				c.send(c.register("gone", true))
				c.response()
				c.c.Close() // RST: no close frame
				waitUntil(t, "the abruptly closed flow's binding dropped", func() bool {
					return len(p.Location().Lookup("sip:gone@127.0.0.1")) == 0
				})
			default:
				code, op, err := c.next(5 * time.Second)
				if op != ws.OpClose || code != tc.wantClose {
					t.Fatalf("got %q op %v err %v, want close %s", code, op, err, tc.wantClose)
				}
				if _, _, err := c.next(5 * time.Second); err == nil {
					t.Fatal("connection still open after the close frame")
				}
			}
			// The healthy client is unaffected.
			good.send("\r\n\r\n")
			if m, _, err := good.next(5 * time.Second); err != nil || m != "\r\n" {
				t.Fatalf("healthy client after %s: %q %v", tc.name, m, err)
			}
		})
	}
}

// W4: dead-flow detection on a WebSocket flow. A client granted keep=1 that
// then sends nothing is reported dead after the multiple (2 × 1 s here) and
// its binding dropped; a client that keeps pinging keeps its binding.
func TestW4_SilentWebSocketFlowReportedDead(t *testing.T) {
	p := startProxy(t, withSecure(t), func(c *proxy.Config) {
		c.Keep.Seconds, c.Keep.FloorSeconds, c.Keep.DeadFlowMultiple = 1, 1, 2
	})
	silent, alive := dialWS(t, p, "WSS"), dialWS(t, p, "WSS")
	silent.send(silent.register("silent", true))
	alive.send(alive.register("alive", true))
	for _, c := range []*wsClient{silent, alive} {
		if ok, v := keepOf(topVia(c.response())); !ok || v != "1" {
			t.Fatalf("want keep=1, got %v %q", ok, v)
		}
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(500 * time.Millisecond):
				wsutil.WriteClientText(alive.c, []byte("\r\n\r\n"))
			}
		}
	}()
	waitUntil(t, "the silent WSS flow reported dead", func() bool {
		s, _ := p.KeepStats()
		return s.FlowsDead >= 1 && len(p.Location().Lookup("sip:silent@127.0.0.1")) == 0
	})
	if len(p.Location().Lookup("sip:alive@127.0.0.1")) == 0 {
		t.Fatal("the pinging client lost its binding too")
	}
}

// waitUntil polls cond (work done, not a timing assertion) for up to 20 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// W5: a client that sends its first message right behind the upgrade
// request, in the same TCP segment, is not lost: the WebSocket library
// under netkeep reads the handshake through a buffer it then discards, so
// netkeep hands it the handshake alone.
func TestW5_MessageInSameSegmentAsUpgrade(t *testing.T) {
	p := startProxy(t, withSecure(t))
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", p.PortOf("WS")))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	up := "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: sip\r\n\r\n"
	var frame bytes.Buffer
	ws.WriteFrame(&frame, ws.MaskFrame(ws.NewTextFrame([]byte((&wsClient{transport: "WS"}).register("eager", true)))))
	if _, err := c.Write(append([]byte(up), frame.Bytes()...)); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
		if line == "\r\n" {
			break
		}
	}
	data, err := wsutil.ReadServerText(struct {
		io.Reader
		io.Writer
	}{br, c})
	if err != nil || !strings.HasPrefix(string(data), "SIP/2.0 200") {
		t.Fatalf("got %q err %v, want the REGISTER's 200", firstLine(string(data)), err)
	}
}
