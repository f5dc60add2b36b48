package netkeep

import (
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/internal/testtls"
)

// K1, K2, K6 over TLS: the server side of a tls.NewListener is a TLS flow
// whose split ping is answered with one pong and whose messages arrive
// framed; a dialed *tls.Conn put under a Keeper is a TLS flow too, whose
// reader gets the server's messages whole and reports the pong.
func TestK1K2_TLS(t *testing.T) {
	for _, ip := range loopbacks {
		t.Run(ip, func(t *testing.T) {
			cert := testtls.New(t)
			serverTLS, clientTLS := cert.Server, cert.Client
			k := New()
			h := newFakeHandler()
			k.Attach(h)
			l := k.WrapListener(tls.NewListener(listenTCP(t, ip), serverTLS))
			reads, conns := serveStream(t, l)

			raw, err := tls.Dial("tcp", l.Addr().String(), clientTLS)
			if err != nil {
				t.Fatal(err)
			}
			ck := New()
			ch := newFakeHandler()
			ck.Attach(ch)
			c := ck.WrapConn(raw).(*Conn)
			t.Cleanup(func() { c.Close() })
			if f := c.Flow(); f.Transport != abi.TransportTLS {
				t.Fatalf("dialed flow %+v, want TLS", f)
			}

			// The ping goes out in pieces through the raw TLS conn, so
			// the server sees it split across records.
			for _, p := range []string{"\r", "\n\r", "\n"} {
				if _, err := raw.Write([]byte(p)); err != nil {
					t.Fatal(err)
				}
				time.Sleep(30 * time.Millisecond)
			}
			ev := h.waitEvent(t, abi.KindPing, abi.DirIn)
			if ev.Flow.Transport != abi.TransportTLS || ev.Flow.Remote != addrPort(raw.LocalAddr()) {
				t.Fatalf("server flow %+v", ev.Flow)
			}
			msg := sipRequest("OPTIONS", "hello")
			if _, err := c.Write([]byte(msg)); err != nil {
				t.Fatal(err)
			}
			// (Each side's fake plugin edits what it sends.)
			want := strings.Replace(msg, "\r\n", "\r\n"+editMark, 1)
			if got := string(collect(t, reads, len(want))); got != want {
				t.Fatalf("server reader got %q, want %q", got, want)
			}
			if s := k.Stats(); s.PingsAnswered != 1 {
				t.Fatalf("server stats %+v", s)
			}

			// A message from the server reaches the client's reader whole.
			srv := <-conns
			resp := "SIP/2.0 200 OK\r\nVia: SIP/2.0/TLS 127.0.0.1:5070;branch=z9hG4bK-OPTIONS\r\n" +
				"Call-ID: c-OPTIONS\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
			if _, err := srv.Write([]byte(resp)); err != nil {
				t.Fatal(err)
			}
			_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
			buf := make([]byte, 4096)
			n, err := c.Read(buf)
			if want := strings.Replace(resp, "\r\n", "\r\n"+editMark, 1); err != nil || string(buf[:n]) != want {
				t.Fatalf("client read %q, %v; want %q", buf[:n], err, want)
			}
			// The pong the server sent first was consumed and reported.
			ch.waitEvent(t, abi.KindPong, abi.DirIn)
		})
	}
}
