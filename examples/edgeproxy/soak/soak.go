// Package soak runs the edge proxy as an operator would for a long time
// and checks that nothing degrades: thousands of registered flows kept
// alive (STUN on UDP, CRLFCRLF on TCP), closed-loop REGISTER load, and a
// hot swap every interval cycling good, corrupt, truncated and
// slow-_initialize modules. It samples the proxy's RSS and goroutines as it
// goes and ends with the counts a soak must show at zero: failed
// transactions, wrong keep values, unanswered keep-alives, and swaps whose
// outcome was not the expected one.
//
//	make soak                       # the edgeproxy binary, 10,000 flows, 10 min
//	go test -run TestSoakShort ./examples/edgeproxy/soak   # in-process, ~35 s
package soak

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/sipkeep/sipkeep/internal/testnet"
)

// Config is one soak run.
type Config struct {
	Duration    time.Duration // traffic time, after the ramp
	Flows       int           // registered flows kept alive
	TCPFlows    int           // of which over TCP
	Ramp        time.Duration // flows start spread over this
	Workers     int           // closed-loop REGISTER clients
	Keep        int           // the keep value the proxy grants (its --keep)
	SwapEvery   time.Duration
	SampleEvery time.Duration
	// Modules is the swap cycle (Good, Corrupt, Truncated, SlowInit...).
	Modules []Module
	// Good and SlowInit are module bytes (SlowInit may be nil when
	// Modules has no SlowInit).
	Good, SlowInit []byte
}

// Sample is one look at the proxy.
type Sample struct {
	At         time.Duration
	RSS        float64 // bytes
	Heap       float64 // Go heap in use, bytes (RSS less this: wasm memories, stacks, freed pages not yet returned)
	Goroutines float64
	Bindings   float64
	Generation float64
	Registers  int64 // REGISTER transactions completed so far
	KeepAlives int64 // keep-alives answered so far
}

func (s Sample) String() string {
	return fmt.Sprintf("t=%-5s rss=%6.1fMB heap=%6.1fMB goroutines=%-6.0f bindings=%-6.0f generation=%-3.0f registers=%-8d keepalives=%d",
		s.At.Round(time.Second), s.RSS/(1<<20), s.Heap/(1<<20), s.Goroutines, s.Bindings, s.Generation, s.Registers, s.KeepAlives)
}

// Result is the outcome of a run.
type Result struct {
	Transactions, Failed, WrongKeep int64
	// NotGranted 200s carried no keep value; FailedOpen is the host's
	// count of plugin calls that failed open (sipkeep_calls_total with
	// outcome failed_open or disabled), which must explain them.
	NotGranted, FailedOpen       int64
	KeepalivesSent, KeepalivesOK int64
	KeepalivesFailed             int64
	FlowsUp                      int64
	Swaps                        []string // "good: ok (120ms)", ...
	WrongSwaps                   int
	Samples                      []Sample
	FinalBindings                float64
	Findings                     []string
}

// OK reports whether the run found nothing wrong.
func (r *Result) OK(flows int) bool {
	return r.Failed == 0 && r.WrongKeep == 0 && r.NotGranted <= r.FailedOpen && r.KeepalivesFailed == 0 && r.WrongSwaps == 0 &&
		r.FlowsUp == int64(flows) && r.FinalBindings >= float64(flows)
}

func (r *Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "REGISTER transactions %d, failed %d, wrong keep values %d\n", r.Transactions, r.Failed, r.WrongKeep)
	fmt.Fprintf(&b, "200s without keep %d (plugin calls failed open: %d)\n", r.NotGranted, r.FailedOpen)
	fmt.Fprintf(&b, "flows up %d, keep-alives sent %d, answered %d, unanswered %d, bindings at the end %.0f\n",
		r.FlowsUp, r.KeepalivesSent, r.KeepalivesOK, r.KeepalivesFailed, r.FinalBindings)
	fmt.Fprintf(&b, "swaps (%d, %d with an unexpected outcome): %s\n", len(r.Swaps), r.WrongSwaps, strings.Join(r.Swaps, "; "))
	if n := len(r.Samples); n > 1 {
		first, last := r.Samples[0], r.Samples[n-1]
		maxRSS := 0.0
		for _, s := range r.Samples {
			maxRSS = max(maxRSS, s.RSS)
		}
		fmt.Fprintf(&b, "RSS %.1f MB after the ramp, %.1f MB at the end, %.1f MB at most; goroutines %.0f → %.0f\n",
			first.RSS/(1<<20), last.RSS/(1<<20), maxRSS/(1<<20), first.Goroutines, last.Goroutines)
	}
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "  finding: %s\n", f)
	}
	return b.String()
}

type soak struct {
	cfg     Config
	t       Target
	addr    string
	udpAddr *net.UDPAddr
	c       counters
}

