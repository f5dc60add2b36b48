package wiretest

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// lowerVia is the Via a downstream element put below ours, with a value
// planted in its keep (R17: it must not come back).
const lowerVia = "SIP/2.0/%s 192.0.2.99:5060;branch=z9hG4bK-lower%s;keep=5"

func register(tg Target, transport string, local net.Addr) (msg, branch string) {
	id := make([]byte, 6)
	_, _ = rand.Read(id)
	n := hex.EncodeToString(id)
	branch = "z9hG4bK-wt" + n
	d := tg.domain()
	msg = "REGISTER sip:" + d + " SIP/2.0\r\n" +
		"Via: SIP/2.0/" + transport + " " + local.String() + ";branch=" + branch + ";rport;keep\r\n" +
		"Via: " + fmt.Sprintf(lowerVia, transport, n) + "\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: <sip:wiretest@" + d + ">;tag=wt" + n + "\r\n" +
		"To: <sip:wiretest@" + d + ">\r\n" +
		"Call-ID: wiretest-" + n + "@127.0.0.1\r\n" +
		"CSeq: 1 REGISTER\r\n" +
		"Contact: <sip:wiretest@" + local.String() + ";transport=" + strings.ToLower(transport) + ">\r\n" +
		"Expires: 600\r\n" +
		"Content-Length: 0\r\n\r\n"
	return msg, branch
}

func checkRegisterUDP(t *testing.T, tg Target) {
	c, err := net.Dial("udp", tg.UDP)
	if err != nil {
		t.Fatalf("dial %s: %v", tg.UDP, err)
	}
	defer c.Close()
	msg, branch := register(tg, "UDP", c.LocalAddr())
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 65535)
	for {
		_ = c.SetReadDeadline(time.Now().Add(tg.wait()))
		n, err := c.Read(b)
		if err != nil {
			t.Fatalf("no final response to REGISTER over UDP: %v", err)
		}
		if final := checkResponse(t, tg, b[:n], branch, true); final {
			return
		}
	}
}

// checkRegisterStream registers over TCP or TLS ("TCP" or "TLS", the
// Via's transport too).
func checkRegisterStream(t *testing.T, tg Target, transport string) {
	c := dialStream(t, tg, transport)
	msg, branch := register(tg, transport, c.LocalAddr())
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	for {
		_ = c.SetReadDeadline(time.Now().Add(tg.wait()))
		res, err := readStreamMessage(r)
		if err != nil {
			t.Fatalf("no final response to REGISTER over %s: %v", transport, err)
		}
		if final := checkResponse(t, tg, res, branch, true); final {
			break
		}
	}
	// The registered flow still answers pings (now with a record behind it).
	ping(t, tg, c, r)
}

// checkResponse checks a response to our REGISTER; it reports whether it
// was final (provisional ones are skipped). With grant false it wants the
// top Via's keep back bare (R10: not granted) and checks nothing below it.
func checkResponse(t *testing.T, tg Target, res []byte, branch string, grant bool) bool {
	t.Helper()
	line, _, _ := bytes.Cut(res, []byte("\r\n"))
	f := strings.Fields(string(line))
	if len(f) < 2 || f[0] != "SIP/2.0" {
		t.Fatalf("not a SIP response: %q", line)
	}
	code, _ := strconv.Atoi(f[1])
	if code < 200 {
		return false
	}
	if code != 200 {
		t.Fatalf("REGISTER answered %q, want 200 (the target must accept the registration):\n%s", line, res)
	}
	vias := viaValues(res)
	if len(vias) < 2 {
		t.Fatalf("response has %d Via values, want ours and the lower one:\n%s", len(vias), res)
	}
	if !strings.Contains(vias[0], branch) {
		t.Fatalf("top Via %q is not ours", vias[0])
	}
	v, ok := keepParam(vias[0])
	if !grant {
		if !ok || v != "" {
			t.Errorf("R10: top Via %q: want keep back without a value (the target does not grant on this transport)", vias[0])
		}
		return true
	}
	switch {
	case !ok:
		t.Errorf("R10: top Via %q lost its keep", vias[0])
	case v == "":
		t.Errorf("R10: top Via %q has keep without a value", vias[0])
	default:
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || (tg.Keep > 0 && n != tg.Keep) {
			t.Errorf("R10: top Via keep=%s, want a value > 0 (Target.Keep %d)", v, tg.Keep)
		}
	}
	if v, _ := keepParam(vias[1]); v != "" {
		t.Errorf("R17: lower Via %q still carries keep=%s", vias[1], v)
	}
	return true
}

