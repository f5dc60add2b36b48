package sipgokeep_test

import (
	"bufio"
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/host"
	"github.com/sipkeep/sipkeep/hostadapters/netkeep"
	"github.com/sipkeep/sipkeep/hostadapters/sipgokeep"
)

// rig is a sipgo UA serving UDP and TCP on one loopback port through an
// Adapter.
type rig struct {
	ua  *sipgo.UserAgent
	srv *sipgo.Server
	cli *sipgo.Client
	ad  *sipgokeep.Adapter
	udp net.PacketConn
	tcp net.Listener
}

func newRig(t *testing.T, opts ...sipgokeep.Option) *rig {
	t.Helper()
	return newRigWith(t, nil, opts...)
}

// newRigWith calls before (to register handlers) ahead of serving.
func newRigWith(t *testing.T, before func(*sipgo.Server), opts ...sipgokeep.Option) *rig {
	t.Helper()
	ua, err := sipgo.NewUA()
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := sipgo.NewServer(ua)
	cli, _ := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	r := &rig{ua: ua, srv: srv, cli: cli, ad: sipgokeep.New(ua, opts...)}
	r.udp, err = net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.tcp, err = net.Listen("tcp", r.udp.LocalAddr().String())
	if err != nil {
		t.Skipf("TCP port taken: %v", err)
	}
	if before != nil {
		before(srv)
	}
	go r.ad.ServeUDP(srv, r.udp)
	go r.ad.ServeTCP(srv, r.tcp)
	t.Cleanup(func() { r.udp.Close(); r.tcp.Close(); r.ad.Close(); ua.Close() })
	time.Sleep(50 * time.Millisecond)
	return r
}

func options(dest, transport string) *sip.Request {
	req := sip.NewRequest(sip.OPTIONS, sip.Uri{Scheme: "sip", Host: "127.0.0.1"})
	req.SetTransport(transport)
	req.SetDestination(dest)
	return req
}

// sipgo would send to a UDP destination it never heard from from a fresh
// ephemeral socket; ClientRequestFlow makes it leave from the served socket.
func TestClientRequestFlowPinsUDPToServedSocket(t *testing.T) {
	r := newRig(t)
	peer, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	req := options(peer.LocalAddr().String(), "UDP")
	if err := r.cli.WriteRequest(req, sipgo.ClientRequestBuild, r.ad.ClientRequestFlow); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	peer.SetReadDeadline(time.Now().Add(3 * time.Second))
	_, from, err := peer.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	if from.String() != r.udp.LocalAddr().String() {
		t.Fatalf("request came from %s, want the served socket %s", from, r.udp.LocalAddr())
	}
}

// A TCP destination sipgo has no connection to is dialed by the Adapter,
// wrapped by netkeep, and used by sipgo for the request and its response.
func TestEnsureStreamDialsThroughKeeper(t *testing.T) {
	nk := netkeep.New(netkeep.WithRole(abi.RoleProxy))
	r := newRig(t, sipgokeep.WithKeeper(nk))
	peer, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	go answerOnce(peer)

	req := options(peer.Addr().String(), "TCP")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := r.cli.Do(ctx, req, sipgo.ClientRequestBuild, r.ad.ClientRequestFlow)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		t.Fatalf("got %d", res.StatusCode)
	}
	if s := nk.Stats(); s.SIPOut < 1 || s.SIPIn < 1 {
		t.Fatalf("the dialed stream bypassed netkeep: %+v", s)
	}
}

// answerOnce accepts one stream and answers its first request with 200.
func answerOnce(l net.Listener) {
	c, err := l.Accept()
	if err != nil {
		return
	}
	defer c.Close()
	br := bufio.NewReader(c)
	var head []string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		head = append(head, line)
	}
	var out strings.Builder
	out.WriteString("SIP/2.0 200 OK\r\n")
	for _, h := range head[1:] {
		name, _, _ := strings.Cut(h, ":")
		switch strings.ToLower(name) {
		case "via", "from", "to", "call-id", "cseq":
			out.WriteString(h + "\r\n")
		}
	}
	out.WriteString("Content-Length: 0\r\n\r\n")
	c.Write([]byte(out.String()))
	time.Sleep(500 * time.Millisecond)
}

// With the plugin, a REGISTER sipgo sends as a UA leaves with ;keep on its
// own Via (sender role, RFC 6223 §4.3, R4): edited on write by netkeep.
func TestR4_SenderKeepAddedOnSipgoRegister(t *testing.T) {
	wasm := os.Getenv("SIPKEEP_WASM")
	if wasm == "" {
		t.Skip("SIPKEEP_WASM not set (make test sets it)")
	}
	nk := netkeep.New()
	h, err := host.New(context.Background(), host.WithModuleFile(wasm), host.WithActionHandler(nk.HandleAction))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	nk.Attach(h)
	r := newRig(t, sipgokeep.WithKeeper(nk))
	peer, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: "127.0.0.1"})
	req.SetTransport("UDP")
	req.SetDestination(peer.LocalAddr().String())
	if err := r.cli.WriteRequest(req, sipgo.ClientRequestBuild, r.ad.ClientRequestFlow); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	peer.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, _, err := peer.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(buf[:n]), "\r\n") {
		if strings.HasPrefix(line, "Via:") {
			if !strings.HasSuffix(line, ";keep") {
				t.Fatalf("top Via %q: want ;keep", line)
			}
			return
		}
	}
	t.Fatal("no Via")
}
