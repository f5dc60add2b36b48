package netkeep

import (
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/abi"
)

// limitServer accepts one wrapped stream and reads it until it fails; the
// reader's error arrives on errc.
func limitServer(t *testing.T, opts ...Option) (*Keeper, *fakeHandler, net.Conn, <-chan *Conn, <-chan error) {
	t.Helper()
	k := New(opts...)
	h := newFakeHandler()
	k.Attach(h)
	l := k.WrapListener(listenTCP(t, "127.0.0.1"))
	conns := make(chan *Conn, 1)
	errc := make(chan error, 1)
	go func() {
		s, err := l.Accept()
		if err != nil {
			errc <- err
			return
		}
		conns <- s.(*Conn)
		defer s.Close()
		buf := make([]byte, 64<<10)
		for {
			if _, err := s.Read(buf); err != nil {
				errc <- err
				return
			}
		}
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return k, h, c, conns, errc
}

// readUntilEOF returns what the peer sent before closing the stream.
func readUntilEOF(t *testing.T, c net.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("stream not closed (read %q): %v", b, err)
	}
	return string(b)
}

func waitErr(t *testing.T, errc <-chan error) error {
	t.Helper()
	select {
	case err := <-errc:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("the stream was not closed")
	}
	return nil
}

// The duplicate-Content-Length desync: Content-Length: N then l: 0, with a
// second REGISTER as the "body". The plugin is shown neither message, the
// reader gets neither, the peer gets a 400 and the stream closes.
func TestDuplicateContentLengthRefusedOnStream(t *testing.T) {
	k, h, c, _, errc := limitServer(t)
	hidden := sipRequest("REGISTER", "")
	msg := reqHead + "Content-Length: " + strconv.Itoa(len(hidden)) + "\r\nl: 0\r\n\r\n" + hidden
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	if got := readUntilEOF(t, c); !strings.HasPrefix(got, "SIP/2.0 400 ") || !strings.Contains(got, "Call-ID: c1\r\n") {
		t.Fatalf("answer %q", got)
	}
	if err := waitErr(t, errc); !errors.Is(err, ErrFraming) {
		t.Fatalf("reader error %v", err)
	}
	if n := h.count(abi.KindSIPRequest, abi.DirIn); n != 0 {
		t.Fatalf("plugin shown %d requests", n)
	}
	if s := k.Stats(); s.FramingErrors != 1 || s.RejectsAnswered != 1 || s.SIPIn != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// The folded-header attack at the default limits: the 17th continuation
// line of one header ends the stream, answered 400.
func TestFoldedHeaderAttackClosedAtLimit(t *testing.T) {
	k, _, c, conns, errc := limitServer(t)
	head, _ := foldedSlowBody(100, 5000)
	if _, err := c.Write([]byte(head)); err != nil {
		t.Fatal(err)
	}
	if got := readUntilEOF(t, c); !strings.HasPrefix(got, "SIP/2.0 400 Too Many Continuation Lines\r\n") {
		t.Fatalf("answer %q", got)
	}
	if err := waitErr(t, errc); !errors.Is(err, ErrFraming) {
		t.Fatalf("reader error %v", err)
	}
	s := <-conns
	s.rmu.Lock()
	held := cap(s.rfr.store)
	s.rmu.Unlock()
	if held != 0 {
		t.Fatalf("closed stream still holds %d bytes", held)
	}
	if k.Stats().FramingErrors != 1 {
		t.Fatalf("stats %+v", k.Stats())
	}
}

// A message that does not complete within MessageTimeout (a slow body) ends
// the stream; the reader is told why.
func TestSlowMessageClosedAtDeadline(t *testing.T) {
	k, h, c, _, errc := limitServer(t, WithLimits(Limits{MessageTimeout: 200 * time.Millisecond}))
	head, _ := foldedSlowBody(3, 5000)
	if _, err := c.Write([]byte(head + "x")); err != nil {
		t.Fatal(err)
	}
	go func() { // one byte every 50 ms, as the attack did
		for range 100 {
			time.Sleep(50 * time.Millisecond)
			if _, err := c.Write([]byte("x")); err != nil {
				return
			}
		}
	}()
	if err := waitErr(t, errc); !errors.Is(err, ErrStreamTimeout) {
		t.Fatalf("reader error %v", err)
	}
	if k.Stats().StreamTimeouts != 1 || h.count(abi.KindSIPRequest, abi.DirIn) != 0 {
		t.Fatalf("stats %+v", k.Stats())
	}
}

// IdleTimeout: an accepted stream on which nothing passes is closed; pings
// are activity; a stream whose keep-alives the plugin expects is left to the
// plugin's failure detection until it reports the flow dead.
func TestIdleStreamClosed(t *testing.T) {
	lim := WithLimits(Limits{IdleTimeout: 300 * time.Millisecond})
	t.Run("silent", func(t *testing.T) {
		_, _, _, _, errc := limitServer(t, lim)
		if err := waitErr(t, errc); !errors.Is(err, ErrStreamTimeout) {
			t.Fatalf("reader error %v", err)
		}
	})
	t.Run("pings keep it open", func(t *testing.T) {
		_, _, c, _, errc := limitServer(t, lim)
		for range 8 {
			time.Sleep(100 * time.Millisecond)
			if _, err := c.Write(crlfcrlf); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case err := <-errc:
			t.Fatalf("closed while pinged: %v", err)
		default:
		}
	})
	t.Run("keep-alive flow until dead", func(t *testing.T) {
		k, _, _, conns, errc := limitServer(t, lim)
		s := <-conns
		k.HandleAction(s.Flow(), abi.Action{Kind: abi.ActReceiveStarted, Value: 600})
		select {
		case err := <-errc:
			t.Fatalf("keep-alive flow closed by the idle timeout: %v", err)
		case <-time.After(800 * time.Millisecond):
		}
		k.HandleAction(s.Flow(), abi.Action{Kind: abi.ActFlowDead})
		if err := waitErr(t, errc); !errors.Is(err, ErrStreamTimeout) {
			t.Fatalf("reader error %v", err)
		}
	})
	t.Run("registration", func(t *testing.T) {
		_, _, c, conns, errc := limitServer(t, lim)
		s := <-conns
		ok := "SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 192.0.2.1\r\nCSeq: 7 REGISTER\r\nContent-Length: 0\r\n\r\n"
		if _, err := s.Write([]byte(ok)); err != nil {
			t.Fatal(err)
		}
		readFull(t, c, len(ok)+len(editMark))
		select {
		case err := <-errc:
			t.Fatalf("registration flow closed by the idle timeout: %v", err)
		case <-time.After(800 * time.Millisecond):
		}
	})
}

// The message timeout bounds one message, not a busy stream: messages that
// keep arriving with each read ending inside the next one never trip it.
func TestMessageTimeoutPerMessageOnBusyStream(t *testing.T) {
	_, h, c, _, errc := limitServer(t, WithLimits(Limits{MessageTimeout: 300 * time.Millisecond}))
	msg := sipRequest("OPTIONS", "")
	pending := ""
	for i := range 12 { // 1.2 s: every write completes one message and starts the next
		part := pending + msg[:len(msg)/2]
		if i == 0 {
			part = msg[:len(msg)/2]
		}
		if _, err := c.Write([]byte(part)); err != nil {
			t.Fatal(err)
		}
		pending = msg[len(msg)/2:]
		time.Sleep(100 * time.Millisecond)
	}
	select {
	case err := <-errc:
		t.Fatalf("busy stream closed: %v", err)
	default:
	}
	if n := h.count(abi.KindSIPRequest, abi.DirIn); n != 11 {
		t.Fatalf("%d messages", n)
	}
}
