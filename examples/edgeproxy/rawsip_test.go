package main_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawUA is a SIP endpoint written by hand on a real UDP socket: the tests
// that need exact control of a message (20 contacts, 100 Vias, a foreign
// domain) build it as text and read what comes back.
type rawUA struct {
	t    testing.TB
	conn *net.UDPConn
	to   *net.UDPAddr
	user string
}

func newRawUA(t testing.TB, proxyAddr, user string) *rawUA {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	to, err := net.ResolveUDPAddr("udp", proxyAddr)
	if err != nil {
		t.Fatal(err)
	}
	return &rawUA{t: t, conn: c, to: to, user: user}
}

func (u *rawUA) addr() string { return u.conn.LocalAddr().String() }

// contact is the UA's own Contact URI.
func (u *rawUA) contact() string { return "sip:" + u.user + "@" + u.addr() }

func (u *rawUA) send(msg string) {
	u.t.Helper()
	if _, err := u.conn.WriteToUDP([]byte(msg), u.to); err != nil {
		u.t.Fatal(err)
	}
}

// recv returns the next SIP message (skipping 100 Trying when skip100),
// failing the test after d.
func (u *rawUA) recv(d time.Duration, skip100 bool) string {
	u.t.Helper()
	buf := make([]byte, 65536)
	deadline := time.Now().Add(d)
	for {
		u.conn.SetReadDeadline(deadline)
		n, _, err := u.conn.ReadFromUDP(buf)
		if err != nil {
			u.t.Fatalf("%s: nothing received: %v", u.user, err)
		}
		m := string(buf[:n])
		if skip100 && strings.HasPrefix(m, "SIP/2.0 100 ") {
			continue
		}
		return m
	}
}

// recvRequest returns the next request with method, skipping anything else
// (an ACK for an earlier error response, retransmissions).
func (u *rawUA) recvRequest(d time.Duration, method string) string {
	u.t.Helper()
	deadline := time.Now().Add(d)
	for {
		m := u.recv(time.Until(deadline), false)
		if strings.HasPrefix(m, method+" ") {
			return m
		}
	}
}

func branch() string {
	var b [8]byte
	rand.Read(b[:])
	return "z9hG4bK" + hex.EncodeToString(b[:])
}

// register builds a REGISTER for aor (sip:user@domain) with the given
// Contact URIs and extra Via lines below the UA's own.
func (u *rawUA) register(requestURI, aor string, contacts []string, extraVias int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "REGISTER %s SIP/2.0\r\n", requestURI)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=%s;rport\r\n", u.addr(), branch())
	for i := range extraVias {
		fmt.Fprintf(&b, "Via: SIP/2.0/UDP 192.0.2.%d:5060;branch=%s\r\n", i%250+1, branch())
	}
	fmt.Fprintf(&b, "Max-Forwards: 70\r\nFrom: <%s>;tag=%s\r\nTo: <%s>\r\n", aor, branch()[7:], aor)
	fmt.Fprintf(&b, "Call-ID: %s@test\r\nCSeq: 1 REGISTER\r\n", branch()[7:])
	for _, c := range contacts {
		fmt.Fprintf(&b, "Contact: <%s>\r\n", c)
	}
	b.WriteString("Expires: 600\r\nContent-Length: 0\r\n\r\n")
	return b.String()
}

// invite builds an INVITE to requestURI from this UA.
func (u *rawUA) invite(requestURI string) string {
	return fmt.Sprintf("INVITE %s SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP %s;branch=%s;rport\r\n"+
		"Max-Forwards: 70\r\nFrom: <sip:%s@example.net>;tag=%s\r\nTo: <%s>\r\n"+
		"Call-ID: %s@test\r\nCSeq: 1 INVITE\r\nContact: <%s>\r\nContent-Length: 0\r\n\r\n",
		requestURI, u.addr(), branch(), u.user, branch()[7:], requestURI, branch()[7:], u.contact())
}

// answer builds a final response to a received request: its Vias, From,
// To (with a tag), Call-ID and CSeq.
func answer(req string, code int, reason string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "SIP/2.0 %d %s\r\n", code, reason)
	for _, line := range strings.Split(req, "\r\n") {
		if line == "" {
			break
		}
		name, _, _ := strings.Cut(line, ":")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "via", "v", "from", "f", "call-id", "i", "cseq":
			b.WriteString(line + "\r\n")
		case "to", "t":
			b.WriteString(line + ";tag=callee\r\n")
		}
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return b.String()
}

// statusCode is the code of a response ("SIP/2.0 200 OK" → 200), or 0.
func statusCode(msg string) int {
	rest, ok := strings.CutPrefix(msg, "SIP/2.0 ")
	if !ok || len(rest) < 3 {
		return 0
	}
	n, _ := strconv.Atoi(rest[:3])
	return n
}

// startLine is a message's first line.
func startLine(msg string) string {
	l, _, _ := strings.Cut(msg, "\r\n")
	return l
}

// headerCount counts the header lines named name (long form).
func headerCount(msg, name string) int {
	n := 0
	head, _, _ := strings.Cut(msg, "\r\n\r\n")
	for _, line := range strings.Split(head, "\r\n")[1:] {
		if h, _, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(h), name) {
			n++
		}
	}
	return n
}
