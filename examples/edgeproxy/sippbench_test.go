package main_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/internal/testnet"
	"github.com/sipkeep/sipkeep/internal/testwasm"
)

// sippBenchUsers is how many REGISTER transactions sipp keeps outstanding
// (-users: closed loop, a new call as soon as one ends). Twice the Go
// benchmark's 16 clients; more (64, 128) did not raise the rate on the
// 2-vCPU machine, and over UDP 128 made the proxy answer late enough for
// sipp to retransmit.
const sippBenchUsers = 32

// sippBenchTransports: the sub-benchmark name and sipp's -t flag (one
// socket for all calls: one UDP flow, or one TCP connection).
var sippBenchTransports = []struct{ name, sipp string }{
	{"UDP", "u1"},
	{"TCP", "t1"},
}

// BenchmarkEdgeProxySipp is the REGISTER throughput of the real edge-proxy
// binary driven by sipp (testdata/sipp/register_bench.xml: one call = one
// REGISTER with ;keep on the Via and its 200, refreshing 16 AORs), without
// and with the plugin, in one run, over UDP and TCP:
//
//	go test -run '^$' -bench EdgeProxySipp -benchtime 3s ./examples/edgeproxy  (about 20 s)
//
// Each sub-benchmark gets a fresh proxy process (stopped after it): over UDP
// the proxy keeps every completed server transaction for Timer J (32 s), so
// a proxy that has just answered a few hundred thousand REGISTERs is slower
// (and over 1 GB larger) than a fresh one, and the order of the runs would
// decide the result. The sipkeep proxy is first checked to grant keep=30
// (register_keep.xml).
//
// sipp runs closed loop (-users sippBenchUsers, -m b.N): saturation, not a
// target rate. Reported per sub-benchmark:
//
//   - registers/s: b.N over the wall time of the sipp run;
//   - registers/cpu-s: b.N per CPU-second (user+system, /proc/PID/stat) the
//     proxy process used during the run: the number to compare when the
//     machine, not the proxy, sets the rate;
//   - proxy-cpu-% and sipp-cpu-%: the CPU each process used over the wall
//     time, in % of one core (sipp's from its rusage). sipp is
//     single-threaded: near 100 % it is the bottleneck;
//   - failed (calls sipp counted failed; more than 1 % fails the benchmark)
//     and retrans (UDP REGISTER retransmissions: answers later than 500 ms).
//
// The sipkeep sub-benchmarks also report their rate as a share of the plain
// one just before them (the target is 95 %): %plain-rate (registers/s) and
// %plain-cpu-s (registers/cpu-s).
//
// On the 2-vCPU machine one sipp is not the bottleneck: it used 28-52 % of
// a core while the proxy used 110-135 % (less over TCP, one connection);
// together with the other load on the machine the two cores are close to
// full, so registers/s depends on what else runs, and registers/cpu-s is
// the comparable number. The Go-client
// REGISTER benchmark in BenchmarkEdgeProxy (16 closed-loop UDP clients)
// measures the same proxy with a cheaper client, for comparison.
func BenchmarkEdgeProxySipp(b *testing.B) {
	need(b, "sipp")
	bin := buildBinary(b)
	wasm := testwasm.Path(b)
	modes := []struct {
		name string
		args []string
	}{
		{"plain", nil},
		{"sipkeep", []string{"--wasm", wasm, "--watch=false"}},
	}
	for _, tr := range sippBenchTransports {
		var res [2]sippBenchResult
		for i, m := range modes {
			p, addr, _ := runBinary(b, bin, append([]string{"--log-level", "warn"}, m.args...)...)
			if m.name == "sipkeep" {
				s, msgs := sipp(b, tr.sipp, testnet.FreePort(b), addr, "register_keep.xml", "-s", "keepcheck")
				sippOK(b, s, msgs)
			}
			var plain *sippBenchResult
			if i > 0 {
				plain = &res[0]
			}
			b.Run(tr.name+"/"+m.name, func(b *testing.B) { res[i] = sippBenchRegister(b, p, addr, tr.sipp, plain) })
			stopProc(b, p)
		}
	}
}

type sippBenchResult struct{ rate, perCPU float64 }

