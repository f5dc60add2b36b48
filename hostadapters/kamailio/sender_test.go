package kamailio

import (
	"bufio"
	"crypto/tls"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/stun/v3"
	"github.com/sipkeep/sipkeep/hostadapters/internal/siptest"
	"github.com/sipkeep/sipkeep/internal/testtls"
)

// upstream is a Go UDP SIP server that grants keep=N to a Via offering keep
// and answers STUN Binding requests until told to stop.
type upstream struct {
	pc    net.PacketConn
	grant string
	quiet atomic.Bool // stop answering STUN

	mu        sync.Mutex
	stunTimes []time.Time // first transmissions (a new transaction id)
	stunFrom  []string
	allTimes  []time.Time // every request, retransmissions included
	lastTx    [12]byte
	requests  []string
}

// startUpstream starts it on ip ("127.0.0.1" or "::1").
func startUpstream(t *testing.T, grant, ip string) *upstream {
	t.Helper()
	pc, err := net.ListenPacket("udp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	u := &upstream{pc: pc, grant: grant}
	t.Cleanup(func() { pc.Close() })
	go u.serve()
	return u
}

func (u *upstream) Addr() string { return u.pc.LocalAddr().String() }

func (u *upstream) serve() {
	buf := make([]byte, 65535)
	for {
		n, from, err := u.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		msg := append([]byte(nil), buf[:n]...)
		if stun.IsMessage(msg) {
			u.onSTUN(msg, from)
			continue
		}
		s := string(msg)
		if strings.HasPrefix(s, "SIP/2.0") || strings.HasPrefix(s, "ACK ") {
			continue
		}
		u.mu.Lock()
		u.requests = append(u.requests, s)
		u.mu.Unlock()
		u.pc.WriteTo([]byte(u.reply(s)), from)
	}
}

func (u *upstream) onSTUN(msg []byte, from net.Addr) {
	m := &stun.Message{Raw: msg}
	if m.Decode() != nil || m.Type != stun.BindingRequest {
		return
	}
	u.mu.Lock()
	now := time.Now()
	u.allTimes = append(u.allTimes, now)
	if m.TransactionID != u.lastTx {
		u.lastTx = m.TransactionID
		u.stunTimes = append(u.stunTimes, now)
		u.stunFrom = append(u.stunFrom, from.String())
	}
	u.mu.Unlock()
	if u.quiet.Load() {
		return
	}
	ua := from.(*net.UDPAddr)
	resp := stun.MustBuild(stun.NewTransactionIDSetter(m.TransactionID), stun.BindingSuccess,
		&stun.XORMappedAddress{IP: ua.IP, Port: ua.Port}, stun.Fingerprint)
	u.pc.WriteTo(resp.Raw, from)
}

// reply answers a request with 200 OK, granting keep=grant on a top Via that offers keep.
func (u *upstream) reply(req string) string {
	var b strings.Builder
	b.WriteString("SIP/2.0 200 OK\r\n")
	head, _, _ := strings.Cut(req, "\r\n\r\n")
	first := true
	for _, l := range strings.Split(head, "\r\n")[1:] {
		name, _, _ := strings.Cut(l, ":")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "via", "v":
			if first && u.grant != "" {
				l = siptest.KeepParam.ReplaceAllLiteralString(l, ";keep="+u.grant)
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

func (u *upstream) stuns() ([]time.Time, []string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]time.Time(nil), u.stunTimes...), append([]string(nil), u.stunFrom...)
}

func (u *upstream) allRequests() []time.Time {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]time.Time(nil), u.allTimes...)
}

// TestKamailioSender runs Kamailio toward an upstream that grants keep=2:
// Kamailio offers ;keep on its own Via (R4), then sends STUN keep-alives from
// its SIP port every 80–100 % of 2 s (R13, K3), and stops once they go
// unanswered (R18, K4).
func TestKamailioSender(t *testing.T) { senderUDP(t, "127.0.0.1") }

// TestKamailioSenderIPv6 is TestKamailioSender with the upstream on [::1]
// (the example's WITH_IPV6): the keep-alives go from Kamailio's IPv6 SIP
// port, and their responses carry IPv6 XOR-MAPPED-ADDRESSes.
func TestKamailioSenderIPv6(t *testing.T) { senderUDP(t, "::1") }

