// Package e2e runs the example Go UA (examples/ua/uaclient, in-process, with
// the real host and plugin) against the example edge proxy (the real
// examples/edgeproxy binary, built once per test process and started with
// flags on 127.0.0.1). It is the end-to-end proof that the two examples
// negotiate keep (RFC 6223) and keep the flow alive (RFC 5626) together.
//
// Every proxy process is started by a test and stopped by its PID in
// t.Cleanup (SIGCONT, SIGTERM, then SIGKILL), also when the test fails.
// Keep-alives are measured on both sides: the UA's events (exact timestamps)
// and the proxy's /metrics netkeep counters, polled every 25 ms.
package e2e_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/abi/proto"
	"github.com/sipkeep/sipkeep/examples/ua/uaclient"
	"github.com/sipkeep/sipkeep/host"
	"github.com/sipkeep/sipkeep/internal/testnet"
	"github.com/sipkeep/sipkeep/internal/testwasm"
)

// The proxy binary, built once for the test process (TestMain removes it).
var (
	binDir   string
	binOnce  sync.Once
	binPath  string
	binError error
)

func TestMain(m *testing.M) {
	// The tests mostly wait (keep-alive intervals, a 10 s pong timeout):
	// run all six subtests at once unless -parallel was given, so that the
	// package takes about 25 s instead of about 50 s on a 2-CPU machine.
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		_ = flag.Set("test.parallel", "6")
	}
	var err error
	binDir, err = os.MkdirTemp("", "sipkeep-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(binDir)
	os.Exit(code)
}

// proxyBinary builds examples/edgeproxy (go build) into the test's temp dir.
func proxyBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binPath = filepath.Join(binDir, "edgeproxy")
		cmd := exec.Command(goBin(), "build", "-o", binPath, "./examples/edgeproxy")
		cmd.Dir = testwasm.ModuleRoot()
		cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
		if out, err := cmd.CombinedOutput(); err != nil {
			binError = fmt.Errorf("go build ./examples/edgeproxy: %v\n%s", err, out)
		}
	})
	if binError != nil {
		t.Fatal(binError)
	}
	return binPath
}

func goBin() string {
	if p := os.Getenv("GO"); p != "" {
		return p
	}
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go"
}

// edgeProxy is one running edge proxy binary.
type edgeProxy struct {
	t       *testing.T
	cmd     *exec.Cmd
	sip     string // 127.0.0.1:port (UDP and TCP)
	metrics string
	out     *syncBuffer
	done    chan struct{}

	pollMu  sync.Mutex
	samples []sample
	stopped atomic.Bool // SIGSTOPped: /metrics cannot answer
}

// sample is one scrape of the proxy's keep-alive counters.
type sample struct {
	t                time.Time
	served, answered float64 // STUN Binding requests served, CRLF pings answered
	bindings         float64
}

// startProxy runs the edge proxy binary with sipkeep on free ports plus args,
// waits for /metrics, polls it every 25 ms, and stops it by PID at cleanup.
func startProxy(t *testing.T, args ...string) *edgeProxy {
	t.Helper()
	bin := proxyBinary(t)
	wasm := testwasm.Path(t)
	for attempt := 1; ; attempt++ {
		p, err := tryStartProxy(t, bin, wasm, "", "", args)
		if err == nil {
			return p
		}
		if attempt == 3 {
			t.Fatal(err)
		}
		t.Logf("edgeproxy did not start (attempt %d, retrying on other ports): %v", attempt, err)
	}
}

// restartProxy starts a new edge proxy on the SIP and metrics addresses of
// old, which must have exited (a restarted proxy: same address, no state).
func restartProxy(t *testing.T, old *edgeProxy, args ...string) *edgeProxy {
	t.Helper()
	select {
	case <-old.done:
	default:
		t.Fatal("restartProxy: the old proxy is still running")
	}
	p, err := tryStartProxy(t, proxyBinary(t), testwasm.Path(t), old.sip, old.metrics, args)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// kill ends the proxy at once (SIGKILL by PID), as a crash would.
func (p *edgeProxy) kill() {
	p.t.Helper()
	if err := syscall.Kill(p.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		p.t.Fatalf("SIGKILL %d: %v", p.cmd.Process.Pid, err)
	}
	<-p.done
}

func tryStartProxy(t *testing.T, bin, wasm, sipAddr, metricsAddr string, args []string) (*edgeProxy, error) {
	if sipAddr == "" {
		sipAddr = fmt.Sprintf("127.0.0.1:%d", testnet.FreePort(t))
	}
	if metricsAddr == "" {
		metricsAddr = fmt.Sprintf("127.0.0.1:%d", testnet.FreePort(t))
	}
	p := &edgeProxy{t: t, sip: sipAddr, metrics: metricsAddr, out: &syncBuffer{}, done: make(chan struct{})}
	all := append([]string{"--listen", p.sip, "--transports", "udp,tcp", "--metrics", p.metrics,
		"--wasm", wasm, "--watch=false"}, args...)
	p.cmd = exec.Command(bin, all...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start edgeproxy: %w", err)
	}
	pid := p.cmd.Process.Pid
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.stop() })
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("edgeproxy (pid %d) %s output:\n%s", pid, strings.Join(all, " "), tail(p.out.String(), 6000))
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := testnet.Scrape(context.Background(), p.metrics); err == nil {
			break
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("edgeproxy exited: %s\n%s", p.cmd.ProcessState, tail(p.out.String(), 3000))
		default:
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("edgeproxy not ready after 20 s\n%s", tail(p.out.String(), 3000))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("edgeproxy pid %d on %s (metrics %s): %s", pid, p.sip, p.metrics, strings.Join(args, " "))
	ctx, cancel := context.WithCancel(context.Background())
	polled := make(chan struct{})
	go p.poll(ctx, polled)
	t.Cleanup(func() { cancel(); <-polled }) // before stop (LIFO)
	return p, nil
}

