package opensips

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/textproto"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ua is a minimal SIP endpoint over UDP or TCP for driving OpenSIPS.
type ua struct {
	t      testing.TB
	tr     string // "UDP" or "TCP"
	pc     net.PacketConn
	sc     net.Conn
	rd     *bufio.Reader
	server string
}

func newUA(t testing.TB, tr, server string) *ua {
	t.Helper()
	u := &ua{t: t, tr: tr, server: server}
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
	t.Cleanup(u.close)
	return u
}

func (u *ua) close() {
	if u.pc != nil {
		u.pc.Close()
	}
	if u.sc != nil {
		u.sc.Close()
	}
}

func (u *ua) local() string {
	if u.pc != nil {
		return u.pc.LocalAddr().String()
	}
	return u.sc.LocalAddr().String()
}

func (u *ua) send(msg string) {
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

// recv returns the next SIP message (skipping CRLF keep-alive bytes on TCP).
func (u *ua) recv(timeout time.Duration) (string, error) {
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
	return readStreamMessage(u.rd)
}

func readStreamMessage(rd *bufio.Reader) (string, error) {
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

// final waits for a final response (skipping 1xx) to the request it sent.
func (u *ua) final(timeout time.Duration) string {
	u.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msg, err := u.recv(time.Until(deadline))
		if err != nil {
			u.t.Fatalf("no final response: %v", err)
		}
		if strings.HasPrefix(msg, "SIP/2.0 1") {
			continue
		}
		return msg
	}
}

func branch() string { return fmt.Sprintf("z9hG4bK%x", rand.Uint64()) }

// request builds a request from this UA; via params (e.g. ";keep") go on its Via.
func (u *ua) request(method, ruri, from, to, callID string, cseq int, viaParams string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", method, ruri)
	fmt.Fprintf(&b, "Via: SIP/2.0/%s %s;branch=%s;rport%s\r\n", u.tr, u.local(), branch(), viaParams)
	b.WriteString("Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "From: <%s>;tag=%x\r\nTo: <%s>\r\nCall-ID: %s\r\nCSeq: %d %s\r\n", from, rand.Uint32(), to, callID, cseq, method)
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return b.String()
}

// register sends a REGISTER for user@domain (contact: this UA) and returns the final response.
func (u *ua) register(user, domain, viaParams string, extra ...string) string {
	u.t.Helper()
	aor := fmt.Sprintf("sip:%s@%s", user, domain)
	contact := fmt.Sprintf("Contact: <sip:%s@%s;transport=%s>", user, u.local(), strings.ToLower(u.tr))
	hdrs := append([]string{contact, "Expires: 300"}, extra...)
	u.send(u.request("REGISTER", "sip:"+domain, aor, aor, fmt.Sprintf("reg-%x", rand.Uint64()), 1, viaParams, hdrs...))
	return u.final(8 * time.Second)
}

// headers returns the values of every header called name (case-insensitive,
// comma-separated values split for Via).
func headers(msg, name string) []string {
	var out []string
	head, _, _ := strings.Cut(msg, "\r\n\r\n")
	lines := strings.Split(head, "\r\n")
	for _, l := range lines[1:] {
		n, v, ok := strings.Cut(l, ":")
		if !ok || !strings.EqualFold(strings.TrimSpace(n), name) {
			continue
		}
		if strings.EqualFold(name, "Via") {
			for _, p := range strings.Split(v, ",") {
				out = append(out, strings.TrimSpace(p))
			}
			continue
		}
		out = append(out, strings.TrimSpace(v))
	}
	return out
}

var keepParam = regexp.MustCompile(`(?i);\s*keep(?:\s*=\s*([^;,\s]*))?`)

// viaKeep reports the keep parameter of a Via value: present, and its value ("" when bare).
func viaKeep(via string) (value string, present bool) {
	m := keepParam.FindStringSubmatch(via)
	if m == nil {
		return "", false
	}
	return m[1], true
}

func statusCode(msg string) int {
	if !strings.HasPrefix(msg, "SIP/2.0 ") || len(msg) < 11 {
		return 0
	}
	n, _ := strconv.Atoi(msg[8:11])
	return n
}

// answerInvites answers n INVITEs on u with 200 OK (a UAS: Vias and
// Record-Route copied, To tagged), with a body of bodyLen bytes.
func answerInvites(u *ua, n, bodyLen int) {
	for i := 0; i < n; {
		msg, err := u.recv(10 * time.Second)
		if err != nil {
			return
		}
		if !strings.HasPrefix(msg, "INVITE ") {
			continue
		}
		i++
		var b strings.Builder
		b.WriteString("SIP/2.0 200 OK\r\n")
		head, _, _ := strings.Cut(msg, "\r\n\r\n")
		for _, l := range strings.Split(head, "\r\n")[1:] {
			name, _, _ := strings.Cut(l, ":")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "via", "v", "record-route", "from", "f", "call-id", "i", "cseq":
				b.WriteString(l + "\r\n")
			case "to", "t":
				b.WriteString(l + ";tag=uas1\r\n")
			}
		}
		body := strings.Repeat("a=x-sipkeep-filler:0123456789abcdef0123456789abcdef0123456789\r\n", bodyLen/32+1)[:bodyLen]
		ct := ""
		if bodyLen > 0 {
			ct = "Content-Type: application/sdp\r\n"
		}
		fmt.Fprintf(&b, "Contact: <sip:callee@%s>\r\n%sContent-Length: %d\r\n\r\n%s", u.local(), ct, bodyLen, body)
		u.send(b.String())
	}
}
