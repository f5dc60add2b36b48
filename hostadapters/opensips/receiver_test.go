package opensips

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/hostadapters/internal/siptest"
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
				siptest.CheckRegisterKeep(t, tr, s.Addr(), "alice"+tr, c.domain, "3")
			})
		}
	}

	t.Run("R10_NoKeepOffered_NoValue", func(t *testing.T) {
		siptest.CheckNoKeepWithoutOffer(t, s.Addr(), "nokeep", dom)
	})

	t.Run("Latin1DisplayName", func(t *testing.T) {
		u := siptest.NewUA(t, "UDP", s.Addr())
		// 0xE9 and 0xFC are Latin-1 ("é", "ü") and not valid UTF-8.
		aor := "sip:latin1@" + dom
		u.Send(u.Request("REGISTER", "sip:"+dom, "\"Jos\xe9 M\xfcller\" <"+aor+">", aor, "latin-1", 1, ";keep",
			"Contact: <sip:latin1@"+u.Local()+">", "Expires: 300"))
		resp := u.Final(8 * time.Second)
		if siptest.StatusCode(resp) != 200 || !strings.Contains(resp, "Jos\xe9 M\xfcller") {
			t.Fatalf("REGISTER with a Latin-1 display name: %s", resp)
		}
		if v, _ := siptest.ViaKeep(siptest.Headers(resp, "Via")[0]); v != "3" {
			t.Errorf("Latin-1 display name: want keep=3, got %q\n%s", siptest.Headers(resp, "Via")[0], resp)
		}
	})

	callee := siptest.NewUA(t, "UDP", s.Addr())
	for _, user := range []string{"rrbob", "bob", "rrbig"} {
		if r := callee.Register(user, dom, ""); siptest.StatusCode(r) != 200 {
			t.Fatalf("callee REGISTER %s: %s", user, r)
		}
	}

	t.Run("R12_InviteKeepOnlyWhenRecordRouted", func(t *testing.T) {
		go siptest.AnswerInvites(callee, 2, 0)
		for _, c := range []struct {
			user string
			want bool
		}{{"rrbob", true}, {"bob", false}} {
			caller := siptest.NewUA(t, "UDP", s.Addr())
			ruri := fmt.Sprintf("sip:%s@%s", c.user, dom)
			caller.Send(caller.Request("INVITE", ruri, "sip:carol@"+dom, ruri, fmt.Sprintf("inv-%s-%d", c.user, time.Now().UnixNano()), 1, ";keep",
				"Contact: <sip:carol@"+caller.Local()+">"))
			resp := caller.Final(8 * time.Second)
			if siptest.StatusCode(resp) != 200 {
				t.Fatalf("INVITE %s: %s", c.user, resp)
			}
			rr := len(siptest.Headers(resp, "Record-Route")) > 0
			v, _ := siptest.ViaKeep(siptest.Headers(resp, "Via")[0])
			if rr != c.want || (v == "3") != c.want {
				t.Errorf("INVITE to %s: record-routed=%v keep=%q, want both %v\n%s", c.user, rr, v, c.want, resp)
			}
		}
	})

	t.Run("LargeReply", func(t *testing.T) {
		const body = 5500
		go siptest.AnswerInvites(callee, 1, body)
		caller := siptest.NewUA(t, "TCP", s.Addr())
		ruri := "sip:rrbig@" + dom
		caller.Send(caller.Request("INVITE", ruri, "sip:carol@"+dom, ruri, fmt.Sprintf("big-%d", time.Now().UnixNano()), 1, ";keep",
			"Contact: <sip:carol@"+caller.Local()+">"))
		resp := caller.Final(8 * time.Second)
		if siptest.StatusCode(resp) != 200 || len(resp) < body {
			t.Fatalf("INVITE with a %d-byte answer: got %d bytes:\n%.400s", body, len(resp), resp)
		}
		if v, _ := siptest.ViaKeep(siptest.Headers(resp, "Via")[0]); v != "3" {
			t.Errorf("%d-byte reply: want keep=3, got %q", len(resp), siptest.Headers(resp, "Via")[0])
		}
		_, b, _ := strings.Cut(resp, "\r\n\r\n")
		if len(b) != body {
			t.Errorf("body: %d bytes, want %d", len(b), body)
		}
	})

	t.Run("K3_STUNAnsweredFromTheSIPPort", func(t *testing.T) {
		siptest.CheckSTUNAnswered(t, s.Addr())
	})

	t.Run("K1_CRLFPongOnTCP", func(t *testing.T) {
		siptest.CheckCRLFPong(t, s.Addr())
	})

	mod, svc := s.stats(t)
	t.Logf("sipkeep_stats: %v service: %v", mod, svc)
	if num(mod, "edited") == 0 || num(mod, "failed_open") != 0 {
		t.Errorf("sipkeep_stats: want edits and no failed-open calls: %v", mod)
	}
}
