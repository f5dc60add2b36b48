package opensips

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/hostadapters/internal/siptest"
)

// senderPolicy makes keep-alive failure quick to observe: STUN gives up
// after two requests 100 ms apart (RFC 5389's Rc and RTO, policy-tunable).
const senderPolicy = "receiver_keep_seconds=3;floor_seconds=1;stun_rto_ms=100;stun_max_requests=2;stun_final_multiplier=2"

// TestOpenSIPSSender runs OpenSIPS as the sender toward an upstream
// registrar that grants keep=2: OpenSIPS offers ;keep on its own Via, then
// sends keep-alives from its own SIP socket at 80–100 % of 2 s, and reports
// the flow failed (event route, statistics) when the upstream goes silent.
func TestOpenSIPSSender(t *testing.T) { senderUDP(t, "127.0.0.1") }

// TestOpenSIPSSenderIPv6 is TestOpenSIPSSender with the upstream on [::1]:
// the keep-alives go from OpenSIPS's IPv6 SIP socket.
func TestOpenSIPSSenderIPv6(t *testing.T) { senderUDP(t, "::1") }

func senderUDP(t *testing.T, ip string) {
	up := startUpstreamOn(t, ip)
	up.grant.Store(2)
	s := start(t, options{Upstream: up.Addr(), Policy: senderPolicy, IPv6: ip == "::1"})
	self := s.Addr() // the socket OpenSIPS sends toward the upstream from
	if ip == "::1" {
		self = s.Addr6()
	}

	t.Run("R4_KeepOnOwnVia", func(t *testing.T) {
		u := siptest.NewUA(t, "UDP", s.Addr())
		resp := u.Register("sender", "upstream.test", ";keep")
		if siptest.StatusCode(resp) != 200 {
			t.Fatalf("REGISTER via OpenSIPS: %s", resp)
		}
		vias := siptest.Headers(up.lastRequest(), "Via")
		if len(vias) < 2 || !viaSentBy(vias[0], self) {
			t.Fatalf("upstream: top Via is not OpenSIPS's (%s): %q", self, vias)
		}
		if v, ok := siptest.ViaKeep(vias[0]); !ok || v != "" {
			t.Errorf("R4: OpenSIPS's Via: want a bare ;keep, got %q", vias[0])
		}
		// The UA's own offer is answered by OpenSIPS as receiver.
		if v, _ := siptest.ViaKeep(siptest.Headers(resp, "Via")[0]); v != "3" {
			t.Errorf("UA's Via in the forwarded 200: want keep=3, got %q", siptest.Headers(resp, "Via")[0])
		}
	})

	t.Run("K4_STUNFromTheSIPPortAt80To100Percent", func(t *testing.T) {
		got := waitFor(t, 12*time.Second, func() []stunSeen {
			if st := up.stunsSeen(); len(st) >= 4 {
				return st
			}
			return nil
		})
		for _, st := range got {
			if st.from != self {
				t.Errorf("STUN keep-alive from %s, want OpenSIPS's SIP socket %s", st.from, self)
			}
		}
		checkIntervals(t, got, 2*time.Second)
	})

	t.Run("K4_FlowFailsWhenUpstreamSilent", func(t *testing.T) {
		up.quiet.Store(true)
		if !s.waitLog("EVENT sipkeep flow failed udp "+strings.TrimSuffix(self, fmt.Sprint(s.Port)), 10*time.Second) {
			t.Fatalf("no E_SIPKEEP_FLOW_FAILED event in the log after the upstream went silent")
		}
		mod, svc := s.stats(t)
		if num(mod, "flows_failed") < 1 || num(mod, "stun_sent") < 4 {
			t.Errorf("sipkeep_stats: want flows_failed ≥ 1 and stun_sent ≥ 4: %v %v", mod, svc)
		}
		t.Logf("sipkeep_stats: %v service: %v", mod, svc)
	})
}

