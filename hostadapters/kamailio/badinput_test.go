package kamailio

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/hostadapters/internal/siptest"
)

// TestKamailioBadInput sends what a hostile or broken peer might through
// Kamailio with the module: malformed SIP, keep=abc, a 60 KB message, 100
// Vias. Kamailio and its plugin service survive each, bad values are not
// turned into grants, and the server still serves keep=N afterwards.
func TestKamailioBadInput(t *testing.T) {
	k := startKamailio(t, kamOptions{})
	dom := k.Addr()

	t.Run("MalformedSIP", func(t *testing.T) {
		c, err := net.Dial("udp", k.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for _, m := range []string{
			"SIP/2.0 200 OK\r\nVia: ;keep=\r\n\r\n",
			"REGISTER\r\nVia: SIP/2.0/UDP ;keep;keep;keep=\r\n\r\n",
			"SIP/2.0 999999999999 keep\r\nv:,,,,;keep=99999999999999999999\r\n\r\n",
			"\x00\x01\x00\x00\x21\x12\xa4\x42garbage-stun-len",
			strings.Repeat("keep", 400),
		} {
			c.Write([]byte(m))
		}
	})

	t.Run("KeepNotANumber", func(t *testing.T) {
		u := siptest.NewUA(t, "UDP", k.Addr())
		resp := u.Register("abc", dom, ";keep=abc")
		if siptest.StatusCode(resp) != 200 {
			t.Fatalf("REGISTER with keep=abc: %s", resp)
		}
		if v, _ := siptest.ViaKeep(siptest.Headers(resp, "Via")[0]); v != "abc" && v != "" && v != "3" {
			t.Errorf("keep=abc became %q", v)
		}
	})

	for _, tr := range []string{"UDP", "TCP"} {
		t.Run("60KB_"+tr, func(t *testing.T) {
			u := siptest.NewUA(t, tr, k.Addr())
			pad := fmt.Sprintf("X-Pad: %s", strings.Repeat("k", 60*1024))
			aor := "sip:big@" + dom
			u.Send(u.Request("REGISTER", "sip:"+dom, aor, aor, "big-"+tr, 1, ";keep",
				"Contact: <sip:big@"+u.Local()+">", pad))
			resp, err := u.Recv(5 * time.Second)
			switch {
			case tr == "UDP" && siptest.StatusCode(resp) != 200:
				t.Fatalf("60 KB REGISTER over UDP: %q %v", resp[:min(len(resp), 200)], err)
			case tr == "TCP" && err == nil && siptest.StatusCode(resp) == 0:
				t.Fatalf("60 KB REGISTER over TCP: %q", resp[:min(len(resp), 200)])
			case err != nil:
				// Kamailio's TCP reader has its own bound (tcp_read:
				// "buffer overrun") and closes the connection.
				t.Logf("over %s Kamailio dropped the message itself: %v", tr, err)
			}
		})
	}

	t.Run("HundredVias", func(t *testing.T) {
		u := siptest.NewUA(t, "UDP", k.Addr())
		var vias []string
		for i := 0; i < 99; i++ {
			vias = append(vias, fmt.Sprintf("Via: SIP/2.0/UDP 10.0.%d.%d:5060;branch=z9hG4bKv%d;keep=%d", i/250, i%250+1, i, i+1))
		}
		resp := u.Register("vias", dom, ";keep", vias...)
		if siptest.StatusCode(resp) != 200 {
			t.Fatalf("REGISTER with 100 Vias: %s", resp)
		}
		vs := siptest.Headers(resp, "Via")
		if len(vs) != 100 {
			t.Fatalf("want 100 Vias back, got %d", len(vs))
		}
		// The plugin bounds the Vias it reads: either it grants keep=3
		// on the top Via, or it leaves the message alone.
		v, _ := siptest.ViaKeep(vs[0])
		if v != "3" && v != "" {
			t.Errorf("top Via: keep=%q, want 3 or untouched", v)
		}
		t.Logf("top Via keep=%q; second Via %q", v, vs[1])
	})

	// Still alive and serving.
	time.Sleep(200 * time.Millisecond)
	if k.cmd.ProcessState != nil {
		t.Fatalf("kamailio exited: %s", k.cmd.ProcessState)
	}
	u := siptest.NewUA(t, "TCP", k.Addr())
	if v, _ := siptest.ViaKeep(siptest.Headers(u.Register("after", dom, ";keep"), "Via")[0]); v != "3" {
		t.Errorf("after bad input: keep=%q, want 3", v)
	}
	// Responses sent on the standing grant reach the service through the
	// ring it polls: give it a moment to count them.
	stats := k.kamcmd(t, "sipkeep.stats")
	for end := time.Now().Add(2 * time.Second); lineValue(stats, "calls") < 5 && time.Now().Before(end); {
		time.Sleep(20 * time.Millisecond)
		stats = k.kamcmd(t, "sipkeep.stats")
	}
	if lineValue(stats, "calls") < 5 || lineValue(stats, "workers_connected") == 0 {
		t.Errorf("service stats after bad input:\n%s", stats)
	}
	t.Logf("service stats:\n%s", stats)
}
