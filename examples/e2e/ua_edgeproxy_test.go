package e2e_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/abi/proto"
	"github.com/sipkeep/sipkeep/examples/ua/uaclient"
	"github.com/sipkeep/sipkeep/internal/testnet"
)

// keepN is the keep value the proxy grants in these tests (--keep 2, with
// --keep-floor 1 so that the proxy accepts it, and the UA's policy floor
// lowered to 1 s so that the UA uses it as granted).
const keepN = 2

var keepArgs = []string{"--keep", "2", "--keep-floor", "1"}

var transports = []string{"udp", "tcp"}

func secs(n float64) time.Duration { return time.Duration(n * float64(time.Second)) }

// R4, R5, R10, R13 (K1, K3): the UA registers through the real edge proxy with
// ;keep, the proxy grants keep=2, and the UA's keep-alives (STUN Binding
// requests on UDP, CRLFCRLF pings on TCP) reach the proxy every 80–100 % of
// 2 s, each one answered. Counted at the proxy (its /metrics netkeep
// counters) and timed at both ends.
func TestR5R13_UAKeepalivesAtNegotiatedRate(t *testing.T) {
	t.Parallel()
	const window = 10 * time.Second
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			p := startProxy(t, keepArgs...)
			u := startUA(t, tr, p.sip, uaPolicy(nil))
			u.ev.wait(t, uaclient.EventRegistered, 5*time.Second)
			st := u.ev.wait(t, uaclient.EventKeepaliveStarted, 3*time.Second)
			if st.Action.Value != keepN {
				t.Fatalf("keep-alives started at %d s; the proxy granted keep=%d", st.Action.Value, keepN)
			}
			u.ev.wait(t, uaclient.EventKeepaliveAnswered, secs(keepN)+time.Second)

			start := p.fresh()
			time.Sleep(window)
			end := p.fresh()
			elapsed := end.t.Sub(start.t).Seconds()

			// The count at the proxy over the window: intervals in
			// [0.8N, N] allow between floor(W/N) and floor(W/0.8N)+1.
			n := int(end.value(tr) - start.value(tr))
			lo, hi := int(math.Floor(elapsed/keepN)), int(math.Floor(elapsed/(0.8*keepN)))+1
			t.Logf("%s: %d keep-alives reached the proxy in %.2f s with keep=%d (want %d–%d)", tr, n, elapsed, keepN, lo, hi)
			if n < lo || n > hi {
				t.Errorf("%d keep-alives reached the proxy in %.2f s; with keep=%d want %d–%d (R13)", n, elapsed, keepN, lo, hi)
			}

			// Intervals as the proxy saw them (its counter polled every
			// 25 ms, so ±2 polls of slack) and as the UA sent them.
			arr := p.arrivals(tr, start.t.Add(time.Nanosecond), end.t.Add(time.Nanosecond))
			checkIntervals(t, "at the proxy", arr, 100*time.Millisecond)
			sent := u.ev.sent(start.t, end.t)
			checkIntervals(t, "at the UA", sent, 50*time.Millisecond)

			// Every keep-alive answered: each one sent in the window has
			// its answer before the next one leaves, none retransmitted,
			// no flow failed. (netkeep stamps a keep-alive's event before
			// the write, so its answer's follows it; the 50 ms of slack
			// only widens the windows.)
			const early = 50 * time.Millisecond
			answered := u.ev.list(uaclient.EventKeepaliveAnswered, start.t.Add(-early), end.t.Add(secs(keepN)))
			for i, at := range sent {
				next := at.Add(secs(keepN))
				if i+1 < len(sent) {
					next = sent[i+1]
				}
				ok := false
				for _, a := range answered {
					if !a.Time.Before(at.Add(-early)) && a.Time.Before(next.Add(-early)) {
						ok = true
						break
					}
				}
				if !ok {
					t.Errorf("the keep-alive sent at +%v was not answered before the next one", at.Sub(start.t).Round(time.Millisecond))
				}
			}
			for _, ev := range u.ev.list(uaclient.EventKeepaliveSent, start.t, end.t) {
				if ev.Action.Attempt > 1 {
					t.Errorf("STUN retransmission (attempt %d): a keep-alive went unanswered for an RTO", ev.Action.Attempt)
				}
			}
			if f := u.ev.list(uaclient.EventFlowFailed, time.Time{}, time.Now()); len(f) > 0 {
				t.Errorf("flow failed: %v", f[0].Action.Reason)
			}

			// Totals agree: every keep-alive the UA ever sent was served
			// by the proxy (read around a fresh poll; one may be in flight).
			s1 := uaSent(u, tr)
			got := p.fresh().value(tr)
			s2 := uaSent(u, tr)
			if got < float64(s1) || got > float64(s2) {
				t.Errorf("the UA sent %d–%d keep-alives in all, the proxy answered %v", s1, s2, got)
			}
			if got := p.last().bindings; got != 1 {
				t.Errorf("edgeproxy_bindings = %v, want 1", got)
			}
		})
	}
}