// TestOpenSIPSSenderTCP: toward a TCP upstream the keep-alives are CRLF
// pings on OpenSIPS's connection, at 80–100 % of the granted interval.
func TestOpenSIPSSenderTCP(t *testing.T) {
	up := startUpstream(t)
	up.grant.Store(2)
	s := start(t, options{Upstream: up.Addr(), Policy: senderPolicy})
	u := siptest.NewUA(t, "UDP", s.Addr())
	if resp := u.Register("sendertcp", "upstream.test", ";keep", "X-Upstream-TCP: 1"); siptest.StatusCode(resp) != 200 {
		t.Fatalf("REGISTER via OpenSIPS: %s", resp)
	}
	if v, ok := siptest.ViaKeep(siptest.Headers(up.lastRequest(), "Via")[0]); !ok || v != "" {
		t.Errorf("R4: OpenSIPS's Via toward the TCP upstream: want a bare ;keep, got %q", siptest.Headers(up.lastRequest(), "Via")[0])
	}
	got := waitFor(t, 12*time.Second, func() []stunSeen {
		if p := up.pingsSeen(); len(p) >= 3 {
			return p
		}
		return nil
	})
	checkIntervals(t, got, 2*time.Second)
	mod, _ := s.stats(t)
	if num(mod, "pings_sent") < 3 {
		t.Errorf("sipkeep_stats: pings_sent %v, want ≥ 3", mod["pings_sent"])
	}
}

// TestK6_OpenSIPSSenderTCPPongKeepsTheConnection: the upstream's CRLF pongs
// do not cost OpenSIPS the connection. With proto_tcp's default
// tcp_crlf_drop=0 a lone CRLF was read as the start of a message, TCP main
// closed the connection as faulty tcp_max_msg_time (4 s) later, and every
// later ping went out on a new connection; the module now sets it to 1.
func TestK6_OpenSIPSSenderTCPPongKeepsTheConnection(t *testing.T) {
	up := startUpstream(t)
	up.grant.Store(6) // pings 4.8–6 s apart: each after the 4 s that closed it
	s := start(t, options{Upstream: up.Addr(), Policy: senderPolicy})
	u := siptest.NewUA(t, "UDP", s.Addr())
	if resp := u.Register("pongtcp", "upstream.test", ";keep", "X-Upstream-TCP: 1"); siptest.StatusCode(resp) != 200 {
		t.Fatalf("REGISTER via OpenSIPS: %s", resp)
	}
	pingsKeepTheirConnection(t, s, up)
}

// pingsKeepTheirConnection waits for three CRLF pings at the upstream and
// wants them all on the one connection OpenSIPS opened, none closed as
// faulty and no flow failed; it returns the pings.
func pingsKeepTheirConnection(t *testing.T, s *osips, up *upstream) []stunSeen {
	t.Helper()
	got := waitFor(t, 25*time.Second, func() []stunSeen {
		if p := up.pingsSeen(); len(p) >= 3 {
			return p
		}
		return nil
	})
	for _, p := range got[1:] {
		if p.from != got[0].from {
			t.Errorf("pings from %s then %s: the flow's connection was closed and a new one opened", got[0].from, p.from)
		}
	}
	if n := up.accepted.Load(); n != 1 {
		t.Errorf("OpenSIPS opened %d connections to the upstream, want 1", n)
	}
	if s.logContains("as faulty") {
		t.Errorf("a connection was closed as faulty:\n%s", s.tail(20))
	}
	if mod, _ := s.stats(t); num(mod, "flows_failed") != 0 {
		t.Errorf("flows_failed %v, want 0", mod["flows_failed"])
	}
	return got
}

