package siptest

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"
)

// UA is a minimal SIP endpoint over UDP or TCP for driving a SIP server:
// it builds requests by hand so a test controls every byte (a Via with
// ";keep", a planted lower Via) and sees the response as the wire had it.
type UA struct {
	t      testing.TB
	tr     string // "UDP" or "TCP"
	pc     net.PacketConn
	sc     net.Conn
	rd     *bufio.Reader
	server string
}

// NewUA opens a UA on transport tr ("UDP" or "TCP") towards server
// (host:port); TCP connects at once. It is closed when the test ends.
func NewUA(t testing.TB, tr, server string) *UA {
	t.Helper()
	u := &UA{t: t, tr: tr, server: server}
	var err error
	if tr == "UDP" {
		u.pc, err = net.ListenPacket("udp", "127.0.0.1:0")
	} else {
		u.sc, err = net.Dial("tcp", server)
		if err == nil {
			u.rd = bufio.NewReader(u.sc)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(u.Close)
	return u
}

// Close closes the UA's socket; a test may call it early to drop a flow.
func (u *UA) Close() {
	if u.pc != nil {
		u.pc.Close()
	}
	if u.sc != nil {
		u.sc.Close()
	}
}

// Local is the UA's own address (what goes in its Via and Contact).
func (u *UA) Local() string {
	if u.pc != nil {
		return u.pc.LocalAddr().String()
	}
	return u.sc.LocalAddr().String()
}

// Send writes msg to the server as is; a failed write fails the test.
func (u *UA) Send(msg string) {
	u.t.Helper()
	var err error
	if u.pc != nil {
		var ra *net.UDPAddr
		if ra, err = net.ResolveUDPAddr("udp", u.server); err == nil {
			_, err = u.pc.WriteTo([]byte(msg), ra)
		}
	} else {
		_, err = u.sc.Write([]byte(msg))
	}
	if err != nil {
		u.t.Fatalf("send: %v", err)
	}
}

// Recv returns the next SIP message (skipping CRLF keep-alive bytes on TCP).
func (u *UA) Recv(timeout time.Duration) (string, error) {
	if u.pc != nil {
		buf := make([]byte, 65535)
		u.pc.SetReadDeadline(time.Now().Add(timeout))
		n, _, err := u.pc.ReadFrom(buf)
		if err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	}
	u.sc.SetReadDeadline(time.Now().Add(timeout))
	return ReadStreamMessage(u.rd)
}

// ReadStreamMessage reads one SIP message from a stream, framed by its
// Content-Length, skipping the CRLFs of keep-alive pings before it.
func ReadStreamMessage(rd *bufio.Reader) (string, error) {
	for {
		b, err := rd.Peek(1)
		if err != nil {
			return "", err
		}
		if b[0] != '\r' && b[0] != '\n' {
			break
		}
		rd.ReadByte()
	}
	tp := textproto.NewReader(rd)
	var sb strings.Builder
	clen := 0
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return "", err
		}
		sb.WriteString(line + "\r\n")
		if line == "" {
			break
		}
		if name, v, ok := strings.Cut(line, ":"); ok && (strings.EqualFold(strings.TrimSpace(name), "Content-Length") || strings.TrimSpace(name) == "l") {
			clen, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	body := make([]byte, clen)
	if _, err := io.ReadFull(rd, body); err != nil {
		return "", err
	}
	return sb.String() + string(body), nil
}

// Final waits for a final response (skipping 1xx) to the request it sent.
func (u *UA) Final(timeout time.Duration) string {
	u.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msg, err := u.Recv(time.Until(deadline))
		if err != nil {
			u.t.Fatalf("no final response: %v", err)
		}
		if strings.HasPrefix(msg, "SIP/2.0 1") {
			continue
		}
		return msg
	}
}

// Branch is a fresh RFC 3261 Via branch (magic cookie and a random tail).
func Branch() string { return fmt.Sprintf("z9hG4bK%x", rand.Uint64()) }

// Request builds a request from this UA; via params (e.g. ";keep") go on its Via.
func (u *UA) Request(method, ruri, from, to, callID string, cseq int, viaParams string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", method, ruri)
	fmt.Fprintf(&b, "Via: SIP/2.0/%s %s;branch=%s;rport%s\r\n", u.tr, u.Local(), Branch(), viaParams)
	b.WriteString("Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "From: <%s>;tag=%x\r\nTo: <%s>\r\nCall-ID: %s\r\nCSeq: %d %s\r\n", from, rand.Uint32(), to, callID, cseq, method)
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return b.String()
}

// Register sends a REGISTER for user@domain (contact: this UA) and returns the final response.
func (u *UA) Register(user, domain, viaParams string, extra ...string) string {
	u.t.Helper()
	aor := fmt.Sprintf("sip:%s@%s", user, domain)
	contact := fmt.Sprintf("Contact: <sip:%s@%s;transport=%s>", user, u.Local(), strings.ToLower(u.tr))
	hdrs := append([]string{contact, "Expires: 300"}, extra...)
	u.Send(u.Request("REGISTER", "sip:"+domain, aor, aor, fmt.Sprintf("reg-%x", rand.Uint64()), 1, viaParams, hdrs...))
	return u.Final(8 * time.Second)
}
