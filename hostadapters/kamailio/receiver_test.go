package kamailio

import (
	"fmt"
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/hostadapters/internal/siptest"
)

// TestKamailioReceiver runs Kamailio as registrar and edge proxy (receiver
// role) and checks what UAs see on the wire.
func TestKamailioReceiver(t *testing.T) {
	k := startKamailio(t, kamOptions{FlowTimer: 3})
	dom := k.Addr()

	for _, tr := range []string{"UDP", "TCP"} {
		t.Run("R10_RegisterGetsKeep_"+tr, func(t *testing.T) {
			siptest.CheckRegisterKeep(t, tr, k.Addr(), "alice"+tr, dom, "3")
		})
	}

	t.Run("EditsCounted", func(t *testing.T) {
		// Kamailio's own statistics count the module's edits.
		if n := k.kstat(t, "edited"); n < 2 {
			t.Errorf("sipkeep:edited = %d after two keep grants", n)
		}
	})

	t.Run("R10_NoKeepOffered_NoValue", func(t *testing.T) {
		siptest.CheckNoKeepWithoutOffer(t, k.Addr(), "nokeep", dom)
	})

	t.Run("R15_FlowTimerEqualsKeep", func(t *testing.T) {
		u := siptest.NewUA(t, "TCP", k.Addr())
		resp := u.Register("ob", dom, ";keep", "Supported: outbound")
		ft := siptest.Headers(resp, "Flow-Timer")
		keep, _ := siptest.ViaKeep(siptest.Headers(resp, "Via")[0])
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
		siptest.CheckSTUNAnswered(t, k.Addr())
	})

	t.Run("K1_CRLFPongOnTCP", func(t *testing.T) {
		siptest.CheckCRLFPong(t, k.Addr())
	})

	t.Run("R12_InviteKeepOnlyWhenRecordRouted", func(t *testing.T) {
		callee := siptest.NewUA(t, "UDP", k.Addr())
		for _, user := range []string{"bob", "norrbob"} {
			if r := callee.Register(user, dom, ""); siptest.StatusCode(r) != 200 {
				t.Fatalf("callee REGISTER %s: %s", user, r)
			}
		}
		go siptest.AnswerInvites(callee, 2, 0)
		for _, c := range []struct {
			user string
			want bool
		}{{"bob", true}, {"norrbob", false}} {
			caller := siptest.NewUA(t, "UDP", k.Addr())
			ruri := fmt.Sprintf("sip:%s@%s", c.user, dom)
			caller.Send(caller.Request("INVITE", ruri, "sip:carol@"+dom, ruri, fmt.Sprintf("inv-%s-%d", c.user, time.Now().UnixNano()), 1, ";keep",
				"Contact: <sip:carol@"+caller.Local()+">"))
			resp := caller.Final(8 * time.Second)
			if siptest.StatusCode(resp) != 200 {
				t.Fatalf("INVITE %s: %s", c.user, resp)
			}
			rr := len(siptest.Headers(resp, "Record-Route")) > 0
			v, _ := siptest.ViaKeep(siptest.Headers(resp, "Via")[0])
			if rr != c.want || (v != "") != c.want {
				t.Errorf("INVITE to %s: record-routed=%v keep=%q, want both %v\n%s", c.user, rr, v, c.want, resp)
			}
		}
	})
}

// TestKamailioCfgWithoutModule: the example cfg with its WITH_SIPKEEP
// define removed is a plain registrar that still works (and grants nothing).
func TestKamailioCfgWithoutModule(t *testing.T) {
	k := startKamailio(t, kamOptions{Plain: true})
	u := siptest.NewUA(t, "UDP", k.Addr())
	resp := u.Register("plain", k.Addr(), ";keep")
	if siptest.StatusCode(resp) != 200 {
		t.Fatalf("REGISTER: %s", resp)
	}
	if v, _ := siptest.ViaKeep(siptest.Headers(resp, "Via")[0]); v != "" {
		t.Errorf("keep=%s granted without the module", v)
	}
	if k.logContains("plugin service") {
		t.Errorf("sipkeep appears in the log of the cfg without the module")
	}
}
