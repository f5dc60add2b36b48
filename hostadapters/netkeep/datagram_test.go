package netkeep

import (
	"net"
	"strings"
	"testing"
	"time"
)

// UDP datagrams get the stream framer's header checks; a Content-Length
// shorter than the datagram cuts it (RFC 3261 §18.3), a longer one or two of
// them refuse it.
func TestDatagramHeaderChecks(t *testing.T) {
	lim := DefaultLimits
	for _, tc := range []struct {
		name, in string
		n        int // -1: refused
	}{
		{"with Content-Length", reqHead + "l: 3\r\n\r\nabc", len(reqHead + "l: 3\r\n\r\nabc")},
		{"without Content-Length", reqHead + "\r\nabc", len(reqHead + "\r\nabc")},
		{"cut after Content-Length", reqHead + "l: 1\r\n\r\nabc", len(reqHead + "l: 1\r\n\r\na")},
		{"Content-Length beyond the datagram", reqHead + "l: 4\r\n\r\nabc", -1},
		{"two Content-Lengths", reqHead + "l: 3\r\nContent-Length: 0\r\n\r\nabc", -1},
		{"CRLF before the start line", "\r\n" + reqHead + "\r\n", -1},
		{"NUL before the start line", "\x00" + reqHead + "\r\n", -1},
		{"no end of headers", reqHead, -1},
		{"17 continuation lines", reqHead + "X: a\r\n" + strings.Repeat(" a\r\n", 17) + "\r\n", -1},
	} {
		n, err := checkDatagram([]byte(tc.in), lim)
		if tc.n < 0 && err == nil || tc.n >= 0 && (err != nil || n != tc.n) {
			t.Errorf("%s: n %d err %v, want n %d", tc.name, n, err, tc.n)
		}
	}
}

// On the socket: a refused datagram never reaches the reader or the plugin
// and is counted; the next one does, cut after its Content-Length.
func TestDatagramRefusedOnSocket(t *testing.T) {
	k := New()
	h := newFakeHandler()
	k.Attach(h)
	pc := k.WrapPacketConn(listenUDP(t, "127.0.0.1"))
	c, err := net.Dial("udp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	good := reqHead + "l: 1\r\n\r\na"
	for _, d := range []string{reqHead + "l: 1\r\nl: 0\r\n\r\na", good + "trailing"} {
		if _, err := c.Write([]byte(d)); err != nil {
			t.Fatal(err)
		}
	}
	_ = pc.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 4096)
	n, _, err := pc.ReadFrom(buf)
	if err != nil || string(buf[:n]) != good {
		t.Fatalf("read %q, %v; want %q", buf[:n], err, good)
	}
	h.mu.Lock()
	ev := h.events
	h.mu.Unlock()
	if len(ev) != 1 || string(ev[0].Message) != good {
		t.Fatalf("plugin shown %+v", ev)
	}
	if s := k.Stats(); s.DatagramsRejected != 1 || s.SIPIn != 1 {
		t.Fatalf("stats %+v", s)
	}
}
