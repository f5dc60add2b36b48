package main_test

import (
	"bytes"
	"fmt"
	"github.com/sipkeep/sipkeep/internal/testwasm"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/stun/v3"
)

// BenchmarkEdgeProxy measures the real binary (a separate process, so its
// CPU time can be read from /proc) over real loopback sockets, in one run:
//
//   - REGISTER/plain and REGISTER/sipkeep: registers/s answered by the
//     registrar without and with the plugin (same REGISTER, with ;keep),
//     closed loop, 16 concurrent UDP clients;
//   - REGISTER/native-plugin: the same with the plugin's logic compiled
//     into the proxy (--native-plugin) instead of run as wasm, which splits
//     sipkeep's cost into what wasm adds and what the rest of the path
//     (netkeep, host, stores) costs;
//   - STUN and CRLF: keep-alives answered per second, and per CPU-second
//     of the proxy process ("per core").
//
// BenchmarkEdgeProxySipp (sippbench_test.go) measures the same REGISTER
// rate with sipp as the client, over UDP and TCP.
//
// go test -run '^$' -bench EdgeProxy ./examples/edgeproxy  (about 30 s;
// with BenchmarkEdgeProxySipp, which the pattern matches too, about 50 s)
func BenchmarkEdgeProxy(b *testing.B) {
	bin := buildBinary(b)
	wasm := testwasm.Path(b)
	// A fresh proxy per REGISTER mode: over UDP sipgo keeps each finished
	// transaction for Timer J (32 s), so a proxy that already served one
	// mode's load is slower for the next (see sippbench_test.go).
	for _, m := range []struct {
		name string
		args []string
	}{
		{"plain", nil},
		{"sipkeep", []string{"--wasm", wasm, "--watch=false"}},
		{"native-plugin", []string{"--native-plugin"}},
	} {
		p, addr, _ := runBinary(b, bin, append([]string{"--log-level", "warn"}, m.args...)...)
		b.Run("REGISTER/"+m.name, func(b *testing.B) { benchRegister(b, p, addr) })
		stopProc(b, p)
	}
	keep, keepAddr, _ := runBinary(b, bin, "--log-level", "warn", "--wasm", wasm, "--watch=false")
	b.Run("STUN/sipkeep", func(b *testing.B) { benchSTUN(b, keep, keepAddr) })
	b.Run("CRLF/sipkeep", func(b *testing.B) { benchCRLF(b, keep, keepAddr) })
}

const benchWorkers = 16

// closedLoop runs b.N operations over benchWorkers workers, each with its
// own socket from open, and reports ops/s and ops per proxy CPU-second.
func closedLoop(b *testing.B, p *proc, unit string, open func(i int) (op func() error, close func())) {
	ops := make([]func() error, benchWorkers)
	for i := range ops {
		op, cl := open(i)
		defer cl()
		ops[i] = op
	}
	var next, failed atomic.Int64
	cpu0 := procCPU(b, p)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for _, op := range ops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if err := op(); err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	b.StopTimer()
	cpu := procCPU(b, p) - cpu0
	if f := failed.Load(); f > int64(b.N)/100 {
		b.Fatalf("%d of %d %s failed", f, b.N, unit)
	}
	b.ReportMetric(float64(b.N)/el.Seconds(), unit+"/s")
	if cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), unit+"/cpu-s")
	}
}

func benchRegister(b *testing.B, p *proc, addr string) {
	closedLoop(b, p, "registers", func(i int) (func() error, func()) {
		c, err := net.Dial("udp", addr)
		if err != nil {
			b.Fatal(err)
		}
		local := c.LocalAddr().String()
		buf := make([]byte, 4096)
		cseq := 0
		return func() error {
			cseq++
			msg := fmt.Sprintf("REGISTER sip:%s SIP/2.0\r\n"+
				"Via: SIP/2.0/UDP %s;branch=z9hG4bK-b%d-%d;keep\r\n"+
				"From: <sip:user%d@127.0.0.1>;tag=b%d\r\n"+
				"To: <sip:user%d@127.0.0.1>\r\n"+
				"Call-ID: bench-%d@127.0.0.1\r\n"+
				"CSeq: %d REGISTER\r\n"+
				"Contact: <sip:user%d@%s>\r\n"+
				"Expires: 300\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
				addr, local, i, cseq, i, i, i, i, cseq, i, local)
			if _, err := c.Write([]byte(msg)); err != nil {
				return err
			}
			for {
				c.SetReadDeadline(time.Now().Add(2 * time.Second))
				n, err := c.Read(buf)
				if err != nil {
					return err
				}
				// Skip a stray retransmission answer of an earlier CSeq.
				if bytes.HasPrefix(buf[:n], []byte("SIP/2.0 200")) && bytes.Contains(buf[:n], []byte(fmt.Sprintf("CSeq: %d REGISTER", cseq))) {
					return nil
				}
			}
		}, func() { c.Close() }
	})
}

func benchSTUN(b *testing.B, p *proc, addr string) {
	closedLoop(b, p, "stun", func(int) (func() error, func()) {
		c, err := net.Dial("udp", addr)
		if err != nil {
			b.Fatal(err)
		}
		buf := make([]byte, 1500)
		return func() error {
			req := stun.MustBuild(stun.TransactionID, stun.BindingRequest)
			if _, err := c.Write(req.Raw); err != nil {
				return err
			}
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			n, err := c.Read(buf)
			if err != nil {
				return err
			}
			res := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
			if err := res.Decode(); err != nil {
				return err
			}
			if res.Type != stun.BindingSuccess || res.TransactionID != req.TransactionID {
				return fmt.Errorf("unexpected %v", res.Type)
			}
			return nil
		}, func() { c.Close() }
	})
}

func benchCRLF(b *testing.B, p *proc, addr string) {
	closedLoop(b, p, "pings", func(int) (func() error, func()) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		buf := make([]byte, 2)
		return func() error {
			if _, err := c.Write([]byte("\r\n\r\n")); err != nil {
				return err
			}
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			if _, err := c.Read(buf[:2]); err != nil {
				return err
			}
			if string(buf) != "\r\n" {
				return fmt.Errorf("pong %q", buf)
			}
			return nil
		}, func() { c.Close() }
	})
}

// procCPU is the user+system CPU time the process has used (/proc/PID/stat,
// in clock ticks of 10 ms).
func procCPU(b *testing.B, p *proc) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		b.Skipf("no /proc: %v", err)
	}
	f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}