// Run soaks t with cfg; report sees each sample and swap as it happens.
func Run(ctx context.Context, t Target, cfg Config, report func(string)) (*Result, error) {
	s := &soak{cfg: cfg, t: t, addr: t.Addr()}
	var err error
	if s.udpAddr, err = net.ResolveUDPAddr("udp", s.addr); err != nil {
		return nil, err
	}
	res := &Result{}
	trafficCtx, stopTraffic := context.WithCancel(ctx)
	defer stopTraffic()
	var traffic sync.WaitGroup

	// Flows, spread over the ramp so 10,000 REGISTERs do not arrive at once.
	for i := range cfg.Flows {
		traffic.Add(1)
		go func() {
			defer traffic.Done()
			if !sleep(trafficCtx, cfg.Ramp*time.Duration(i)/time.Duration(max(cfg.Flows, 1))) {
				return
			}
			if i < cfg.TCPFlows {
				s.tcpFlow(trafficCtx, fmt.Sprintf("tcpflow%d", i))
			} else {
				s.udpFlow(trafficCtx, fmt.Sprintf("udpflow%d", i))
			}
		}()
	}
	for w := range cfg.Workers {
		traffic.Add(1)
		go func() {
			defer traffic.Done()
			s.loadWorker(trafficCtx, fmt.Sprintf("load%d", w))
		}()
	}
	start := time.Now()
	if !sleep(ctx, cfg.Ramp) {
		return nil, ctx.Err()
	}
	report(fmt.Sprintf("ramp done: %d of %d flows up", s.c.flowsUp.Load(), cfg.Flows))

	sample := func() {
		m, err := testnet.Scrape(ctx, t.MetricsAddr())
		if err != nil {
			report("metrics: " + err.Error())
			return
		}
		smp := Sample{At: time.Since(start), RSS: m["process_resident_memory_bytes"], Heap: m["go_memstats_heap_inuse_bytes"], Goroutines: m["go_goroutines"],
			Bindings: m["edgeproxy_bindings"], Generation: m["sipkeep_generation"],
			Registers: s.c.transactions.Load(), KeepAlives: s.c.kaAnswered.Load()}
		res.Samples = append(res.Samples, smp)
		report(smp.String())
	}
	sample()
	swapT, sampleT := time.NewTicker(cfg.SwapEvery), time.NewTicker(cfg.SampleEvery)
	defer swapT.Stop()
	defer sampleT.Stop()
	end := time.After(cfg.Duration)
	// A swap runs beside the sampling (a slow one must not stop the
	// samples that show what it costs); a tick while one runs is skipped.
	type swapped struct {
		line  string
		wrong bool
	}
	done := make(chan swapped, 1)
	swapping, nswap := false, 0
	record := func(sw swapped) {
		swapping = false
		res.Swaps = append(res.Swaps, sw.line)
		if sw.wrong {
			res.WrongSwaps++
		}
		report("swap " + sw.line)
	}
loop:
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-end:
			break loop
		case <-sampleT.C:
			sample()
		case sw := <-done:
			record(sw)
		case <-swapT.C:
			if len(cfg.Modules) == 0 || swapping {
				continue
			}
			m := cfg.Modules[nswap%len(cfg.Modules)]
			nswap++
			swapping = true
			go func() {
				line, wrong := s.swap(ctx, m, nswap)
				done <- swapped{line, wrong}
			}()
		}
	}
	if swapping {
		record(<-done)
	}
	// The last look is before the flows stop: a TCP flow's binding goes
	// with its connection.
	sample()
	if n := len(res.Samples); n > 0 {
		res.FinalBindings = res.Samples[n-1].Bindings
	}
	stopTraffic()
	traffic.Wait() // transactions in flight complete and count
	if m, err := testnet.Scrape(ctx, t.MetricsAddr()); err == nil {
		for _, e := range []string{"on_request", "on_response"} {
			for _, o := range []string{"failed_open", "disabled"} {
				res.FailedOpen += int64(m[`sipkeep_calls_total{export="`+e+`",outcome="`+o+`"}`])
			}
		}
	}
	res.NotGranted = s.c.notGranted.Load()
	res.Transactions, res.Failed, res.WrongKeep = s.c.transactions.Load(), s.c.failed.Load(), s.c.wrongKeep.Load()
	res.KeepalivesSent, res.KeepalivesOK, res.KeepalivesFailed = s.c.kaSent.Load(), s.c.kaAnswered.Load(), s.c.kaFailed.Load()
	res.FlowsUp = s.c.flowsUp.Load()
	res.Findings = s.c.findings
	return res, nil
}

// swap swaps module kind m in and says how it went, and whether the
// outcome was wrong (a bad module accepted, a good one refused).
func (s *soak) swap(ctx context.Context, m Module, n int) (string, bool) {
	b, err := moduleBytes(m, s.cfg.Good, s.cfg.SlowInit, n)
	if err != nil {
		return fmt.Sprintf("%s: cannot build: %v", m, err), true
	}
	start := time.Now()
	err = s.t.Swap(ctx, b)
	took := time.Since(start).Round(time.Millisecond)
	accepted := err == nil
	outcome := "ok"
	if !accepted {
		outcome = "refused"
	}
	wrong := accepted != m.Accepted()
	line := fmt.Sprintf("%s: %s (%v)", m, outcome, took)
	if wrong {
		line += fmt.Sprintf(" UNEXPECTED: %v", err)
		s.c.finding("swap %s", line)
	}
	return line, wrong
}

// ReadModule reads a module file (for Config.Good and SlowInit).
func ReadModule(path string) ([]byte, error) { return os.ReadFile(path) }