// uaSent is the UA's netkeep count of keep-alives it sent (STUN requests
// including retransmissions, or pings).
func uaSent(u *ua, transport string) uint64 {
	s := u.c.Keeper().Stats()
	if transport == "udp" {
		return s.STUNRequestsSent
	}
	return s.PingsSent
}

// checkIntervals wants every gap between consecutive times in
// [0.8N-slack, N+slack] (R13).
func checkIntervals(t *testing.T, where string, ts []time.Time, slack time.Duration) {
	t.Helper()
	if len(ts) < 2 {
		t.Errorf("%s: %d keep-alives, no interval to check", where, len(ts))
		return
	}
	lo, hi := secs(0.8*keepN)-slack, secs(keepN)+slack
	var ds []time.Duration
	for i := 1; i < len(ts); i++ {
		d := ts[i].Sub(ts[i-1])
		ds = append(ds, d.Round(time.Millisecond))
		if d < lo || d > hi {
			t.Errorf("%s: interval %v outside [%v, %v] (80–100 %% of keep=%d, %v slack)", where, d.Round(time.Millisecond), secs(0.8*keepN), secs(keepN), keepN, slack)
		}
	}
	t.Logf("intervals %s: %v", where, ds)
}

// R2: when the UA's registration ends (it unregisters with Expires: 0 — the
// UA refreshes before expiry, so expiry itself is not reached here), its
// keep-alives stop: nothing more reaches the proxy although the UA and its
// socket (or TCP connection) are still up, and the binding is gone.
func TestR2_UAKeepalivesStopWhenRegistrationEnds(t *testing.T) {
	t.Parallel()
	// Longer than the proxy's dead-flow window (--dead-flow-multiple 3 ×
	// keep = 6 s): the silence after the registration ended is expected, so
	// the proxy must not report the flow dead either.
	const quiet = 7 * time.Second
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			p := startProxy(t, keepArgs...)
			u := startUA(t, tr, p.sip, uaPolicy(nil))
			u.ev.wait(t, uaclient.EventRegistered, 5*time.Second)
			for range 2 {
				u.ev.wait(t, uaclient.EventKeepaliveAnswered, secs(keepN)+time.Second)
			}
			if got := p.fresh(); got.value(tr) < 2 || got.bindings != 1 {
				t.Fatalf("before unregistering: %v keep-alives at the proxy, %v bindings", got.value(tr), got.bindings)
			}

			// End the registration: Run sends REGISTER Expires: 0 and
			// returns once it is answered; the client stays open.
			if err := u.stop(); err != nil {
				t.Fatalf("unregister: %v", err)
			}
			ended := time.Now()
			if len(u.ev.list(uaclient.EventUnregistered, time.Time{}, ended.Add(time.Second))) != 1 {
				t.Fatal("no unregistered event")
			}
			base := p.fresh()
			if base.bindings != 0 {
				t.Errorf("edgeproxy_bindings = %v after Expires: 0, want 0", base.bindings)
			}
			time.Sleep(quiet)
			after := p.fresh()
			if after.value(tr) != base.value(tr) {
				t.Errorf("%v keep-alives reached the proxy in the %v after the registration ended (R2)", after.value(tr)-base.value(tr), quiet)
			}
			if late := u.ev.list(uaclient.EventKeepaliveSent, ended, time.Now()); len(late) > 0 {
				t.Errorf("the UA sent %d keep-alives after its registration ended (R2)", len(late))
			}
			if m, err := testnet.Scrape(context.Background(), p.metrics); err != nil {
				t.Error(err)
			} else if d := m["sipkeep_netkeep_flows_dead_total"]; d != 0 {
				t.Errorf("the proxy reported %v flows dead after the registration ended (no keep-alives are due then)", d)
			}
			stopped := u.ev.list(uaclient.EventKeepaliveStopped, time.Time{}, time.Now())
			if len(stopped) == 0 {
				t.Errorf("the UA's plugin reported no keepalive-stopped when the registration ended")
			} else {
				t.Logf("keep-alives stopped: %v", stopped[len(stopped)-1].Action.Reason)
			}
			t.Logf("%s: proxy counter flat at %v for %v after Expires: 0", tr, after.value(tr), after.t.Sub(base.t).Round(time.Millisecond))
		})
	}
}