func senderUDP(t *testing.T, ip string) {
	up := startUpstream(t, "2", ip)
	k := startKamailio(t, kamOptions{
		Upstream: up.Addr(),
		Policy:   "floor_seconds=1;stun_rto_ms=200;stun_max_requests=3;stun_final_multiplier=2",
		IPv6:     ip == "::1",
	})
	kAddr := k.Addr() // the SIP socket Kamailio sends toward the upstream from
	if ip == "::1" {
		kAddr = k.Addr6()
	}
	ua := siptest.NewUA(t, "UDP", k.Addr())
	resp := ua.Register("trunkuser", "trunk.example", ";keep")
	if siptest.StatusCode(resp) != 200 {
		t.Fatalf("REGISTER via upstream: %s", resp)
	}
	up.mu.Lock()
	fwd := up.requests[0]
	up.mu.Unlock()
	top := siptest.Headers(fwd, "Via")[0]
	if v, ok := siptest.ViaKeep(top); !ok || v != "" {
		t.Fatalf("R4: Kamailio's own Via should carry a bare ;keep, got %q", top)
	}
	if !strings.Contains(top, kAddr) {
		t.Fatalf("top Via %q is not Kamailio's %s", top, kAddr)
	}
	// The UA offered keep to Kamailio as well: it gets Kamailio's own value.
	if v, _ := siptest.ViaKeep(siptest.Headers(resp, "Via")[0]); v == "" {
		t.Errorf("R10: the UA's Via got no keep value:\n%s", resp)
	}

	// Keep-alives flow: wait for 4 of them.
	deadline := time.Now().Add(12 * time.Second)
	var times []time.Time
	var from []string
	for time.Now().Before(deadline) {
		if times, from = up.stuns(); len(times) >= 4 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(times) < 4 {
		t.Fatalf("want 4 STUN keep-alives within 12 s, got %d\n%s", len(times), k.tail(30))
	}
	for i, f := range from {
		if f != kAddr {
			t.Errorf("K3: keep-alive %d came from %s, not from Kamailio's SIP port %s", i, f, kAddr)
		}
	}
	for i := 1; i < len(times); i++ {
		// 80–100 % of 2 s, plus scheduling slack.
		if d := times[i].Sub(times[i-1]); d < 1500*time.Millisecond || d > 2300*time.Millisecond {
			t.Errorf("R13: interval %d = %s, want within [1.6 s, 2 s] (+timer step)", i, d)
		} else {
			t.Logf("interval %d: %s", i, d.Round(time.Millisecond))
		}
	}
	if n := k.stat(t, "keepalive-answered"); n < 3 {
		t.Errorf("keepalive-answered = %d, want ≥ 3 (STUN responses reached the plugin)", n)
	}

	// The upstream goes silent: retransmissions, then the flow fails and sending stops.
	up.quiet.Store(true)
	stopped := time.Now()
	time.Sleep(2*time.Second + 3500*time.Millisecond)
	times = up.allRequests()
	var after []time.Duration
	for _, ts := range times {
		if ts.After(stopped) {
			after = append(after, ts.Sub(stopped))
		}
	}
	t.Logf("STUN requests after the upstream went silent: %v", after)
	if len(after) == 0 || len(after) > 3 {
		t.Errorf("want 1..3 requests (first + retransmissions, Rc=3) after silence, got %d", len(after))
	}
	if len(after) > 0 && after[len(after)-1] > 3500*time.Millisecond {
		t.Errorf("R18: keep-alives still sent %s after the upstream stopped answering", after[len(after)-1])
	}
	if n := k.stat(t, "flow-failed"); n < 1 {
		t.Errorf("R18: no flow-failed reported\n%s", k.tail(20))
	}
	if !k.logContains("sipkeep flow-failed: udp") {
		t.Errorf("event_route[sipkeep:flow-failed] did not run for the UDP flow\n%s", k.tail(20))
	}
}

// tcpUpstream is a Go TCP SIP server that grants keep=grant and answers
// CRLFCRLF pings with a CRLF pong until told to stop.
type tcpUpstream struct {
	ln    net.Listener
	grant string
	quiet atomic.Bool
	pings atomic.Int32
	eof   chan struct{} // closed when Kamailio closes the connection
	req   chan string
}

// startTCPUpstream starts it on TCP, or on TLS with a throwaway
// certificate (Kamailio does not verify it).
func startTCPUpstream(t *testing.T, grant string, overTLS bool) *tcpUpstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if overTLS {
		ln = tls.NewListener(ln, testtls.New(t).Server)
	}
	u := &tcpUpstream{ln: ln, grant: grant, eof: make(chan struct{}), req: make(chan string, 8)}
	t.Cleanup(func() { ln.Close() })
	go u.serve()
	return u
}

