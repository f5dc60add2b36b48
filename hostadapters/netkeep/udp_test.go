package netkeep

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"net"
	"net/netip"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/pion/stun/v3"
	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/host"
)

// udpServer wraps a fresh UDP socket and runs a SIP reader on it (as sipgo
// would); every datagram the reader gets is sent on the channel.
func udpServer(t *testing.T, ip string, opts ...Option) (*Keeper, *fakeHandler, net.PacketConn, <-chan []byte) {
	t.Helper()
	k := New(opts...)
	h := newFakeHandler()
	k.Attach(h)
	pc := k.WrapPacketConn(listenUDP(t, ip))
	sip := make(chan []byte, 16)
	go func() {
		buf := make([]byte, 65535)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				close(sip)
				return
			}
			sip <- append([]byte(nil), buf[:n]...)
		}
	}()
	return k, h, pc, sip
}

func exchange(t *testing.T, c *net.UDPConn, to net.Addr, req []byte) []byte {
	t.Helper()
	if _, err := c.WriteTo(req, to); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 1500)
	n, _, err := c.ReadFrom(buf)
	if err != nil {
		t.Fatalf("no STUN answer: %v", err)
	}
	return buf[:n]
}

func noSIP(t *testing.T, sip <-chan []byte) {
	t.Helper()
	select {
	case b := <-sip:
		t.Fatalf("the SIP reader got a non-SIP datagram: %q", b)
	case <-time.After(50 * time.Millisecond):
	}
}

// K3: a RFC 5389 Binding request on the SIP port is answered with
// XOR-MAPPED-ADDRESS = the client's address, shown to the plugin, and never
// reaches the SIP reader.
func TestK3_STUNBindingAnswered5389(t *testing.T) {
	for _, ip := range loopbacks {
		t.Run(ip, func(t *testing.T) {
			_, h, pc, sip := udpServer(t, ip)
			cl := listenUDP(t, ip)
			req := stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.Fingerprint)
			raw := exchange(t, cl, pc.LocalAddr(), req.Raw)
			res := &stun.Message{Raw: raw}
			if err := res.Decode(); err != nil {
				t.Fatal(err)
			}
			if res.Type != stun.BindingSuccess || res.TransactionID != req.TransactionID {
				t.Fatalf("answer %v tx %x, want binding success tx %x", res.Type, res.TransactionID, req.TransactionID)
			}
			if err := stun.Fingerprint.Check(res); err != nil {
				t.Fatalf("fingerprint: %v", err)
			}
			var xa stun.XORMappedAddress
			if err := xa.GetFrom(res); err != nil {
				t.Fatal(err)
			}
			want := cl.LocalAddr().(*net.UDPAddr)
			if !xa.IP.Equal(want.IP) || xa.Port != want.Port {
				t.Fatalf("XOR-MAPPED-ADDRESS %v, want %v", xa, want)
			}
			ev := h.waitEvent(t, abi.KindSTUN, abi.DirIn)
			if !bytes.Equal(ev.Message, req.Raw) || ev.Flow.Transport != abi.TransportUDP ||
				ev.Flow.Remote != addrPort(cl.LocalAddr()) || ev.Flow.Local != addrPort(pc.LocalAddr()) {
				t.Fatalf("plugin saw %+v", ev.Flow)
			}
			noSIP(t, sip)
		})
	}
}

// K3: a classic RFC 3489 request (no magic cookie) is recognised too and
// answered with MAPPED-ADDRESS and the whole 16-byte transaction id.
func TestK3_STUNBindingAnswered3489(t *testing.T) {
	for _, ip := range loopbacks {
		t.Run(ip, func(t *testing.T) {
			k, _, pc, sip := udpServer(t, ip)
			cl := listenUDP(t, ip)
			req := make([]byte, 20)
			binary.BigEndian.PutUint16(req[0:2], 0x0001)
			_, _ = rand.Read(req[4:20])
			req[4] = 0x55 // certainly not the magic cookie
			raw := exchange(t, cl, pc.LocalAddr(), req)
			if binary.BigEndian.Uint16(raw[0:2]) != 0x0101 || !bytes.Equal(raw[4:20], req[4:20]) {
				t.Fatalf("answer type %x tx %x, want 0101 tx %x", raw[0:2], raw[4:20], req[4:20])
			}
			// Re-decode with the cookie patched in so pion can read the attributes.
			patched := append([]byte(nil), raw...)
			binary.BigEndian.PutUint32(patched[4:8], stunMagicCookie)
			m := &stun.Message{Raw: patched}
			if err := m.Decode(); err != nil {
				t.Fatal(err)
			}
			var ma stun.MappedAddress
			if err := ma.GetFrom(m); err != nil {
				t.Fatal(err)
			}
			want := cl.LocalAddr().(*net.UDPAddr)
			if !ma.IP.Equal(want.IP) || ma.Port != want.Port {
				t.Fatalf("MAPPED-ADDRESS %v, want %v", ma, want)
			}
			noSIP(t, sip)
			if got := k.Stats().STUNRequestsServed; got != 1 {
				t.Fatalf("served %d", got)
			}
		})
	}
}

