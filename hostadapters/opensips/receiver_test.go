package opensips

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v3"
)

// TestOpenSIPSReceiver runs a real OpenSIPS with sipkeep.so as registrar
// (local replies) and as a stateful proxy in front of an upstream registrar
// (forwarded replies), and checks what UAs see on the wire. Nothing in the
// routing script mentions sipkeep.
func TestOpenSIPSReceiver(t *testing.T) {
	up := startUpstream(t)
	s := start(t, options{Upstream: up.Addr()})
	dom := s.Addr()

	for _, tr := range []string{"UDP", "TCP"} {
		for _, c := range []struct{ name, domain string }{{"LocalReply", dom}, {"Forwarded", "upstream.test"}} {
			t.Run("R10_RegisterGetsKeep_"+c.name+"_"+tr, func(t *testing.T) {
				u := newUA(t, tr, s.Addr())
				resp := u.register("alice"+tr, c.domain, ";keep", "Via: SIP/2.0/UDP 10.9.9.9:5060;branch=z9hG4bKlower;keep=40")
				if statusCode(resp) != 200 {
					t.Fatalf("REGISTER: want 200, got:\n%s", resp)
				}
				vias := headers(resp, "Via")
				if v, ok := viaKeep(vias[0]); !ok || v != "3" {
					t.Errorf("top Via: want keep=3, got %q\n%s", vias[0], resp)
				}
				// R17: no keep value below the top.
				if v, _ := viaKeep(vias[1]); v != "" {
					t.Errorf("R17: lower Via kept its value: %q", vias[1])
				}
			})
		}
	}

	t.Run("R10_NoKeepOffered_NoValue", func(t *testing.T) {
		u := newUA(t, "UDP", s.Addr())
		resp := u.register("nokeep", dom, "")
		if _, ok := viaKeep(headers(resp, "Via")[0]); ok {
			t.Errorf("keep added although the UA did not offer it:\n%s", resp)
		}
	})

	t.Run("Latin1DisplayName", func(t *testing.T) {
		u := newUA(t, "UDP", s.Addr())
		// 0xE9 and 0xFC are Latin-1 ("é", "ü") and not valid UTF-8.
		aor := "sip:latin1@" + dom
		u.send(u.request("REGISTER", "sip:"+dom, "\"Jos\xe9 M\xfcller\" <"+aor+">", aor, "latin-1", 1, ";keep",
			"Contact: <sip:latin1@"+u.local()+">", "Expires: 300"))
		resp := u.final(8 * time.Second)
		if statusCode(resp) != 200 || !strings.Contains(resp, "Jos\xe9 M\xfcller") {
			t.Fatalf("REGISTER with a Latin-1 display name: %s", resp)
		}
		if v, _ := viaKeep(headers(resp, "Via")[0]); v != "3" {
			t.Errorf("Latin-1 display name: want keep=3, got %q\n%s", headers(resp, "Via")[0], resp)
		}
	})

	callee := newUA(t, "UDP", s.Addr())
	for _, user := range []string{"rrbob", "bob", "rrbig"} {
		if r := callee.register(user, dom, ""); statusCode(r) != 200 {
			t.Fatalf("callee REGISTER %s: %s", user, r)
		}
	}

	t.Run("R12_InviteKeepOnlyWhenRecordRouted", func(t *testing.T) {
		go answerInvites(callee, 2, 0)
		for _, c := range []struct {
			user string
			want bool
		}{{"rrbob", true}, {"bob", false}} {
			caller := newUA(t, "UDP", s.Addr())
			ruri := fmt.Sprintf("sip:%s@%s", c.user, dom)
			caller.send(caller.request("INVITE", ruri, "sip:carol@"+dom, ruri, fmt.Sprintf("inv-%s-%d", c.user, time.Now().UnixNano()), 1, ";keep",
				"Contact: <sip:carol@"+caller.local()+">"))
			resp := caller.final(8 * time.Second)
			if statusCode(resp) != 200 {
				t.Fatalf("INVITE %s: %s", c.user, resp)
			}
			rr := len(headers(resp, "Record-Route")) > 0
			v, _ := viaKeep(headers(resp, "Via")[0])
			if rr != c.want || (v == "3") != c.want {
				t.Errorf("INVITE to %s: record-routed=%v keep=%q, want both %v\n%s", c.user, rr, v, c.want, resp)
			}
		}
	})

	t.Run("LargeReply", func(t *testing.T) {
		const body = 5500
		go answerInvites(callee, 1, body)
		caller := newUA(t, "TCP", s.Addr())
		ruri := "sip:rrbig@" + dom
		caller.send(caller.request("INVITE", ruri, "sip:carol@"+dom, ruri, fmt.Sprintf("big-%d", time.Now().UnixNano()), 1, ";keep",
			"Contact: <sip:carol@"+caller.local()+">"))
		resp := caller.final(8 * time.Second)
		if statusCode(resp) != 200 || len(resp) < body {
			t.Fatalf("INVITE with a %d-byte answer: got %d bytes:\n%.400s", body, len(resp), resp)
		}
		if v, _ := viaKeep(headers(resp, "Via")[0]); v != "3" {
			t.Errorf("%d-byte reply: want keep=3, got %q", len(resp), headers(resp, "Via")[0])
		}
		_, b, _ := strings.Cut(resp, "\r\n\r\n")
		if len(b) != body {
			t.Errorf("body: %d bytes, want %d", len(b), body)
		}
	})

	t.Run("K3_STUNAnsweredFromTheSIPPort", func(t *testing.T) {
		c, err := net.Dial("udp", s.Addr())
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
		c, err := net.Dial("tcp", s.Addr())
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

	mod, svc := s.stats(t)
	t.Logf("sipkeep_stats: %v service: %v", mod, svc)
	if num(mod, "edited") == 0 || num(mod, "failed_open") != 0 {
		t.Errorf("sipkeep_stats: want edits and no failed-open calls: %v", mod)
	}
}