// sippBenchRegister runs one sipp with b.N REGISTER calls against the proxy
// p at addr and reports the metrics described on BenchmarkEdgeProxySipp;
// with plain (the result of the same run without the plugin), also the
// share of it.
func sippBenchRegister(b *testing.B, p *proc, addr, transport string, plain *sippBenchResult) sippBenchResult {
	dir := b.TempDir()
	screen := filepath.Join(dir, "screen.log")
	args := []string{
		"-sf", testdata("sipp/register_bench.xml"),
		"-inf", testdata("sipp/register_bench_users.csv"),
		"-t", transport, "-i", "127.0.0.1", "-p", strconv.Itoa(testnet.FreePort(b)),
		"-users", strconv.Itoa(sippBenchUsers), "-m", strconv.Itoa(b.N),
		"-nostdin", "-recv_timeout", "5000", "-timeout", "120s", "-timeout_error",
		"-trace_screen", "-screen_file", screen,
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log"),
		addr,
	}
	cpu0 := procCPU(b, p)
	b.ResetTimer()
	t0 := time.Now()
	s := start(b, dir, "sipp", args...)
	rc := s.wait(b, 150*time.Second)
	el := time.Since(t0)
	b.StopTimer()
	cpu := procCPU(b, p) - cpu0

	st, err := parseSippScreen(screen)
	if rc != 0 && rc != 1 || err != nil { // 1: some calls failed, counted below
		errs, _ := os.ReadFile(filepath.Join(dir, "errors.log"))
		b.Fatalf("sipp exit %d (screen: %v)\n--- output\n%s\n--- errors\n%s", rc, err, tail(s.out.String(), 2000), tail(string(errs), 2000))
	}
	failed := max(st.failed, int64(b.N)-st.ok)
	if failed > int64(b.N)/100 {
		errs, _ := os.ReadFile(filepath.Join(dir, "errors.log"))
		b.Fatalf("%d of %d REGISTERs failed (sipp exit %d)\n--- errors\n%s", failed, b.N, rc, tail(string(errs), 2000))
	}
	sippCPU := s.cmd.ProcessState.UserTime() + s.cmd.ProcessState.SystemTime()

	r := sippBenchResult{rate: float64(b.N) / el.Seconds()}
	b.ReportMetric(r.rate, "registers/s")
	if cpu > 0 {
		r.perCPU = float64(b.N) / cpu.Seconds()
		b.ReportMetric(r.perCPU, "registers/cpu-s")
	}
	b.ReportMetric(100*cpu.Seconds()/el.Seconds(), "proxy-cpu-%")
	b.ReportMetric(100*sippCPU.Seconds()/el.Seconds(), "sipp-cpu-%")
	b.ReportMetric(float64(failed), "failed")
	b.ReportMetric(float64(st.retrans), "retrans")
	if plain != nil && plain.rate > 0 {
		b.ReportMetric(100*r.rate/plain.rate, "%plain-rate")
		if plain.perCPU > 0 && r.perCPU > 0 {
			b.ReportMetric(100*r.perCPU/plain.perCPU, "%plain-cpu-s")
		}
	}
	return r
}

type sippScreen struct{ ok, failed, retrans int64 }

var (
	sippOKRE      = regexp.MustCompile(`(?m)^\s*Successful call\s*\|[^|]*\|\s*(\d+)`)
	sippFailedRE  = regexp.MustCompile(`(?m)^\s*Failed call\s*\|[^|]*\|\s*(\d+)`)
	sippRetransRE = regexp.MustCompile(`(?m)^\s*REGISTER -+>\s+\d+\s+(\d+)`)
)

// parseSippScreen reads the cumulative successful and failed call counts and
// the REGISTER retransmissions from the screens sipp dumps when it quits
// (-trace_screen); the last dump wins.
func parseSippScreen(path string) (sippScreen, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return sippScreen{}, err
	}
	last := func(re *regexp.Regexp) (int64, bool) {
		m := re.FindAllSubmatch(raw, -1)
		if len(m) == 0 {
			return 0, false
		}
		n, err := strconv.ParseInt(string(m[len(m)-1][1]), 10, 64)
		return n, err == nil
	}
	var s sippScreen
	var ok1, ok2 bool
	s.ok, ok1 = last(sippOKRE)
	s.failed, ok2 = last(sippFailedRE)
	s.retrans, _ = last(sippRetransRE)
	if !ok1 || !ok2 {
		return s, fmt.Errorf("no call counts in %s", path)
	}
	return s, nil
}

// stopProc ends a process started by start with SIGTERM (by its PID),
// then SIGKILL if it has not exited after 10 s.
func stopProc(tb testing.TB, p *proc) {
	p.signal(syscall.SIGTERM)
	p.wait(tb, 10*time.Second)
}
