package main_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/examples/edgeproxy/proxy"
	"github.com/sipkeep/sipkeep/internal/testnet"
)

// baresip is a real RFC 5626 client: with sipnat=outbound it registers with
// Supported: outbound, reg-id and +sip.instance, and sends keep-alives (STUN
// on UDP, CRLFCRLF on TCP) only when the registrar's 2xx carries
// Require: outbound and a Flow-Timer. These tests check that the edge proxy
// gives it both (Flow-Timer equal to the keep value, R15), that its real
// keep-alives are answered on the registered flow (K1, K3), and that it
// stays registered meanwhile.
func TestK3K1_BaresipOutboundKeepalivesAnswered(t *testing.T) {
	need(t, "baresip")
	for _, tc := range []struct {
		transport string
		enough    func(proxy.KeepStats) bool
		within    time.Duration
	}{
		// STUN at once, then every 80–100 % of Flow-Timer: two within 12 s.
		{"udp", func(s proxy.KeepStats) bool { return s.STUNRequestsServed >= 2 }, 15 * time.Second},
		// baresip's first CRLF ping comes after its 20 s minimum interval.
		{"tcp", func(s proxy.KeepStats) bool { return s.PingsAnswered >= 1 }, 28 * time.Second},
	} {
		t.Run(strings.ToUpper(tc.transport), func(t *testing.T) {
			t.Parallel()
			p := startProxy(t, func(c *proxy.Config) { c.Keep.Seconds = 10 })
			b := startBaresip(t, p.Addr(), tc.transport)

			deadline := time.Now().Add(tc.within)
			for !tc.enough(mustStats(t, p)) {
				if time.Now().After(deadline) {
					t.Fatalf("keep-alives not answered in %v: %+v\n%s", tc.within, mustStats(t, p), tail(b.out.String(), 3000))
				}
				time.Sleep(200 * time.Millisecond)
			}
			// Still registered, as an outbound binding over its flow.
			bs := p.Location().Lookup("sip:alice@127.0.0.1")
			if len(bs) != 1 || !bs[0].Outbound || !strings.EqualFold(bs[0].Flow.Transport, tc.transport) {
				t.Fatalf("bindings %+v: want one outbound binding over %s", bs, tc.transport)
			}
			out := b.out.String()
			for _, want := range []string{"Require: outbound", "Flow-Timer: 10", "200 OK () [1 binding]"} {
				if !strings.Contains(out, want) {
					t.Errorf("baresip trace lacks %q", want)
				}
			}
			if s := mustStats(t, p); s.FlowsDead+s.FlowsFailed != 0 {
				t.Errorf("flows lost: %+v", s)
			}
		})
	}
}

func mustStats(t *testing.T, p *proxy.Proxy) proxy.KeepStats {
	t.Helper()
	s, ok := p.KeepStats()
	if !ok {
		t.Fatal("proxy runs without sipkeep")
	}
	return s
}

// startBaresip runs baresip (its Debian package, baresip-core) with
// one outbound account through the proxy.
func startBaresip(t *testing.T, proxyAddr, transport string) *proc {
	t.Helper()
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("config", fmt.Sprintf(`sip_listen 127.0.0.1:%d
module_path /usr/lib/baresip/modules
module uuid.so
module_app account.so
module g711.so
module aufile.so
module ausine.so
audio_player aufile,/dev/null
audio_source ausine,440
`, testnet.FreePort(t)))
	write("accounts", fmt.Sprintf(`<sip:alice@127.0.0.1>;regint=60;sipnat=outbound;outbound="sip:%s;transport=%s"`+"\n", proxyAddr, transport))
	// No trailing newline, or baresip puts it in +sip.instance.
	write("uuid", "5f2c0e8a-9d41-4c7e-b3a6-0c1d2e3f4a5b")
	return start(t, dir, "baresip", "-f", dir, "-s", "-t", "40")
}