// TestK6_OpenSIPSSenderTLS: the sender role over TLS. OpenSIPS's own Via
// toward a TLS upstream offers a bare ;keep (R4); once the upstream grants
// keep=6, CRLFCRLF pings go out on the same TLS connection 80–100 % of 6 s
// apart (K1), and the upstream's CRLF pongs do not cost it the connection:
// the module turned on proto_tls's tls_crlf_drop (K6).
func TestK6_OpenSIPSSenderTLS(t *testing.T) {
	up := startUpstreamTLS(t)
	up.grant.Store(6)
	s := start(t, options{Upstream: up.Addr(), Policy: senderPolicy, TLS: true, UpstreamTLS: up.TLSAddr()})
	u := siptest.NewUA(t, "UDP", s.Addr())
	if resp := u.Register("sendertls", "upstream.test", ";keep", "X-Upstream-TLS: 1"); siptest.StatusCode(resp) != 200 {
		t.Fatalf("REGISTER via OpenSIPS: %s", resp)
	}
	top := siptest.Headers(up.lastRequest(), "Via")[0]
	if v, ok := siptest.ViaKeep(top); !ok || v != "" || !strings.Contains(top, "SIP/2.0/TLS") {
		t.Errorf("R4: OpenSIPS's Via toward the TLS upstream: want TLS with a bare ;keep, got %q", top)
	}
	checkIntervals(t, pingsKeepTheirConnection(t, s, up), 6*time.Second)
	if mod, _ := s.stats(t); num(mod, "pings_sent") < 3 {
		t.Errorf("sipkeep_stats: pings_sent %v, want ≥ 3", mod["pings_sent"])
	}
}

// TestK2_OpenSIPSSenderTCPLostConnectionFailsTheFlow: when the flow's
// connection is gone (the upstream hangs up after a pong), the next CRLF
// ping is not sent on a new connection, which would keep some other
// connection alive; no pong comes and the flow fails.
func TestK2_OpenSIPSSenderTCPLostConnectionFailsTheFlow(t *testing.T) {
	up := startUpstream(t)
	up.grant.Store(2)
	up.hangUp.Store(true)
	s := start(t, options{Upstream: up.Addr(), Policy: senderPolicy + ";pong_timeout_ms=1000"})
	u := siptest.NewUA(t, "UDP", s.Addr())
	if resp := u.Register("losttcp", "upstream.test", ";keep", "X-Upstream-TCP: 1"); siptest.StatusCode(resp) != 200 {
		t.Fatalf("REGISTER via OpenSIPS: %s", resp)
	}
	waitFor(t, 15*time.Second, func() []float64 {
		if mod, _ := s.stats(t); num(mod, "flows_failed") >= 1 {
			return []float64{num(mod, "flows_failed")}
		}
		return nil
	})
	if n := up.accepted.Load(); n != 1 {
		t.Errorf("OpenSIPS opened %d connections to the upstream, want 1: a ping opened a new one", n)
	}
	if p := up.pingsSeen(); len(p) != 1 {
		t.Errorf("the upstream saw %d pings, want 1 (before it hung up)", len(p))
	}
}

// viaSentBy reports whether the Via's sent-by is addr ("ip:port"), read as
// addresses: OpenSIPS writes [::1] as [0:0:0:0:0:0:0:1].
func viaSentBy(via, addr string) bool {
	_, rest, ok := strings.Cut(via, " ")
	sentBy, _, _ := strings.Cut(strings.TrimSpace(rest), ";")
	got, err := netip.ParseAddrPort(sentBy)
	return ok && err == nil && got == netip.MustParseAddrPort(addr)
}

// checkIntervals wants every gap between keep-alives within 80–100 % of n
// (RFC 6223 §4.3), with 150 ms of slack for a shared, busy machine.
func checkIntervals(t *testing.T, seen []stunSeen, n time.Duration) {
	t.Helper()
	const slack = 150 * time.Millisecond
	lo, hi := n*8/10-slack, n+slack
	var gaps []string
	for i := 1; i < len(seen); i++ {
		g := seen[i].at.Sub(seen[i-1].at)
		gaps = append(gaps, g.Round(time.Millisecond).String())
		if g < lo || g > hi {
			t.Errorf("keep-alive gap %s outside 80–100 %% of %s", g.Round(time.Millisecond), n)
		}
	}
	t.Logf("keep-alive gaps: %s", strings.Join(gaps, " "))
}

func waitFor[T any](t *testing.T, timeout time.Duration, f func() []T) []T {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if v := f(); v != nil {
			return v
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s", fmt.Sprintf("not seen within %s", timeout))
	return nil
}
