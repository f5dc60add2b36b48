package uaclient_test

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/examples/ua/uaclient"
	"github.com/sipkeep/sipkeep/host"
	"github.com/sipkeep/sipkeep/internal/testwasm"
)

// events records the UA's events for assertions.
type events struct {
	mu  sync.Mutex
	all []uaclient.Event
	ch  chan uaclient.Event
}

func newEvents() *events { return &events{ch: make(chan uaclient.Event, 1024)} }

func (e *events) add(ev uaclient.Event) {
	e.mu.Lock()
	e.all = append(e.all, ev)
	e.mu.Unlock()
	select {
	case e.ch <- ev:
	default:
	}
}

func (e *events) wait(t *testing.T, kind uaclient.EventKind, within time.Duration) uaclient.Event {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case ev := <-e.ch:
			if ev.Kind == kind {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %v event within %v", kind, within)
		}
	}
}

// sent returns the times of first transmissions (STUN attempt 1, pings) in [from, to).
func (e *events) sent(from, to time.Time) []time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	var ts []time.Time
	for _, ev := range e.all {
		if ev.Kind == uaclient.EventKeepaliveSent && ev.Action.Attempt <= 1 && !ev.Time.Before(from) && ev.Time.Before(to) {
			ts = append(ts, ev.Time)
		}
	}
	return ts
}

func (e *events) count(kind uaclient.EventKind) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, ev := range e.all {
		if ev.Kind == kind {
			n++
		}
	}
	return n
}

// startUA runs a UA until the returned stop is called (or the test ends);
// stop returns Run's error.
func startUA(t *testing.T, transport, proxy string, ev *events) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	level := slog.LevelWarn
	if testing.Verbose() {
		level = slog.LevelInfo
	}
	c, err := uaclient.New(ctx, uaclient.Config{
		Proxy: proxy, Transport: transport, User: "alice", Expires: 600 * time.Second,
		WASM: testwasm.Path(t), Policy: smallPolicy(1),
		Logger:         slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
		RequestTimeout: time.Second, RetryBackoff: 200 * time.Millisecond,
		OnEvent:     ev.add,
		HostOptions: []host.Option{host.WithCallTimeout(2 * time.Second)}, // a loaded CI box
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() { cancel(); runErr = <-done })
		return runErr
	}
	t.Cleanup(func() { stop(); c.Close() })
	return stop
}

// R4, R5, R13, R2: the UA offers keep, sends keep-alives every 80–100 % of the
// granted N once it is granted, has them answered, and stops when its
// registration ends.
func TestUA_KeepalivesAtNegotiatedRate(t *testing.T) {
	for _, tr := range []string{"udp", "tcp"} {
		t.Run(tr, func(t *testing.T) {
			r := startRegistrar(t, tr, smallPolicy(1))
			ev := newEvents()
			stop := startUA(t, tr, r.addr, ev)
			ev.wait(t, uaclient.EventRegistered, 3*time.Second)
			start := time.Now()
			time.Sleep(4500 * time.Millisecond)
			ts := ev.sent(start.Add(-time.Second), time.Now())
			if r.sawKeep.Load() == 0 {
				t.Fatal("the registrar saw no ;keep offer")
			}
			if len(ts) < 4 {
				t.Fatalf("%d keep-alives in 4.5 s with keep=1", len(ts))
			}
			for i := 1; i < len(ts); i++ {
				d := ts[i].Sub(ts[i-1])
				t.Logf("interval %v", d)
				if d < 750*time.Millisecond || d > 1100*time.Millisecond {
					t.Errorf("interval %v outside 80–100 %% of 1 s (with 50 ms slack)", d)
				}
			}
			if a := ev.count(uaclient.EventKeepaliveAnswered); a < len(ts)-1 {
				t.Errorf("%d answers for %d keep-alives", a, len(ts))
			}
			// End the registration: keep-alives stop (R2).
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			end := time.Now()
			time.Sleep(1500 * time.Millisecond)
			if late := ev.sent(end, time.Now()); len(late) != 0 {
				t.Fatalf("%d keep-alives after the registration ended", len(late))
			}
		})
	}
}

// K2, K4, R18: a registrar that stops answering makes the UA detect the
// failure (pong timeout on TCP, STUN timeout on UDP), stop keep-alives, and
// re-register once the registrar answers again.
func TestUA_DetectsFailedFlowAndRecovers(t *testing.T) {
	for _, tr := range []string{"udp", "tcp"} {
		t.Run(tr, func(t *testing.T) {
			r := startRegistrar(t, tr, smallPolicy(1))
			ev := newEvents()
			startUA(t, tr, r.addr, ev)
			ev.wait(t, uaclient.EventRegistered, 3*time.Second)
			ev.wait(t, uaclient.EventKeepaliveAnswered, 3*time.Second)

			r.silent.Store(true)
			silentAt := time.Now()
			f := ev.wait(t, uaclient.EventFlowFailed, 4*time.Second)
			t.Logf("failure detected %v after the registrar went silent (%s)", time.Since(silentAt), f.Action.Reason)
			failedAt := time.Now()
			time.Sleep(1500 * time.Millisecond)
			if late := ev.sent(failedAt.Add(50*time.Millisecond), time.Now()); len(late) != 0 {
				t.Fatalf("%d keep-alives after the flow failed (R18)", len(late))
			}
			regs := r.regs.Load()

			r.silent.Store(false)
			ev.wait(t, uaclient.EventRegistered, 5*time.Second)
			ev.wait(t, uaclient.EventKeepaliveAnswered, 3*time.Second)
			if r.regs.Load() <= regs {
				t.Fatal("no new REGISTER reached the registrar")
			}
		})
	}
}
