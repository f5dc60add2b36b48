package netkeep

import (
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/abi"
)

// streamServer wraps a listener on ip and returns the raw client conn dialed
// to it, the server side's reads and its fake handler.
func streamServer(t *testing.T, ip string, opts ...Option) (*Keeper, *fakeHandler, net.Conn, <-chan []byte, <-chan net.Conn) {
	t.Helper()
	k := New(opts...)
	h := newFakeHandler()
	k.Attach(h)
	l := k.WrapListener(listenTCP(t, ip))
	reads, conns := serveStream(t, l)
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return k, h, c, reads, conns
}

func writeSlowly(t *testing.T, c net.Conn, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if _, err := c.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(30 * time.Millisecond) // separate reads on the other side
	}
}

// K1: a ping split across reads is answered with exactly one pong and
// reported; the reader sees nothing.
func TestK1_SplitPingAnswered(t *testing.T) {
	for _, ip := range loopbacks {
		t.Run(ip, func(t *testing.T) {
			k, h, c, reads, _ := streamServer(t, ip)
			writeSlowly(t, c, "\r", "\n\r", "\n")
			if got := string(readFull(t, c, 2)); got != "\r\n" {
				t.Fatalf("pong %q", got)
			}
			ev := h.waitEvent(t, abi.KindPing, abi.DirIn)
			if ev.Flow.Transport != abi.TransportTCP || ev.Flow.Remote != addrPort(c.LocalAddr()) {
				t.Fatalf("flow %+v", ev.Flow)
			}
			msg := sipRequest("OPTIONS", "")
			writeSlowly(t, c, msg)
			if got := string(collect(t, reads, len(msg))); got != msg {
				t.Fatalf("reader got %q", got)
			}
			assertNoMoreBytes(t, c)
			if s := k.Stats(); s.PingsAnswered != 1 || s.PongsIn != 0 {
				t.Fatalf("stats %+v", s)
			}
		})
	}
}

// K1, K6: pings sharing a read with messages (before, between, after) are
// each answered once; messages arrive whole and untouched.
func TestK1_PingSharingReadWithMessages(t *testing.T) {
	k, h, c, reads, _ := streamServer(t, "127.0.0.1")
	m1, m2 := sipRequest("REGISTER", ""), sipRequest("MESSAGE", "hello world")
	writeSlowly(t, c, "\r\n\r\n"+m1+"\r\n\r\n"+m2+"\r\n\r\n")
	if got := string(collect(t, reads, len(m1)+len(m2))); got != m1+m2 {
		t.Fatalf("reader got %q", got)
	}
	if got := string(readFull(t, c, 6)); got != "\r\n\r\n\r\n" {
		t.Fatalf("pongs %q", got)
	}
	assertNoMoreBytes(t, c)
	if n := h.count(abi.KindPing, abi.DirIn); n != 3 {
		t.Fatalf("%d pings reported", n)
	}
	if n := h.count(abi.KindSIPRequest, abi.DirIn); n != 2 || k.Stats().SIPIn != 2 {
		t.Fatalf("%d requests reported", n)
	}
}

// K6: a stray CRLF before a message is a keep-alive (reported as a pong),
// never part of the message; CRLFs inside a message are left alone.
func TestK6_StrayCRLFNotPartOfMessage(t *testing.T) {
	_, h, c, reads, _ := streamServer(t, "127.0.0.1")
	m := sipRequest("OPTIONS", "\r\n\r\nbody\r\n") // body full of CRLFs
	writeSlowly(t, c, "\r\n"+m)
	if got := string(collect(t, reads, len(m))); got != m {
		t.Fatalf("reader got %q", got)
	}
	h.waitEvent(t, abi.KindPong, abi.DirIn)
	assertNoMoreBytes(t, c) // a lone CRLF is not a ping: no answer
}

