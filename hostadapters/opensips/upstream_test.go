package opensips

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/stun/v3"
	"github.com/sipkeep/sipkeep/hostadapters/internal/siptest"
	"github.com/sipkeep/sipkeep/internal/testnet"
	"github.com/sipkeep/sipkeep/internal/testtls"
)

// upstream is the registrar OpenSIPS forwards "upstream.test" requests to:
// it answers every request with 200 OK (copying Vias), grants keep=N on
// the top Via (OpenSIPS's) when asked to, answers STUN while told to, and
// records what it saw.
type upstream struct {
	pc    net.PacketConn
	ln    net.Listener
	tls   net.Listener // startUpstreamTLS only
	grant atomic.Int32 // keep=N granted on an offered top Via; 0 = none
	quiet atomic.Bool  // stop answering STUN (and everything else)
	// hangUp: close a stream right after answering a ping on it (a peer,
	// or a NAT on the way, that drops the connection).
	hangUp   atomic.Bool
	accepted atomic.Int32 // streams accepted

	mu       sync.Mutex
	requests []string
	stuns    []stunSeen
	pings    []stunSeen // CRLF pings on streams
}

type stunSeen struct {
	at   time.Time
	from string
}

func startUpstream(t testing.TB) *upstream {
	t.Helper()
	return startUpstreamOn(t, "127.0.0.1")
}

// startUpstreamOn is startUpstream on ip ("127.0.0.1" or "::1").
func startUpstreamOn(t testing.TB, ip string) *upstream {
	t.Helper()
	u := &upstream{}
	u.pc, u.ln = testnet.ListenUDPAndTCPOn(t, ip)
	t.Cleanup(func() { u.pc.Close(); u.ln.Close() })
	go u.serveUDP()
	go u.serveStream(u.ln)
	return u
}

// startUpstreamTLS is startUpstream with a TLS listener as well (TLSAddr),
// on a throwaway certificate OpenSIPS does not verify.
func startUpstreamTLS(t testing.TB) *upstream {
	t.Helper()
	u := startUpstream(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u.tls = tls.NewListener(ln, testtls.New(t).Server)
	t.Cleanup(func() { u.tls.Close() })
	go u.serveStream(u.tls)
	return u
}

func (u *upstream) Addr() string { return u.pc.LocalAddr().String() }

func (u *upstream) TLSAddr() string { return u.tls.Addr().String() }

func (u *upstream) serveUDP() {
	buf := make([]byte, 65535)
	for {
		n, from, err := u.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		b := append([]byte(nil), buf[:n]...)
		if stun.IsMessage(b) {
			u.mu.Lock()
			u.stuns = append(u.stuns, stunSeen{time.Now(), from.String()})
			u.mu.Unlock()
			if u.quiet.Load() {
				continue
			}
			req := &stun.Message{Raw: b}
			if req.Decode() != nil || req.Type != stun.BindingRequest {
				continue
			}
			ua := from.(*net.UDPAddr)
			resp := stun.MustBuild(req, stun.BindingSuccess, &stun.XORMappedAddress{IP: ua.IP, Port: ua.Port})
			u.pc.WriteTo(resp.Raw, from)
			continue
		}
		if r := u.answer(string(b)); r != "" {
			u.pc.WriteTo([]byte(r), from)
		}
	}
}

// serveStream serves a TCP or TLS listener.
func (u *upstream) serveStream(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		u.accepted.Add(1)
		go func() {
			defer c.Close()
			rd := bufio.NewReader(c)
			for {
				// CRLF pings: answer with a pong unless quiet.
				if b, err := rd.Peek(4); err == nil && string(b) == "\r\n\r\n" {
					rd.Discard(4)
					u.mu.Lock()
					u.pings = append(u.pings, stunSeen{time.Now(), c.RemoteAddr().String()})
					u.mu.Unlock()
					if !u.quiet.Load() {
						c.Write([]byte("\r\n"))
					}
					if u.hangUp.Load() {
						return
					}
					continue
				}
				msg, err := siptest.ReadStreamMessage(rd)
				if err != nil {
					return
				}
				if r := u.answer(msg); r != "" {
					c.Write([]byte(r))
				}
			}
		}()
	}
}

var bareKeep = regexp.MustCompile(`(?i);keep(?:=[^;,\s]*)?`)

// answer builds the 200 OK to a request (nothing for ACK).
func (u *upstream) answer(msg string) string {
	if strings.HasPrefix(msg, "SIP/2.0") || strings.HasPrefix(msg, "ACK ") || u.quiet.Load() {
		return ""
	}
	u.mu.Lock()
	u.requests = append(u.requests, msg)
	u.mu.Unlock()
	var b strings.Builder
	b.WriteString("SIP/2.0 200 OK\r\n")
	head, _, _ := strings.Cut(msg, "\r\n\r\n")
	first := true
	for _, l := range strings.Split(head, "\r\n")[1:] {
		name, _, _ := strings.Cut(l, ":")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "via", "v":
			if first && u.grant.Load() > 0 && bareKeep.MatchString(l) {
				l = bareKeep.ReplaceAllString(l, fmt.Sprintf(";keep=%d", u.grant.Load()))
			}
			first = false
			b.WriteString(l + "\r\n")
		case "from", "f", "call-id", "i", "cseq", "contact", "m", "record-route":
			b.WriteString(l + "\r\n")
		case "to", "t":
			b.WriteString(l + ";tag=up1\r\n")
		}
	}
	b.WriteString("Expires: 300\r\nContent-Length: 0\r\n\r\n")
	return b.String()
}

func (u *upstream) lastRequest() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.requests) == 0 {
		return ""
	}
	return u.requests[len(u.requests)-1]
}

func (u *upstream) stunsSeen() []stunSeen {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]stunSeen(nil), u.stuns...)
}

func (u *upstream) pingsSeen() []stunSeen {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]stunSeen(nil), u.pings...)
}
