package kamailio

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v3"
)

// TestKamailioReceiver runs Kamailio as registrar and edge proxy (receiver
// role) and checks what UAs see on the wire.
func TestKamailioReceiver(t *testing.T) {
	k := startKamailio(t, kamOptions{FlowTimer: 3})
	dom := k.Addr()

	for _, tr := range []string{"UDP", "TCP"} {
		t.Run("R10_RegisterGetsKeep_"+tr, func(t *testing.T) {
			u := newUA(t, tr, k.Addr())
			resp := u.register("alice"+tr, dom, ";keep", "Via: SIP/2.0/UDP 10.9.9.9:5060;branch=z9hG4bKlower;keep=40")
			if statusCode(resp) != 200 {
				t.Fatalf("REGISTER: want 200, got:\n%s", resp)
			}
			vias := headers(resp, "Via")
			if v, ok := viaKeep(vias[0]); !ok || v != "3" {
				t.Errorf("top Via: want keep=3, got %q\n%s", vias[0], resp)
			}
			// R17: no keep value below the top.
			if v, _ := viaKeep(vias[1]); v != "" {
				t.Errorf("lower Via kept its value: %q", vias[1])
			}
		})
	}

	t.Run("R10_NoKeepOffered_NoValue", func(t *testing.T) {
		u := newUA(t, "UDP", k.Addr())
		resp := u.register("nokeep", dom, "")
		if _, ok := viaKeep(headers(resp, "Via")[0]); ok {
			t.Errorf("keep added although the UA did not offer it:\n%s", resp)
		}
	})

	t.Run("R15_FlowTimerEqualsKeep", func(t *testing.T) {
		u := newUA(t, "TCP", k.Addr())
		resp := u.register("ob", dom, ";keep", "Supported: outbound")
		ft := headers(resp, "Flow-Timer")
		keep, _ := viaKeep(headers(resp, "Via")[0])
		if len(ft) == 0 {
			t.Logf("registrar added no Flow-Timer (outbound not in use for this REGISTER); keep=%s", keep)
		} else if ft[0] != keep {
			t.Errorf("Flow-Timer %s != keep=%s\n%s", ft[0], keep, resp)
		}
		if keep != "3" {
			t.Errorf("keep=%q, want 3\n%s", keep, resp)
		}
	})

	t.Run("K3_STUNAnswered", func(t *testing.T) {
		c, err := net.Dial("udp", k.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		req := stun.MustBuild(stun.TransactionID, stun.BindingRequest)
		c.SetDeadline(time.Now().Add(3 * time.Second))
		if _, err := c.Write(req.Raw); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1500)
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("no STUN response: %v", err)
		}
		resp := &stun.Message{Raw: buf[:n]}
		if err := resp.Decode(); err != nil {
			t.Fatal(err)
		}
		var xa stun.XORMappedAddress
		if err := xa.GetFrom(resp); err != nil {
			t.Fatalf("no XOR-MAPPED-ADDRESS: %v", err)
		}
		if resp.TransactionID != req.TransactionID || xa.String() != c.LocalAddr().String() {
			t.Errorf("response %s mapped %s, want tx %x and %s", resp.Type, xa.String(), req.TransactionID, c.LocalAddr())
		}
	})

	t.Run("K1_CRLFPongOnTCP", func(t *testing.T) {
		c, err := net.Dial("tcp", k.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(3 * time.Second))
		c.Write([]byte("\r\n\r\n"))
		buf := make([]byte, 16)
		n, err := c.Read(buf)
		if err != nil || string(buf[:n]) != "\r\n" {
			t.Fatalf("want a CRLF pong, got %q, %v", buf[:n], err)
		}
	})

	t.Run("R12_InviteKeepOnlyWhenRecordRouted", func(t *testing.T) {
		callee := newUA(t, "UDP", k.Addr())
		for _, user := range []string{"bob", "norrbob"} {
			if r := callee.register(user, dom, ""); statusCode(r) != 200 {
				t.Fatalf("callee REGISTER %s: %s", user, r)
			}
		}
		go answerInvites(callee, 2)
		for _, c := range []struct {
			user string
			want bool
		}{{"bob", true}, {"norrbob", false}} {
			caller := newUA(t, "UDP", k.Addr())
			ruri := fmt.Sprintf("sip:%s@%s", c.user, dom)
			caller.send(caller.request("INVITE", ruri, "sip:carol@"+dom, ruri, fmt.Sprintf("inv-%s-%d", c.user, time.Now().UnixNano()), 1, ";keep",
				"Contact: <sip:carol@"+caller.local()+">"))
			resp := caller.final(8 * time.Second)
			if statusCode(resp) != 200 {
				t.Fatalf("INVITE %s: %s", c.user, resp)
			}
			rr := len(headers(resp, "Record-Route")) > 0
			v, _ := viaKeep(headers(resp, "Via")[0])
			if rr != c.want || (v != "") != c.want {
				t.Errorf("INVITE to %s: record-routed=%v keep=%q, want both %v\n%s", c.user, rr, v, c.want, resp)
			}
		}
	})
}

// answerInvites answers n INVITEs on u with 200 OK (a UAS: Vias and
// Record-Route copied, To tagged).
func answerInvites(u *ua, n int) {
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
		b.WriteString("Contact: <sip:callee@" + u.local() + ">\r\nContent-Length: 0\r\n\r\n")
		u.send(b.String())
	}
}

// TestKamailioCfgWithoutModule: the example cfg with its WITH_SIPKEEP
// define removed is a plain registrar that still works (and grants nothing).
func TestKamailioCfgWithoutModule(t *testing.T) {
	k := startKamailio(t, kamOptions{Plain: true})
	u := newUA(t, "UDP", k.Addr())
	resp := u.register("plain", k.Addr(), ";keep")
	if statusCode(resp) != 200 {
		t.Fatalf("REGISTER: %s", resp)
	}
	if v, _ := viaKeep(headers(resp, "Via")[0]); v != "" {
		t.Errorf("keep=%s granted without the module", v)
	}
	if k.logContains("plugin service") {
		t.Errorf("sipkeep appears in the log of the cfg without the module")
	}
}