// Content-Length framing: a body split across reads, a compact "l:" header, a
// header-only message; each message is handed over whole.
func TestContentLengthFraming(t *testing.T) {
	_, h, c, reads, _ := streamServer(t, "::1")
	body := strings.Repeat("v=0\r\n", 200)
	m1 := sipRequest("INVITE", body)
	m2 := "SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP [::1]:5070;branch=z9hG4bK1\r\nl: 4\r\n\r\nabcd"
	m3 := "OPTIONS sip:x SIP/2.0\r\nCall-ID: 3\r\nContent-Length:0\r\n\r\n"
	all := m1 + m2 + m3
	writeSlowly(t, c, all[:100], all[100:len(m1)-7], all[len(m1)-7:len(m1)+30], all[len(m1)+30:])
	if got := string(collect(t, reads, len(all))); got != all {
		t.Fatalf("reader got %q", got)
	}
	if h.count(abi.KindSIPRequest, abi.DirIn) != 2 || h.count(abi.KindSIPResponse, abi.DirIn) != 1 {
		t.Fatalf("events %+v", h.events)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range h.events {
		if s := string(e.Message); s != m1 && s != m2 && s != m3 {
			t.Fatalf("plugin saw a partial message %q", s)
		}
	}
}

// A bad Content-Length ends the stream with ErrFraming.
func TestFramingErrorEndsStream(t *testing.T) {
	k := New()
	l := k.WrapListener(listenTCP(t, "127.0.0.1"))
	errc := make(chan error, 1)
	go func() {
		s, err := l.Accept()
		if err != nil {
			errc <- err
			return
		}
		defer s.Close()
		_, err = s.Read(make([]byte, 4096))
		errc <- err
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	writeSlowly(t, c, "OPTIONS sip:x SIP/2.0\r\nContent-Length: -3\r\n\r\n")
	select {
	case err := <-errc:
		if !errors.Is(err, ErrFraming) {
			t.Fatalf("err %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no error")
	}
}

// A stream written through the wrapper leaves with the plugin's result; a
// message written in pieces goes out once, whole.
func TestStreamWriteCarriesEdits(t *testing.T) {
	k := New()
	h := newFakeHandler()
	k.Attach(h)
	l := listenTCP(t, "127.0.0.1")
	accepted := make(chan net.Conn, 1)
	go func() { c, _ := l.Accept(); accepted <- c }()
	raw, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := k.WrapConn(raw)
	defer c.Close()
	peer := <-accepted
	defer peer.Close()
	m := sipRequest("REGISTER", "")
	if _, err := c.Write([]byte(m[:20])); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte(m[20:])); err != nil {
		t.Fatal(err)
	}
	i := strings.Index(m, "\r\n") + 2
	want := m[:i] + editMark + m[i:]
	if got := string(readFull(t, peer, len(want))); got != want {
		t.Fatalf("peer got %q", got)
	}
	if ev := h.waitEvent(t, abi.KindSIPRequest, abi.DirOut); string(ev.Message) != m {
		t.Fatalf("plugin saw %q", ev.Message)
	}
}

// K1/K2: action send-ping writes CRLFCRLF on the flow's stream; the peer's
// pong is reported to the plugin (on_response); flow-failed closes the stream
// and tells the application.
func TestK2_SendPingPongAndFlowFailed(t *testing.T) {
	for _, ip := range loopbacks {
		t.Run(ip, func(t *testing.T) {
			events := make(chan FlowEvent, 8)
			k := New(WithEvents(func(e FlowEvent) { events <- e }))
			h := newFakeHandler()
			k.Attach(h)
			l := listenTCP(t, ip)
			accepted := make(chan net.Conn, 1)
			go func() { c, _ := l.Accept(); accepted <- c }()
			raw, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			c := k.WrapConn(raw).(*Conn)
			readErr := make(chan error, 1)
			go func() { _, err := c.Read(make([]byte, 1024)); readErr <- err }()
			peer := <-accepted
			defer peer.Close()

			before := time.Now()
			k.HandleAction(c.Flow(), abi.Action{Kind: abi.ActSendPing, Value: 10000})
			if got := string(readFull(t, peer, 4)); got != "\r\n\r\n" {
				t.Fatalf("peer got %q", got)
			}
			arrived := time.Now()
			if _, err := peer.Write([]byte("\r\n")); err != nil {
				t.Fatal(err)
			}
			if ev := h.waitEvent(t, abi.KindPong, abi.DirIn); ev.Flow != c.Flow() {
				t.Fatalf("pong on %+v", ev.Flow)
			}
			// The send's event is stamped before the bytes left, so it
			// never follows the pong's (the e2e tests order on it).
			if e := <-events; e.Action.Kind != abi.ActSendPing || e.Time.Before(before) || e.Time.After(arrived) {
				t.Fatalf("send-ping event %v at %v, want one stamped in [%v, %v]", e.Action.Kind, e.Time, before, arrived)
			}

			k.HandleAction(c.Flow(), abi.Action{Kind: abi.ActFlowFailed, Reason: abi.ReasonPongTimeout})
			select {
			case e := <-events:
				if e.Action.Kind != abi.ActFlowFailed || e.Flow != c.Flow() {
					t.Fatalf("event %+v", e)
				}
			case <-time.After(3 * time.Second):
				t.Fatal("no flow event")
			}
			_ = peer.SetReadDeadline(time.Now().Add(3 * time.Second))
			if _, err := peer.Read(make([]byte, 1)); err != io.EOF {
				t.Fatalf("peer read %v, want EOF (stream closed)", err)
			}
			if err := <-readErr; err == nil {
				t.Fatal("the reader saw no error after the close")
			}
			if s := k.Stats(); s.PingsSent != 1 || s.PongsIn != 1 || s.FlowsFailed != 1 {
				t.Fatalf("stats %+v", s)
			}
		})
	}
}

// A reader timeout (sipgo's ReadTimeout) counts keep-alives as activity: pings
// arriving more often than the timeout keep the stream readable.
func TestReadDeadlineRearmedByKeepalives(t *testing.T) {
	k := New()
	l := k.WrapListener(listenTCP(t, "127.0.0.1"))
	got := make(chan error, 1)
	go func() {
		s, err := l.Accept()
		if err != nil {
			got <- err
			return
		}
		defer s.Close()
		_ = s.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		_, err = s.Read(make([]byte, 4096))
		got <- err
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := 0; i < 6; i++ {
		time.Sleep(100 * time.Millisecond)
		if _, err := c.Write(crlfcrlf); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Write([]byte(sipRequest("OPTIONS", ""))); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatalf("read after 700 ms of pings: %v", err)
	}
}

func assertNoMoreBytes(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(80 * time.Millisecond))
	defer c.SetReadDeadline(time.Time{})
	b := make([]byte, 16)
	if n, err := c.Read(b); n > 0 {
		t.Fatalf("unexpected bytes %q (%v)", b[:n], err)
	}
}

// A closed stream's flow is forgotten by the handler at once: nothing is
// left to keep alive on it.
func TestClosedStreamIsForgotten(t *testing.T) {
	var events []FlowEvent
	_, h, _, _, conns := streamServer(t, "127.0.0.1", WithEvents(func(e FlowEvent) { events = append(events, e) }))
	srv := <-conns
	flow := srv.(*Conn).Flow()
	srv.Close()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.forgotten) != 1 || h.forgotten[0] != flow {
		t.Fatalf("forgotten %v, want [%v]", h.forgotten, flow)
	}
	// ...and the application hears of it once.
	if len(events) != 1 || !events[0].Closed || events[0].Flow != flow {
		t.Fatalf("events %+v, want one Closed event for %v", events, flow)
	}
}