// R18, K2, K4 against a real failure: the proxy process is frozen with
// SIGSTOP, so it answers neither STUN nor pings (nor SIP). The UA must detect
// the failed flow — TCP: no pong within RFC 5626's real 10 s (K2, the
// default pong_timeout_ms); UDP: the STUN transaction times out (K4) — then
// stop its keep-alives (R18), and once the proxy is continued (SIGCONT)
// re-register and resume keep-alives that the proxy answers.
//
// UDP uses a shorter STUN retransmission schedule than RFC 5389's (RTO
// 500 ms, 7 requests, final wait 16 × RTO: 39.5 s), which would not fit in
// the test's time budget: stun_rto_ms 250, stun_max_requests 4,
// stun_final_multiplier 4 — requests at 0, 250, 750 and 1750 ms, timeout at
// 2750 ms. The mechanism (doubling RTO, Rc requests, Rm × RTO final wait) is
// the same.
func TestR18K2K4_UADetectsSilentProxy(t *testing.T) {
	t.Parallel()
	cases := []struct {
		transport string
		policy    *proto.Policy
		reason    abi.Reason
		timeout   time.Duration // from the failed keep-alive's first transmission to flow-failed
		attempts  int           // transmissions of the failed keep-alive
	}{
		{"udp", uaPolicy(func(p *proto.Policy) { p.StunRtoMs, p.StunMaxRequests, p.StunFinalMultiplier = 250, 4, 4 }),
			abi.ReasonSTUNTimeout, 2750 * time.Millisecond, 4},
		{"tcp", uaPolicy(nil), abi.ReasonPongTimeout, 10 * time.Second, 1},
	}
	const quiet = 3 * time.Second // after the failure, before SIGCONT
	for _, c := range cases {
		t.Run(c.transport, func(t *testing.T) {
			t.Parallel()
			tr := c.transport
			p := startProxy(t, keepArgs...)
			u := startUA(t, tr, p.sip, c.policy)
			u.ev.wait(t, uaclient.EventRegistered, 5*time.Second)
			u.ev.wait(t, uaclient.EventKeepaliveAnswered, secs(keepN)+time.Second)

			p.freeze()
			frozenAt := time.Now()
			f := u.ev.wait(t, uaclient.EventFlowFailed, secs(keepN)+c.timeout+2*time.Second)
			if f.Action.Reason != c.reason {
				t.Errorf("flow failed with reason %v, want %v", f.Action.Reason, c.reason)
			}
			// The failed keep-alive: the last first transmission before
			// the failure; it left after the freeze.
			firsts := u.ev.sent(frozenAt, f.Time)
			if len(firsts) != 1 {
				t.Fatalf("%d keep-alives started between the freeze and the failure, want 1", len(firsts))
			}
			sentAt := firsts[0]
			took := f.Time.Sub(sentAt)
			t.Logf("%s: flow-failed (%v) %v after the unanswered keep-alive, %v after SIGSTOP",
				tr, f.Action.Reason, took.Round(time.Millisecond), f.Time.Sub(frozenAt).Round(time.Millisecond))
			if took < c.timeout-20*time.Millisecond || took > c.timeout+500*time.Millisecond {
				t.Errorf("failure detected %v after the keep-alive left, want %v (+500 ms)", took.Round(time.Millisecond), c.timeout)
			}
			tx := u.ev.list(uaclient.EventKeepaliveSent, sentAt, f.Time)
			if len(tx) != c.attempts {
				t.Errorf("the failed keep-alive was sent %d times, want %d", len(tx), c.attempts)
			}
			if tr == "udp" {
				// RTO doubling: 250, 500, 1000 ms between transmissions.
				for i := 1; i < len(tx); i++ {
					d, want := tx[i].Time.Sub(tx[i-1].Time), time.Duration(250<<(i-1))*time.Millisecond
					if d < want-20*time.Millisecond || d > want+100*time.Millisecond {
						t.Errorf("STUN retransmission %d after %v, want %v", i+1, d.Round(time.Millisecond), want)
					}
				}
			}

			// R18: no keep-alive after the failure. The UA tries to
			// re-register at once; the frozen proxy cannot answer, so no
			// new negotiation can start keep-alives again.
			time.Sleep(quiet)
			now := time.Now()
			if late := u.ev.list(uaclient.EventKeepaliveSent, f.Time.Add(time.Nanosecond), now); len(late) > 0 {
				t.Errorf("%d keep-alives sent in the %v after the flow failed (R18)", len(late), quiet)
			}
			if r := u.ev.list(uaclient.EventRegistered, f.Time, now); len(r) > 0 {
				t.Fatalf("registered while the proxy was frozen?")
			}
			t.Logf("%s: %d REGISTER attempts failed while frozen", tr, len(u.ev.list(uaclient.EventRegisterFailed, f.Time, now)))

			// Recovery: SIGCONT, the UA re-registers (a new connection on
			// TCP) and its keep-alives are answered again.
			for _, k := range []uaclient.EventKind{uaclient.EventRegistered, uaclient.EventKeepaliveStarted, uaclient.EventKeepaliveAnswered} {
				u.ev.skip(k)
			}
			p.thaw()
			thawAt := time.Now()
			r := u.ev.wait(t, uaclient.EventRegistered, 8*time.Second)
			st := u.ev.wait(t, uaclient.EventKeepaliveStarted, 2*time.Second)
			if st.Action.Value != keepN {
				t.Errorf("keep-alives restarted at %d s, want %d", st.Action.Value, keepN)
			}
			u.ev.wait(t, uaclient.EventKeepaliveAnswered, secs(keepN)+time.Second)
			t.Logf("%s: re-registered %v after SIGCONT; keep-alives answered again", tr, r.Time.Sub(thawAt).Round(time.Millisecond))
			if tr == "tcp" && f.Flow.Local.String() == st.Flow.Local.String() {
				t.Errorf("TCP: re-registered on the failed flow %v, want a new connection", f.Flow.Local)
			}

			// The proxy keeps answering them on the new registration.
			base := p.fresh()
			time.Sleep(secs(2*keepN) + 500*time.Millisecond)
			after := p.fresh()
			if d := after.value(tr) - base.value(tr); d < 2 {
				t.Errorf("%v keep-alives reached the proxy in %v after recovery, want ≥ 2", d, after.t.Sub(base.t).Round(time.Millisecond))
			}
			if after.bindings != 1 {
				t.Errorf("edgeproxy_bindings = %v after recovery, want 1 (the re-registration's binding)", after.bindings)
			}
			if m, err := testnet.Scrape(context.Background(), p.metrics); err == nil {
				t.Logf("%s: the proxy's own view: flows dead %v, flows failed %v, REGISTERs answered %v", tr,
					m["sipkeep_netkeep_flows_dead_total"], m["sipkeep_netkeep_flows_failed_total"], m[`edgeproxy_registers_total{code="200"}`])
			}
			if late := u.ev.list(uaclient.EventFlowFailed, r.Time, time.Now()); len(late) > 0 {
				t.Errorf("the flow failed again after recovery: %v", late[0].Action.Reason)
			}
		})
	}
}

