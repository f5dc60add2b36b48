package netkeep

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/abi/proto"
	"github.com/sipkeep/sipkeep/host"
	"github.com/sipkeep/sipkeep/internal/testwasm"
)

// With the real host and plugin: a REGISTER written through the wrapped UDP
// socket leaves with ";keep" (R4); the registrar's 200 OK with keep=1 starts
// STUN keep-alives from the same socket (R5, K3), at 80–100 % of 1 s (R13).
func TestR4R5_RealHostUDP(t *testing.T) {
	ctx := context.Background()
	k := New()
	h, err := host.New(ctx, host.WithModuleFile(testwasm.Path(t)), host.WithActionHandler(k.HandleAction),
		host.WithPolicy(&proto.Policy{FloorSeconds: 1, ReceiverKeepSeconds: 1}), host.WithCallTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(ctx)
	k.Attach(h)
	pc := k.WrapPacketConn(listenUDP(t, "127.0.0.1"))
	go func() { // the SIP reader
		b := make([]byte, 65535)
		for {
			if _, _, err := pc.ReadFrom(b); err != nil {
				return
			}
		}
	}()
	reg := listenUDP(t, "127.0.0.1")
	via := "SIP/2.0/UDP " + pc.LocalAddr().String() + ";branch=z9hG4bK-1"
	msg := "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: " + via + "\r\nMax-Forwards: 70\r\n" +
		"From: <sip:alice@127.0.0.1>;tag=a\r\nTo: <sip:alice@127.0.0.1>\r\nCall-ID: r1\r\nCSeq: 1 REGISTER\r\n" +
		"Contact: <sip:alice@" + pc.LocalAddr().String() + ">\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n"
	if _, err := pc.WriteTo([]byte(msg), reg.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4096)
	_ = reg.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, from, err := reg.ReadFrom(b)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b[:n])
	if !strings.Contains(got, via+";keep") && !strings.Contains(got, ";keep;") {
		t.Fatalf("REGISTER left without ;keep:\n%s", got)
	}
	res := strings.Replace(got, "REGISTER sip:127.0.0.1 SIP/2.0", "SIP/2.0 200 OK", 1)
	res = strings.Replace(res, ";keep", ";keep=1", 1)
	if _, err := reg.WriteTo([]byte(res), from); err != nil {
		t.Fatal(err)
	}
	var times []time.Time
	for len(times) < 3 {
		_ = reg.SetReadDeadline(time.Now().Add(3 * time.Second))
		n, from, err := reg.ReadFrom(b)
		if err != nil {
			t.Fatalf("after %d keep-alives: %v", len(times), err)
		}
		m := &stun.Message{Raw: append([]byte(nil), b[:n]...)}
		if err := m.Decode(); err != nil || m.Type != stun.BindingRequest {
			t.Fatalf("not a binding request: %q", b[:n])
		}
		if addrPort(from) != addrPort(pc.LocalAddr()) {
			t.Fatalf("STUN from %v, not the SIP socket", from)
		}
		times = append(times, time.Now())
		ans := stun.MustBuild(stun.NewTransactionIDSetter(m.TransactionID), stun.BindingSuccess,
			&stun.XORMappedAddress{IP: from.(*net.UDPAddr).IP, Port: from.(*net.UDPAddr).Port}, stun.Fingerprint)
		_, _ = reg.WriteTo(ans.Raw, from)
	}
	for i := 1; i < len(times); i++ {
		if d := times[i].Sub(times[i-1]); d < 750*time.Millisecond || d > 1100*time.Millisecond {
			t.Errorf("interval %v outside 80–100 %% of 1 s", d)
		}
	}
	time.Sleep(50 * time.Millisecond)
	if s := k.Stats(); s.KeepalivesAnswered < 2 {
		t.Errorf("stats %+v", s)
	}
	_ = abi.KindSTUN
}