// stop ends the process we started, by its PID: SIGCONT (it may be stopped),
// SIGTERM, and SIGKILL if it has not exited within 5 s.
func (p *edgeProxy) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	pid := p.cmd.Process.Pid
	_ = syscall.Kill(pid, syscall.SIGCONT)
	_ = syscall.Kill(pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(pid, syscall.SIGKILL)
		<-p.done
	}
}

// freeze and thaw stop and continue the proxy process (SIGSTOP, SIGCONT):
// while frozen it answers nothing, not even STUN or pings, as a hung or
// unreachable proxy would.
func (p *edgeProxy) freeze() {
	p.t.Helper()
	p.stopped.Store(true)
	if err := syscall.Kill(p.cmd.Process.Pid, syscall.SIGSTOP); err != nil {
		p.t.Fatalf("SIGSTOP %d: %v", p.cmd.Process.Pid, err)
	}
}

func (p *edgeProxy) thaw() {
	p.t.Helper()
	if err := syscall.Kill(p.cmd.Process.Pid, syscall.SIGCONT); err != nil {
		p.t.Fatalf("SIGCONT %d: %v", p.cmd.Process.Pid, err)
	}
	p.stopped.Store(false)
}

func (p *edgeProxy) poll(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	tk := time.NewTicker(25 * time.Millisecond)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
		}
		if p.stopped.Load() {
			continue
		}
		m, err := testnet.Scrape(ctx, p.metrics)
		if err != nil {
			continue
		}
		s := sample{t: time.Now(), served: m["sipkeep_netkeep_stun_requests_served_total"],
			answered: m["sipkeep_netkeep_pings_answered_total"], bindings: m["edgeproxy_bindings"]}
		p.pollMu.Lock()
		p.samples = append(p.samples, s)
		p.pollMu.Unlock()
	}
}

// value is the proxy's count of keep-alives answered for transport (STUN
// Binding requests served on UDP, CRLF pings answered on TCP).
func (s sample) value(transport string) float64 {
	if transport == "udp" {
		return s.served
	}
	return s.answered
}

func (p *edgeProxy) last() sample {
	p.pollMu.Lock()
	defer p.pollMu.Unlock()
	if len(p.samples) == 0 {
		return sample{}
	}
	return p.samples[len(p.samples)-1]
}

// fresh waits for a poll that started after now and returns it.
func (p *edgeProxy) fresh() sample {
	p.t.Helper()
	since := time.Now()
	deadline := since.Add(5 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(30 * time.Millisecond)
		if s := p.last(); s.t.After(since.Add(25 * time.Millisecond)) {
			return s
		}
	}
	p.t.Fatalf("edgeproxy /metrics did not answer for 5 s")
	return sample{}
}