func (u *tcpUpstream) serve() {
	c, err := u.ln.Accept()
	if err != nil {
		return
	}
	defer c.Close()
	defer close(u.eof)
	rd := bufio.NewReader(c)
	up := &upstream{grant: u.grant}
	for {
		// CRLFCRLF pings between messages.
		b, err := rd.Peek(1)
		if err != nil {
			return
		}
		if b[0] == '\r' || b[0] == '\n' {
			four, err := rd.Peek(4)
			if err == nil && string(four) == "\r\n\r\n" {
				rd.Discard(4)
				u.pings.Add(1)
				if !u.quiet.Load() {
					c.Write([]byte("\r\n"))
				}
				continue
			}
			rd.Discard(1)
			continue
		}
		msg, err := siptest.ReadStreamMessage(rd)
		if err != nil {
			return
		}
		if strings.HasPrefix(msg, "SIP/2.0") || strings.HasPrefix(msg, "ACK ") {
			continue
		}
		u.req <- msg
		c.Write([]byte(up.reply(msg)))
	}
}

// TestKamailioSenderTCP: over TCP, Kamailio offers ;keep upstream (R4), sends
// CRLFCRLF pings on the connection once granted keep=N, takes the pongs as
// answers, and when the upstream stops answering reports the flow failed
// (event route) and closes the connection (R18, K4).
func TestKamailioSenderTCP(t *testing.T) { senderStream(t, "tcp") }

// TestKamailioSenderTLS is TestKamailioSenderTCP over TLS (the example's
// WITH_TLS, Kamailio's tls module as the client).
func TestKamailioSenderTLS(t *testing.T) { senderStream(t, "tls") }

func senderStream(t *testing.T, transport string) {
	up := startTCPUpstream(t, "2", transport == "tls")
	k := startKamailio(t, kamOptions{
		Upstream: up.ln.Addr().String() + ";transport=" + transport,
		Policy:   "floor_seconds=1",
		TLS:      transport == "tls",
	})
	ua := siptest.NewUA(t, "UDP", k.Addr())
	resp := ua.Register("trunkuser", "trunk.example", ";keep")
	if siptest.StatusCode(resp) != 200 {
		t.Fatalf("REGISTER via upstream: %s", resp)
	}
	fwd := <-up.req
	if v, ok := siptest.ViaKeep(siptest.Headers(fwd, "Via")[0]); !ok || v != "" {
		t.Fatalf("R4: Kamailio's own Via should carry a bare ;keep, got %q", siptest.Headers(fwd, "Via")[0])
	}
	deadline := time.Now().Add(12 * time.Second)
	for up.pings.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if n := up.pings.Load(); n < 3 {
		t.Fatalf("want 3 CRLF pings within 12 s, got %d\n%s", n, k.tail(30))
	}
	if n := k.stat(t, "keepalive-answered"); n < 2 {
		t.Errorf("keepalive-answered = %d, want ≥ 2 (pongs seen)", n)
	}
	if k.stat(t, "flow-failed") != 0 {
		t.Fatalf("flow failed while the upstream answered\n%s", k.tail(30))
	}
	up.quiet.Store(true)
	select {
	case <-up.eof:
	case <-time.After(15 * time.Second):
		t.Fatalf("R18: Kamailio kept the connection after the pongs stopped\n%s", k.tail(30))
	}
	if n := k.stat(t, "flow-failed"); n < 1 {
		t.Errorf("R18: no flow-failed reported")
	}
	if !k.logContains("sipkeep flow-failed: " + transport) {
		t.Errorf("event_route[sipkeep:flow-failed] did not run for the %s flow\n%s", transport, k.tail(20))
	}
}
