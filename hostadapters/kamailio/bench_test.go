package kamailio

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/hostadapters/internal/siptest"
)

// BenchmarkKamailioRegister measures Kamailio's REGISTER rate under sipp
// (100 outstanding, no rate cap), plain and with the sipkeep module, side by
// side in one run: alternating plain and module, each on a fresh Kamailio
// with the same worker count, over UDP and over TCP, each run long enough
// for ≥ 5 s. reg/s is the figure to read; cpu-us/reg is Kamailio's CPU time
// (all its processes, the plugin service included) per REGISTER.
func BenchmarkKamailioRegister(b *testing.B) {
	siptest.NeedSipp(b)
	rounds := 2
	if s := os.Getenv("SIPKEEP_BENCH_ROUNDS"); s != "" {
		rounds, _ = strconv.Atoi(s)
	}
	type result struct{ rate, cpu []float64 }
	res := map[string]*result{}
	for _, tr := range []string{"u1", "t1"} {
		name := map[string]string{"u1": "UDP", "t1": "TCP"}[tr]
		for round := 1; round <= rounds; round++ {
			for _, plain := range []bool{true, false} {
				mode := "module"
				if plain {
					mode = "plain"
				}
				b.Run(fmt.Sprintf("%s/%s/%d", name, mode, round), func(b *testing.B) {
					// Every REGISTER is a new AOR: give usrloc room for all
					// of them (64 MB fill up at ~55,000, and then every
					// REGISTER fails, plain or not).
					k := startKamailio(b, kamOptions{Plain: plain, Children: 4, ShmMB: 256})
					// Warm up, and size the run for ≥ 5 s at this rate.
					warm, _, _ := runSippCount(b, k, siptest.SippRun{Calls: 3000, Limit: 100, Transport: tr})
					calls := int(3000 / warm.Seconds() * 6)
					calls = max(calls, 20000)
					cpu0, svc0 := groupCPUSplit(k.cmd.Process.Pid)
					b.ResetTimer()
					// With the module every 200 OK must carry keep=N: a
					// message passed unchanged counts as a failed call.
					took, ok, failed := runSippCount(b, k, siptest.SippRun{Calls: calls, Limit: 100, Transport: tr, CheckKeep: !plain})
					b.StopTimer()
					cpu1, svc1 := groupCPUSplit(k.cmd.Process.Pid)
					cpu, svc := cpu1-cpu0, svc1-svc0
					rate := float64(ok) / took.Seconds()
					cpuPer := float64(cpu.Microseconds()) / float64(calls)
					svcPer := float64(svc.Microseconds()) / float64(calls)
					b.ReportMetric(rate, "reg/s")
					b.ReportMetric(cpuPer, "cpu-us/reg")
					b.ReportMetric(svcPer, "service-cpu-us/reg")
					b.ReportMetric(float64(failed), "failed")
					key := name + "/" + mode
					if res[key] == nil {
						res[key] = &result{}
					}
					res[key].rate = append(res[key].rate, rate)
					res[key].cpu = append(res[key].cpu, cpuPer)
					b.Logf("%s %s: %d REGISTERs (%d failed) in %s = %.0f reg/s, %.1f µs CPU each (%.1f µs in the plugin service)",
						name, mode, ok, failed, took.Round(time.Millisecond), rate, cpuPer, svcPer)
				})
			}
		}
		p, m := res[name+"/plain"], res[name+"/module"]
		if p != nil && m != nil {
			b.Logf("%s: module %.0f reg/s vs plain %.0f reg/s (medians) = %.0f %%; CPU per REGISTER %.1f vs %.1f µs",
				name, median(m.rate), median(p.rate), 100*median(m.rate)/median(p.rate), median(m.cpu), median(p.cpu))
		}
	}
}

// BenchmarkKamailioMemory reports the memory of all Kamailio processes,
// plain and with the module, with 4 and with 16 workers (after a warm-up):
// RSS and PSS summed over the process group (PSS shares the pages
// processes share), and what the module adds.
func BenchmarkKamailioMemory(b *testing.B) {
	siptest.NeedSipp(b)
	for _, children := range []int{4, 16} {
		var plainPSS, plainRSS float64
		for _, plain := range []bool{true, false} {
			mode := "module"
			if plain {
				mode = "plain"
			}
			b.Run(fmt.Sprintf("workers=%d/%s", children, mode), func(b *testing.B) {
				k := startKamailio(b, kamOptions{Plain: plain, Children: children})
				runSippCount(b, k, siptest.SippRun{Calls: 5000, Limit: 100})
				runSippCount(b, k, siptest.SippRun{Calls: 2000, Limit: 50, Transport: "t1"})
				time.Sleep(300 * time.Millisecond)
				rss, pss, n := groupMemory(k.cmd.Process.Pid)
				b.ReportMetric(rss/1024, "RSS-MB")
				b.ReportMetric(pss/1024, "PSS-MB")
				if plain {
					plainRSS, plainPSS = rss, pss
					b.Logf("%d workers, plain: %d processes, RSS %.1f MB, PSS %.1f MB", children, n, rss/1024, pss/1024)
				} else {
					b.ReportMetric((pss-plainPSS)/1024, "added-PSS-MB")
					b.Logf("%d workers, module: %d processes, RSS %.1f MB, PSS %.1f MB; added by sipkeep: RSS %+.1f MB, PSS %+.1f MB",
						children, n, rss/1024, pss/1024, (rss-plainRSS)/1024, (pss-plainPSS)/1024)
				}
			})
		}
	}
}