// arrivals returns the (poll) times at which the proxy's counter for
// transport went up in [from, to), one entry per keep-alive.
func (p *edgeProxy) arrivals(transport string, from, to time.Time) []time.Time {
	p.pollMu.Lock()
	defer p.pollMu.Unlock()
	var ts []time.Time
	for i := 1; i < len(p.samples); i++ {
		s := p.samples[i]
		if s.t.Before(from) || !s.t.Before(to) {
			continue
		}
		for range int(s.value(transport) - p.samples[i-1].value(transport)) {
			ts = append(ts, s.t)
		}
	}
	return ts
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// --- the UA --------------------------------------------------------------

// events records the UA's events, in order, with their times.
type events struct {
	mu   sync.Mutex
	all  []uaclient.Event
	seen map[uaclient.EventKind]int // events of each kind already returned by wait
}

func newEvents() *events { return &events{seen: map[uaclient.EventKind]int{}} }

func (e *events) add(ev uaclient.Event) {
	e.mu.Lock()
	e.all = append(e.all, ev)
	e.mu.Unlock()
}

// wait returns the next event of kind that wait has not returned yet, in the
// order they happened. Kinds are independent: the plugin may start
// keep-alives (on the 2xx) before the UA reports the registration.
func (e *events) wait(t *testing.T, kind uaclient.EventKind, within time.Duration) uaclient.Event {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		e.mu.Lock()
		n := 0
		for _, ev := range e.all {
			if ev.Kind != kind {
				continue
			}
			if n == e.seen[kind] {
				e.seen[kind]++
				e.mu.Unlock()
				return ev
			}
			n++
		}
		e.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("the UA had no (further) %v event within %v; its events:\n%s", kind, within, e.dump())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// skip marks every event of kind so far as seen by wait.
func (e *events) skip(kind uaclient.EventKind) {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, ev := range e.all {
		if ev.Kind == kind {
			n++
		}
	}
	e.seen[kind] = n
}

// list returns the events of kind in [from, to).
func (e *events) list(kind uaclient.EventKind, from, to time.Time) []uaclient.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []uaclient.Event
	for _, ev := range e.all {
		if ev.Kind == kind && !ev.Time.Before(from) && ev.Time.Before(to) {
			out = append(out, ev)
		}
	}
	return out
}

// sent returns the times of first transmissions (a ping, or STUN attempt 1)
// in [from, to): one per keep-alive.
func (e *events) sent(from, to time.Time) []time.Time {
	var ts []time.Time
	for _, ev := range e.list(uaclient.EventKeepaliveSent, from, to) {
		if ev.Action.Attempt <= 1 {
			ts = append(ts, ev.Time)
		}
	}
	return ts
}

func (e *events) dump() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var b strings.Builder
	var t0 time.Time
	for i, ev := range e.all {
		if i == 0 {
			t0 = ev.Time
		}
		fmt.Fprintf(&b, "  +%7.3fs %-18v", ev.Time.Sub(t0).Seconds(), ev.Kind)
		if ev.Action.Kind != 0 {
			fmt.Fprintf(&b, " %v", ev.Action.Kind)
			if ev.Action.Attempt > 0 {
				fmt.Fprintf(&b, " attempt=%d", ev.Action.Attempt)
			}
			if ev.Action.Value > 0 {
				fmt.Fprintf(&b, " value=%d", ev.Action.Value)
			}
			if ev.Action.Reason != 0 {
				fmt.Fprintf(&b, " reason=%v", ev.Action.Reason)
			}
		}
		if ev.Expires > 0 {
			fmt.Fprintf(&b, " expires=%v", ev.Expires)
		}
		if ev.Err != nil {
			fmt.Fprintf(&b, " err=%v", ev.Err)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// ua is an in-process uaclient registered through the proxy.
type ua struct {
	c    *uaclient.Client
	ev   *events
	stop func() error // ends Run: unregisters (Expires: 0) and returns Run's error
}

// uaPolicy is the UA's plugin policy: the floor lowered to 1 s so that the
// proxy's keep=2 is used as granted (the default floor of 10 s would raise
// it), everything else as given by the caller or the defaults.
func uaPolicy(mod func(*proto.Policy)) *proto.Policy {
	p := &proto.Policy{FloorSeconds: 1}
	if mod != nil {
		mod(p)
	}
	return p
}

// startUA runs the UA against the proxy until stop (or the end of the test).
func startUA(t *testing.T, transport, proxyAddr string, pol *proto.Policy) *ua {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	level := slog.LevelWarn
	if testing.Verbose() {
		level = slog.LevelInfo
	}
	w := &testWriter{t: t}
	ev := newEvents()
	c, err := uaclient.New(ctx, uaclient.Config{
		Proxy: proxyAddr, Transport: transport, User: "alice-" + transport, Expires: 600 * time.Second,
		WASM: testwasm.Path(t), Policy: pol,
		Logger:         slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})),
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
	stop := func() error {
		once.Do(func() { cancel(); runErr = <-done })
		return runErr
	}
	t.Cleanup(func() {
		stop()
		c.Close()
		w.done.Store(true)
		if t.Failed() {
			t.Logf("UA events:\n%s", ev.dump())
		}
	})
	return &ua{c: c, ev: ev, stop: stop}
}

// testWriter sends logs to t.Log until the test is over.
type testWriter struct {
	t    *testing.T
	done atomic.Bool
}

func (w *testWriter) Write(b []byte) (int, error) {
	if !w.done.Load() {
		w.t.Log(strings.TrimRight(string(b), "\n"))
	}
	return len(b), nil
}