// K1: CRLF datagrams on UDP are dropped; SIP passes to the reader and to the
// plugin (direction in); a write carries the plugin's result.
func TestK1_UDPCRLFDroppedSIPPasses(t *testing.T) {
	for _, ip := range loopbacks {
		t.Run(ip, func(t *testing.T) {
			k, h, pc, sip := udpServer(t, ip)
			cl := listenUDP(t, ip)
			for _, d := range []string{"\r\n\r\n", "\r\n"} {
				if _, err := cl.WriteTo([]byte(d), pc.LocalAddr()); err != nil {
					t.Fatal(err)
				}
			}
			msg := sipRequest("OPTIONS", "")
			if _, err := cl.WriteTo([]byte(msg), pc.LocalAddr()); err != nil {
				t.Fatal(err)
			}
			select {
			case b := <-sip:
				if string(b) != msg {
					t.Fatalf("reader got %q", b)
				}
			case <-time.After(3 * time.Second):
				t.Fatal("SIP datagram not delivered")
			}
			if ev := h.waitEvent(t, abi.KindSIPRequest, abi.DirIn); string(ev.Message) != msg || !ev.InRouteSet || ev.Role != abi.RoleUA {
				t.Fatalf("plugin saw %+v", ev)
			}
			if got := k.Stats().StrayUDPCRLF; got != 2 {
				t.Fatalf("stray CRLF count %d, want 2", got)
			}
			// Out: the peer receives the plugin's edited message.
			if _, err := pc.WriteTo([]byte(msg), cl.LocalAddr()); err != nil {
				t.Fatal(err)
			}
			_ = cl.SetReadDeadline(time.Now().Add(3 * time.Second))
			buf := make([]byte, 2000)
			n, _, err := cl.ReadFrom(buf)
			if err != nil || !bytes.Contains(buf[:n], []byte(editMark)) {
				t.Fatalf("peer got %q (%v), want the edited message", buf[:n], err)
			}
		})
	}
}

// K3: action send-stun leaves from the flow's own socket with the plugin's
// transaction id; the peer's answer goes back to the plugin (on_response).
func TestK3_SendSTUNActionFromSIPSocket(t *testing.T) {
	for _, ip := range loopbacks {
		t.Run(ip, func(t *testing.T) {
			k, h, pc, sip := udpServer(t, ip)
			peer := listenUDP(t, ip)
			f := host.Flow{Transport: abi.TransportUDP, Local: addrPort(pc.LocalAddr()), Remote: addrPort(peer.LocalAddr())}
			var tx [12]byte
			copy(tx[:], "sipkeep-tx01")
			for attempt := uint16(1); attempt <= 2; attempt++ { // a retransmission keeps the id
				k.HandleAction(f, abi.Action{Kind: abi.ActSendSTUN, Attempt: attempt, Value: 500, TxID: tx})
				_ = peer.SetReadDeadline(time.Now().Add(3 * time.Second))
				buf := make([]byte, 1500)
				n, from, err := peer.ReadFrom(buf)
				if err != nil {
					t.Fatal(err)
				}
				if addrPort(from) != f.Local {
					t.Fatalf("STUN came from %v, want the SIP socket %v", from, f.Local)
				}
				m := &stun.Message{Raw: buf[:n]}
				if err := m.Decode(); err != nil || m.Type != stun.BindingRequest || m.TransactionID != tx {
					t.Fatalf("peer got %v tx %x (%v)", m.Type, m.TransactionID, err)
				}
				if attempt == 2 {
					res := stun.MustBuild(stun.NewTransactionIDSetter(tx), stun.BindingSuccess,
						&stun.XORMappedAddress{IP: from.(*net.UDPAddr).IP, Port: from.(*net.UDPAddr).Port}, stun.Fingerprint)
					if _, err := peer.WriteTo(res.Raw, from); err != nil {
						t.Fatal(err)
					}
					ev := h.waitEvent(t, abi.KindSTUN, abi.DirIn)
					if !bytes.Equal(ev.Message, res.Raw) || ev.Flow != f {
						t.Fatalf("plugin saw flow %+v", ev.Flow)
					}
				}
			}
			noSIP(t, sip)
			if s := k.Stats(); s.STUNRequestsSent != 2 || s.STUNResponsesIn != 1 {
				t.Fatalf("stats %+v", s)
			}
		})
	}
}

func udpPort(t *testing.T, pc net.PacketConn) string {
	return strconv.Itoa(int(addrPort(pc.LocalAddr()).Port()))
}

// A real RFC 5389 client: coturn's turnutils_stunclient.
func TestK3_TurnutilsSTUNClient(t *testing.T) {
	bin, err := exec.LookPath("turnutils_stunclient")
	if err != nil {
		t.Skip("turnutils_stunclient (Debian coturn) not installed")
	}
	_, _, pc, sip := udpServer(t, "127.0.0.1")
	out, err := exec.Command(bin, "-p", udpPort(t, pc), "127.0.0.1").CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("turnutils_stunclient: %v", err)
	}
	if !bytes.Contains(out, []byte("127.0.0.1")) || bytes.Contains(bytes.ToLower(out), []byte("error")) {
		t.Fatalf("no mapped address in the output")
	}
	noSIP(t, sip)
}

// A real classic RFC 3489 client: stun-client's `stun`.
func TestK3_StunClient3489(t *testing.T) {
	bin, err := exec.LookPath("stun")
	if err != nil {
		t.Skip("stun (Debian stun-client) not installed")
	}
	k, _, pc, sip := udpServer(t, "127.0.0.1")
	free := listenUDP(t, "127.0.0.1")
	src := addrPort(free.LocalAddr()).Port()
	free.Close()
	cmd := exec.Command(bin, "127.0.0.1:"+udpPort(t, pc), "1", "-v", "-p", strconv.Itoa(int(src)))
	out, _ := cmd.CombinedOutput() // its exit status encodes the NAT type
	t.Logf("%s", out)
	if k.Stats().STUNRequestsServed == 0 {
		t.Fatal("no request served")
	}
	if !bytes.Contains(out, []byte("MappedAddress = 127.0.0.1:"+strconv.Itoa(int(src)))) {
		t.Fatalf("stun did not read our MAPPED-ADDRESS")
	}
	noSIP(t, sip)
}

var _ = netip.AddrPort{}