// RFC 5626 §4.4.1 (a failed flow makes the UA form a new one): the proxy
// crashes (SIGKILL) and comes back on the same address with no bindings.
// Over TCP its connection is gone, so the UA must re-register on a new
// connection at once, not only when its next ping goes unanswered for 10 s
// (K2). The restarted proxy then has the binding again and answers the
// keep-alives.
//
// UDP has no such signal: the restarted proxy answers the UA's STUN
// keep-alives from the same address with the same XOR-MAPPED-ADDRESS, so the
// flow has not failed (K4) and the UA re-registers at its next refresh
// (80 % of the granted expiry). That is RFC 5626's design, not tested here.
func TestUA_TCPReRegistersAtOnceWhenProxyRestarts(t *testing.T) {
	t.Parallel()
	p := startProxy(t, keepArgs...)
	u := startUA(t, "tcp", p.sip, uaPolicy(nil))
	first := u.ev.wait(t, uaclient.EventRegistered, 5*time.Second)
	u.ev.wait(t, uaclient.EventKeepaliveAnswered, secs(keepN)+time.Second)

	u.ev.skip(uaclient.EventKeepaliveStarted)
	killedAt := time.Now()
	p.kill()
	p2 := restartProxy(t, p, keepArgs...)
	r := u.ev.wait(t, uaclient.EventRegistered, 5*time.Second)
	took := r.Time.Sub(killedAt)
	t.Logf("re-registered %v after the proxy was killed (restart included)", took.Round(time.Millisecond))
	if r.Flow == first.Flow && first.Flow.Local.IsValid() {
		t.Errorf("re-registered on the old flow %v", r.Flow.Local)
	}
	if took > 2*time.Second {
		t.Errorf("re-registered %v after the proxy went away, want < 2 s (not only after a 10 s pong timeout)", took.Round(time.Millisecond))
	}
	if c := u.ev.list(uaclient.EventFlowClosed, killedAt, r.Time); len(c) == 0 {
		t.Errorf("no flow-closed event before the re-registration")
	}
	u.ev.wait(t, uaclient.EventKeepaliveStarted, 2*time.Second)
	u.ev.wait(t, uaclient.EventKeepaliveAnswered, secs(keepN)+time.Second)
	if got := p2.fresh(); got.bindings != 1 || got.answered < 1 {
		t.Errorf("restarted proxy: %v bindings, %v pings answered; want 1 and ≥ 1", got.bindings, got.answered)
	}
	if f := u.ev.list(uaclient.EventFlowFailed, killedAt, time.Now()); len(f) > 0 {
		t.Logf("flow-failed (%v) reported too", f[0].Action.Reason)
	}
}