// BenchmarkKamailioFirstRegister starts Kamailio with the module and sends a
// REGISTER the moment it logs that the plugin service is ready: the time
// from start to ready, and from ready to a 200 OK carrying keep=N.
func BenchmarkKamailioFirstRegister(b *testing.B) {
	for i := 0; i < 3; i++ {
		b.Run(fmt.Sprint(i+1), func(b *testing.B) {
			start := time.Now()
			k := startKamailio(b, kamOptions{SkipWarmUp: true})
			ready := time.Now()
			u := siptest.NewUA(b, "UDP", k.Addr())
			resp := u.Register("first", k.Addr(), ";keep")
			got := time.Since(ready)
			if v, _ := siptest.ViaKeep(siptest.Headers(resp, "Via")[0]); v == "" {
				b.Fatalf("first REGISTER after ready got no keep:\n%s", resp)
			}
			b.ReportMetric(float64(got.Microseconds())/1000, "ms-to-keep")
			b.ReportMetric(float64(ready.Sub(start).Milliseconds()), "ms-start-to-ready")
			b.Logf("start → service ready %s (cfg check and compile cache included); ready → 200 OK with keep=N %s",
				ready.Sub(start).Round(time.Millisecond), got.Round(time.Microsecond))
		})
	}
}

// BenchmarkKamailioPerMessage sends REGISTERs one at a time over UDP and
// reports the response time percentiles, plain and with the module: the
// difference is what the module adds to a message that crosses to the
// plugin service (every REGISTER offering keep does).
func BenchmarkKamailioPerMessage(b *testing.B) {
	const n = 3000
	pct := map[bool][2]time.Duration{}
	for _, plain := range []bool{true, false} {
		mode := map[bool]string{true: "plain", false: "module"}[plain]
		b.Run(mode, func(b *testing.B) {
			k := startKamailio(b, kamOptions{Plain: plain, Children: 4})
			u := siptest.NewUA(b, "UDP", k.Addr())
			for i := 0; i < 200; i++ {
				u.Register("warm", k.Addr(), ";keep")
			}
			lat := make([]time.Duration, n)
			for i := range lat {
				t0 := time.Now()
				u.Register(fmt.Sprintf("pm%d", i%50), k.Addr(), ";keep")
				lat[i] = time.Since(t0)
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			p50, p99 := lat[n/2], lat[n*99/100]
			pct[plain] = [2]time.Duration{p50, p99}
			b.ReportMetric(float64(p50.Microseconds()), "p50-us")
			b.ReportMetric(float64(p99.Microseconds()), "p99-us")
		})
	}
	if p, m := pct[true], pct[false]; p[0] > 0 && m[0] > 0 {
		b.Logf("REGISTER round trip p50 %s → %s (+%s), p99 %s → %s (+%s)", p[0], m[0], m[0]-p[0], p[1], m[1], m[1]-p[1])
	}
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

// groupPIDs lists the processes whose process group is pgid.
func groupPIDs(pgid int) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// Fields after the ")" of the command: state ppid pgrp ...
		s := string(st)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		if len(f) > 2 && f[2] == strconv.Itoa(pgid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// groupCPUSplit sums user and system CPU time of the process group, and
// the part of it spent in the plugin service: the one process of the group
// with more than one thread (the Go runtime's; Kamailio's own processes are
// single-threaded).
func groupCPUSplit(pgid int) (all, service time.Duration) {
	for _, pid := range groupPIDs(pgid) {
		cpu, threads, ok := siptest.ProcCPU(pid)
		if !ok {
			continue
		}
		all += cpu
		if threads > 1 {
			service += cpu
		}
	}
	return all, service
}

// groupMemory sums RSS and PSS (kB) over the process group.
func groupMemory(pgid int) (rss, pss float64, n int) {
	for _, pid := range groupPIDs(pgid) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
		if err != nil {
			continue
		}
		n++
		for _, l := range strings.Split(string(b), "\n") {
			f := strings.Fields(l)
			if len(f) < 2 {
				continue
			}
			v, _ := strconv.ParseFloat(f[1], 64)
			switch f[0] {
			case "Rss:":
				rss += v
			case "Pss:":
				pss += v
			}
		}
	}
	return rss, pss, n
}