// viaValues lists the response's Via values top to bottom (Via or v,
// several per header line allowed).
func viaValues(msg []byte) []string {
	head, _, _ := bytes.Cut(msg, []byte("\r\n\r\n"))
	var vs []string
	for _, l := range strings.Split(string(head), "\r\n")[1:] {
		name, val, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		if n := strings.ToLower(strings.TrimSpace(name)); n != "via" && n != "v" {
			continue
		}
		for _, v := range strings.Split(val, ",") {
			vs = append(vs, strings.TrimSpace(v))
		}
	}
	return vs
}

// keepParam returns the value of the keep parameter of a Via, and whether
// it is there at all.
func keepParam(via string) (string, bool) {
	params := strings.Split(via, ";")[1:]
	for _, p := range params {
		name, val, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(name), "keep") {
			return strings.TrimSpace(val), true
		}
	}
	return "", false
}

// dialStream connects to the target's TCP or TLS listener; a TLS
// connection has finished its handshake.
func dialStream(t *testing.T, tg Target, transport string) net.Conn {
	t.Helper()
	addr := tg.TCP
	if transport == "TLS" {
		addr = tg.TLS
	}
	c, err := net.DialTimeout("tcp", addr, tg.wait())
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	if transport != "TLS" {
		return c
	}
	tc := tls.Client(c, tg.tlsConfig(addr))
	_ = tc.SetDeadline(time.Now().Add(tg.wait()))
	if err := tc.Handshake(); err != nil {
		t.Fatalf("TLS handshake with %s: %v", addr, err)
	}
	_ = tc.SetDeadline(time.Time{})
	return tc
}

func checkPingPong(t *testing.T, tg Target, transport string) {
	c := dialStream(t, tg, transport)
	ping(t, tg, c, bufio.NewReader(c))
}

// ping sends a CRLFCRLF keep-alive and wants exactly a CRLF pong back.
func ping(t *testing.T, tg Target, c net.Conn, r *bufio.Reader) {
	t.Helper()
	if _, err := c.Write([]byte("\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(tg.wait()))
	pong := make([]byte, 2)
	if _, err := io.ReadFull(r, pong); err != nil {
		t.Fatalf("K1: no pong to CRLFCRLF: %v", err)
	}
	if string(pong) != "\r\n" {
		t.Fatalf("K1: got %q, want a CRLF pong", pong)
	}
}

// readStreamMessage reads one SIP message from a stream (headers, then
// Content-Length bytes of body), skipping CRLF keep-alive bytes before it.
func readStreamMessage(r *bufio.Reader) ([]byte, error) {
	var msg []byte
	for {
		l, err := r.ReadBytes('\n')
		if err != nil {
			return nil, err
		}
		if len(msg) == 0 && len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		msg = append(msg, l...)
		if len(msg) > 65536 {
			return nil, fmt.Errorf("message headers over 64 KiB")
		}
		if bytes.Equal(l, []byte("\r\n")) {
			break
		}
	}
	n := 0
	for _, l := range strings.Split(string(msg), "\r\n") {
		name, val, _ := strings.Cut(l, ":")
		if n2 := strings.ToLower(strings.TrimSpace(name)); n2 == "content-length" || n2 == "l" {
			n, _ = strconv.Atoi(strings.TrimSpace(val))
		}
	}
	if n < 0 || n > 65536 {
		return nil, fmt.Errorf("content-length %d", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	return append(msg, body...), nil
}
