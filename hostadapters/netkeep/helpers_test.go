package netkeep

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/host"
)

// fakeHandler stands in for the host where the host is not the subject: it
// records every event and marks outgoing SIP messages with a header, so tests
// see that writes carry the plugin's result.
type fakeHandler struct {
	mu        sync.Mutex
	events    []host.Event
	notify    chan host.Event
	forgotten []host.Flow
}

// Forget records the flows the Keeper forgot (netkeep.Forgetter).
func (h *fakeHandler) Forget(f host.Flow) {
	h.mu.Lock()
	h.forgotten = append(h.forgotten, f)
	h.mu.Unlock()
}

func newFakeHandler() *fakeHandler { return &fakeHandler{notify: make(chan host.Event, 256)} }

const editMark = "X-Sipkeep-Test: edited\r\n"

func (h *fakeHandler) Handle(_ context.Context, ev host.Event) host.Result {
	ev.Message = append([]byte(nil), ev.Message...)
	h.mu.Lock()
	h.events = append(h.events, ev)
	h.mu.Unlock()
	select {
	case h.notify <- ev:
	default:
	}
	if ev.Dir == abi.DirOut && (ev.Kind == abi.KindSIPRequest || ev.Kind == abi.KindSIPResponse) {
		i := bytes.Index(ev.Message, []byte("\r\n")) + 2
		out := append(append(append([]byte(nil), ev.Message[:i]...), editMark...), ev.Message[i:]...)
		return host.Result{Message: out, Entered: true}
	}
	return host.Result{Message: ev.Message}
}

func (h *fakeHandler) count(kind abi.Kind, dir abi.Direction) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, e := range h.events {
		if e.Kind == kind && e.Dir == dir {
			n++
		}
	}
	return n
}

// waitEvent waits for an event of kind/dir.
func (h *fakeHandler) waitEvent(t *testing.T, kind abi.Kind, dir abi.Direction) host.Event {
	t.Helper()
	deadline := time.After(3 * time.Second)
	for {
		select {
		case ev := <-h.notify:
			if ev.Kind == kind && ev.Dir == dir {
				return ev
			}
		case <-deadline:
			t.Fatalf("no event kind=%d dir=%d", kind, dir)
		}
	}
}

// loopbacks are the addresses every socket test runs on.
var loopbacks = []string{"127.0.0.1", "::1"}

func listenUDP(t *testing.T, ip string) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Skipf("no UDP on %s: %v", ip, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func listenTCP(t *testing.T, ip string) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Skipf("no TCP on %s: %v", ip, err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func sipRequest(method, body string) string {
	return method + " sip:bob@example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK-" + method + "\r\n" +
		"Call-ID: c-" + method + "\r\nCSeq: 1 " + method + "\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

// serveStream accepts one wrapped stream and sends every Read result (copied)
// on the returned channel; the channel closes when the stream ends.
func serveStream(t *testing.T, l net.Listener) (<-chan []byte, <-chan net.Conn) {
	t.Helper()
	reads := make(chan []byte, 64)
	conns := make(chan net.Conn, 1)
	go func() {
		defer close(reads)
		c, err := l.Accept()
		if err != nil {
			return
		}
		conns <- c
		defer c.Close()
		buf := make([]byte, 64<<10)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				reads <- append([]byte(nil), buf[:n]...)
			}
			if err != nil {
				return
			}
		}
	}()
	return reads, conns
}

// readFull reads exactly n bytes from c within the timeout.
func readFull(t *testing.T, c net.Conn, n int) []byte {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
	defer c.SetReadDeadline(time.Time{})
	b := make([]byte, n)
	got := 0
	for got < n {
		m, err := c.Read(b[got:])
		if err != nil {
			t.Fatalf("read %d/%d bytes: %v", got, n, err)
		}
		got += m
	}
	return b
}

// collect gathers read results until want bytes arrived.
func collect(t *testing.T, reads <-chan []byte, want int) []byte {
	t.Helper()
	var all []byte
	deadline := time.After(3 * time.Second)
	for len(all) < want {
		select {
		case b, ok := <-reads:
			if !ok {
				t.Fatalf("stream ended after %d of %d bytes: %q", len(all), want, all)
			}
			all = append(all, b...)
		case <-deadline:
			t.Fatalf("got %d of %d bytes: %q", len(all), want, all)
		}
	}
	return all
}
