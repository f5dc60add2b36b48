package opensips

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/hostadapters/internal/siptest"
)

// BenchmarkOpenSIPSRegister measures OpenSIPS's REGISTER rate as registrar
// under sipp load (no rate cap), over UDP and over TCP (one connection),
// plain and with sipkeep.so, in one run: both servers run side by side and
// the loads alternate (plain, sipkeep, plain, ...) so that both see the same
// machine. reg/s are the medians; ratio is sipkeep/plain.
//
// The loads: 100 REGISTERs outstanding from one UDP socket, from a UDP
// socket per REGISTER (a flow per UA: every 200 OK starts a new flow's
// record), and over one TCP connection, where neither sipp nor OpenSIPS
// keeps a vCPU busy and the rate follows sipp's pacing; and, over TCP, 400,
// where sipp keeps a vCPU busy and OpenSIPS's one TCP worker most of the
// other, so what the module costs in CPU shows in the rate. (Over UDP, 400
// outstanding overflow the socket's buffer, and the rate then measures
// sipp's 500 ms retransmission timer.) Each round is 15,000 REGISTERs: at
// 30,000–60,000 a second a shorter round is over in a tenth of a second,
// and sipp's start and exit then move the ratio by ±10 %.
func BenchmarkOpenSIPSRegister(b *testing.B) {
	const calls, rounds = 15000, 5
	siptest.NeedSipp(b)
	plain := start(b, options{Plain: true})
	sk := start(b, options{})
	for _, load := range []struct {
		tr    string
		limit int
	}{{"u1", 100}, {"un", 100}, {"t1", 100}, {"t1", 400}} {
		tr, limit := load.tr, load.limit
		name := fmt.Sprintf("%s/outstanding=%d", map[string]string{"u1": "UDP", "un": "UDPSocketPerUA", "t1": "TCP"}[tr], limit)
		b.Run(name, func(b *testing.B) {
			for _, s := range []*osips{plain, sk} {
				runSipp(b, s, siptest.SippRun{Calls: 300, Limit: 50, Transport: tr}) // warm every worker
			}
			var rp, rs []float64
			var cpu [2]cpuUse
			var sippCPU float64 // µs, both servers' runs
			b.ResetTimer()
			for i := 0; i < rounds; i++ {
				for j, c := range []struct {
					s     *osips
					rates *[]float64
					check bool
				}{{plain, &rp, false}, {sk, &rs, true}} {
					before, sippBefore := c.s.cpu(), childrenCPU()
					took := runSipp(b, c.s, siptest.SippRun{Calls: calls, Limit: limit, Transport: tr, CheckKeep: c.check})
					cpu[j].add(c.s.cpu().minus(before))
					sippCPU += childrenCPU() - sippBefore
					*c.rates = append(*c.rates, float64(calls)/took.Seconds())
				}
			}
			b.StopTimer()
			n := float64(calls * rounds)
			b.Logf("%s CPU per REGISTER: plain %.0f µs; sipkeep %.0f µs (workers and the rest %.0f µs, plugin service %.0f µs); sipp %.0f µs",
				name, cpu[0].total()/n, cpu[1].total()/n, cpu[1].other/n, cpu[1].service/n, sippCPU/(2*n))
			mp, ms := median(rp), median(rs)
			b.ReportMetric(mp, "plain-reg/s")
			b.ReportMetric(ms, "sipkeep-reg/s")
			b.ReportMetric(ms/mp, "ratio")
			b.Logf("%s: plain %s reg/s, sipkeep %s reg/s (%d REGISTERs per run, alternating); median ratio %.2f",
				name, rates(rp), rates(rs), calls, ms/mp)
		})
	}
}

// BenchmarkOpenSIPSMemory measures what sipkeep adds to OpenSIPS's memory
// with 4 and 16 workers per transport: the proportional set size (PSS,
// shared pages split among the processes that map them) of every OpenSIPS
// process, summed, after a REGISTER load, with sipkeep minus without.
func BenchmarkOpenSIPSMemory(b *testing.B) {
	siptest.NeedSipp(b)
	for _, workers := range []int{4, 16} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			var pss [2]float64
			for i, plain := range []bool{true, false} {
				s := start(b, options{Plain: plain, Workers: workers})
				runSipp(b, s, siptest.SippRun{Calls: 2000, Limit: 100, CheckKeep: !plain})
				time.Sleep(500 * time.Millisecond)
				pss[i] = s.pssMB(b)
				s.stop(b)
			}
			b.ReportMetric(pss[0], "plain-MB")
			b.ReportMetric(pss[1], "sipkeep-MB")
			b.ReportMetric(pss[1]-pss[0], "added-MB")
			b.Logf("%d workers per transport: PSS %.1f MB plain, %.1f MB with sipkeep: +%.1f MB",
				workers, pss[0], pss[1], pss[1]-pss[0])
		})
	}
}

// pssMB sums Pss over OpenSIPS's processes, in MB.
func (s *osips) pssMB(t testing.TB) float64 {
	t.Helper()
	var kb float64
	for _, pid := range s.pids() {
		f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "Pss:"); ok {
				n, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
				kb += n
			}
		}
		f.Close()
	}
	return kb / 1024
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func rates(v []float64) string {
	var p []string
	for _, r := range v {
		p = append(p, fmt.Sprintf("%.0f", r))
	}
	return strings.Join(p, "/")
}

// childrenCPU is the CPU time, in µs, of this process's children that have
// been waited for: sipp's, once each run returns (the OpenSIPS servers are
// waited for only when they stop). The benchmark reports it because sipp
// shares the machine's CPUs with OpenSIPS.
func childrenCPU() float64 {
	var r syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &r); err != nil {
		return 0
	}
	return float64(r.Utime.Nano()+r.Stime.Nano()) / 1e3
}

// cpuUse is CPU time in µs of OpenSIPS's processes: the plugin service
// (the one multi-threaded process: it runs Go) and all the others.
type cpuUse struct{ service, other float64 }

func (c *cpuUse) add(d cpuUse)         { c.service += d.service; c.other += d.other }
func (c cpuUse) minus(d cpuUse) cpuUse { return cpuUse{c.service - d.service, c.other - d.other} }
func (c cpuUse) total() float64        { return c.service + c.other }

func (s *osips) cpu() cpuUse {
	var u cpuUse
	for _, pid := range s.pids() {
		cpu, threads, ok := siptest.ProcCPU(pid)
		if !ok {
			continue
		}
		if us := float64(cpu.Microseconds()); threads > 1 {
			u.service += us
		} else {
			u.other += us
		}
	}
	return u
}
