package host

import (
	"context"
	"fmt"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/abi/proto"
	"github.com/sipkeep/sipkeep/internal/testwasm"
)

// Host call overhead: the same call through the raw ABI on wasm (with and
// without the fuel instrumentation) and natively.
func BenchmarkCall(b *testing.B) {
	for _, tc := range []struct {
		name string
		opts []Option
	}{
		{"wasm", []Option{WithModuleFile(testwasm.Path(b))}},
		{"wasm-uninstrumented", []Option{WithModuleFile(testwasm.Path(b)), withoutInterrupt()}},
		{"wasm-as-built", []Option{WithModuleFile(testwasm.Path(b)), withoutDirectJumps()}},
		{"native", []Option{WithNativeGuest(nativeKeep)}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			h := benchHost(b, append(tc.opts, WithoutTimers())...)
			ev := reqEvent(flowN(1), registerMsg)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if r := h.Call(ctx, &ev, nil); r.FailedOpen {
					b.Fatal(r.Err)
				}
			}
		})
	}
}

// The go-plugin typed path (protobuf, guest malloc/free) for the same
// instance: what a hot path would cost if it were a typed call.
func BenchmarkTypedCall(b *testing.B) {
	h := benchHost(b, WithModuleFile(testwasm.Path(b)), WithoutTimers())
	ctx := context.Background()
	g := h.acquire()
	defer g.release()
	in, err := g.pool.get(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer g.pool.put(in)
	req := &proto.ConfigureRequest{Policy: &proto.Policy{}}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := in.ctl.Configure(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// Handle on a message the plugin cannot care about (no record, no keep,
// not a sender method): the guest is not entered. Target <= 0.3 µs.
func BenchmarkFastPath(b *testing.B) {
	h := benchHost(b, WithModuleFile(testwasm.Path(b)), WithoutTimers())
	ev := reqEvent(flowN(1), optionsMsg)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if r := h.Handle(ctx, ev); r.Entered {
			b.Fatal("entered")
		}
	}
}

// Handle through the store on a message that enters the guest.
func BenchmarkHandle(b *testing.B) {
	h := benchHost(b, WithModuleFile(testwasm.Path(b)), WithoutTimers())
	ev := reqEvent(flowN(1), registerMsg)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		h.Handle(ctx, ev)
	}
}

func BenchmarkHandleParallel(b *testing.B) {
	h := benchHost(b, WithModuleFile(testwasm.Path(b)), WithoutTimers())
	ctx := context.Background()
	var id atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ev := reqEvent(flowN(int(id.Add(1))), registerMsg)
		for pb.Next() {
			h.Handle(ctx, ev)
		}
	})
}

// Swap latency with a warm compilation cache (compile, validate,
// instantiate, configure, publish), and the worst pause a caller sees
// while swaps happen (reported as max-pause-µs).
func BenchmarkSwap(b *testing.B) {
	wasm := readFile(b, testwasm.Path(b))
	h := benchHost(b, WithModuleBytes(wasm), WithoutTimers(), WithPoolSize(2))
	ctx := context.Background()
	if err := h.Swap(ctx, wasm); err != nil { // warm the cache
		b.Fatal(err)
	}
	var stop atomic.Bool
	var worst atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ev := reqEvent(flowN(1), registerMsg)
		for !stop.Load() {
			t0 := time.Now()
			h.Call(ctx, &ev, nil)
			if d := int64(time.Since(t0)); d > worst.Load() {
				worst.Store(d)
			}
			time.Sleep(50 * time.Microsecond)
		}
	}()
	time.Sleep(10 * time.Millisecond)
	worst.Store(0)
	b.ResetTimer()
	for range b.N {
		if err := h.Swap(ctx, wasm); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	stop.Store(true)
	wg.Wait()
	b.ReportMetric(float64(worst.Load())/1e3, "max-pause-µs")
}

// Host memory per idle flow over 1M flows: a record in the MemStore plus a
// pending timer, as a Host keeps them. Reported: bytes/flow (all of it) and
// overhead-B/flow (less the record bytes themselves). Records: 40 bytes
// (the old measurement) and 110 bytes (plugin/keep's record with one
// binding: 84 + 26, a registered UA).
func BenchmarkIdleFlowMemory(b *testing.B) {
	for _, recLen := range []int{40, 110} {
		b.Run(fmt.Sprintf("rec=%d", recLen), func(b *testing.B) {
			const n = 1 << 20
			for range b.N {
				s, t, per := loadIdleFlows(b, n, recLen)
				b.ReportMetric(per, "bytes/flow")
				b.ReportMetric(per-float64(recLen), "overhead-B/flow")
				runtime.KeepAlive(s)
				runtime.KeepAlive(t)
			}
		})
	}
}

// loadIdleFlows stores n flows with a record of recLen bytes and a pending
// timer each, and returns the heap bytes this took per flow.
func loadIdleFlows(b *testing.B, n, recLen int) (*MemStore, *timers, float64) {
	b.Helper()
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	s := NewMemStore()
	t := newTimers(&Host{opt: defaultOptions(), store: s})
	if t.mem != s {
		b.Fatal("the timers did not take the MemStore as their schedule")
	}
	rec := make([]byte, recLen)
	for i := range n {
		f := manyFlow(i)
		s.Put(f, rec)
		t.set(f, int64(i))
	}
	runtime.GC()
	runtime.ReadMemStats(&m1)
	if s.Len() != n || t.len() != n {
		b.Fatal(s.Len(), t.len())
	}
	return s, t, float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc)) / float64(n)
}

// timerGuest is a minimal native guest for the scheduler benchmarks: a
// message stores a record of recLen bytes (40 if 0) with a deadline of
// "now"; on_timer deletes the record, or with rearm > 0 stores it again
// with a deadline rearm ms later (a keep-alive cycle).
type timerGuest struct {
	in     [abi.MinInputCapacity]byte
	out    [abi.MinOutputCapacity]byte
	inp    abi.Input
	recLen uint16
	rearm  int64
	fired  *atomic.Int64
}

func (g *timerGuest) InputBuffer() []byte  { return g.in[:] }
func (g *timerGuest) OutputBuffer() []byte { return g.out[:] }
func (g *timerGuest) OnRequest(n int32) int32 {
	abi.DecodeInput(g.in[:n], &g.inp)
	h := abi.OutputHeader{Flags: abi.OutRecordChanged, RecordLen: int(max(g.recLen, 40)), Deadline: g.inp.Now}
	abi.PutOutputHeader(g.out[:], &h)
	return int32(abi.OutputSize(&h))
}
func (g *timerGuest) OnResponse(n int32) int32 { return g.OnRequest(n) }
func (g *timerGuest) OnTimer(n int32) int32 {
	if g.fired != nil {
		g.fired.Add(1)
	}
	h := abi.OutputHeader{Flags: abi.OutRecordDelete}
	if g.rearm > 0 {
		abi.DecodeInput(g.in[:n], &g.inp)
		h = abi.OutputHeader{Flags: abi.OutRecordChanged, RecordLen: int(g.recLen), Deadline: g.inp.Now + g.rearm}
	}
	abi.PutOutputHeader(g.out[:], &h)
	return int32(abi.OutputSize(&h))
}

// Wall time to fire one deadline end to end: scheduler, worker, flow lock,
// store, on_timer (native), delete; b.N deadlines all due at once.
func BenchmarkTimerFire(b *testing.B) {
	h := benchHost(b, WithNativeGuest(func() (abi.Guest, proto.Control) { return &timerGuest{}, nil }), WithoutTimers())
	h.tim = newTimers(h) // not running yet: the flows are loaded first
	past := h.opt.clock().Add(-time.Second).UnixMilli()
	rec := make([]byte, 40)
	for i := range b.N {
		f := manyFlow(i)
		h.store.Put(f, rec)
		h.tim.set(f, past)
	}
	b.ResetTimer()
	done := make(chan struct{})
	go func() { defer close(done); h.tim.run() }()
	for h.Flows() > 0 {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	h.tim.close()
	<-done
	if n := h.tim.len(); n != 0 {
		b.Fatalf("%d timers left", n)
	}
	h.tim = nil // stopped: Close must not stop it again
}

// BenchmarkTimers1M is the scheduler at scale: 1M idle flows, each with a 110-byte
// record and a pending timer, and 33,333 deadlines/s coming due (1M flows
// with a 30 s keep-alive). Reported: bytes/flow and overhead-B/flow (host
// memory per flow, all of it and less the record), and the CPU the process
// spends to fire 33k deadlines in one second, as cpu-% of one core and
// cpu-ns/fire. A fire here runs the whole host path (scheduler, worker,
// flow lock, store read, on_timer, store write, re-arm) with a native
// on_timer that costs ~nothing; with the wasm plugin add 33k x
// BenchmarkCall/wasm.
func BenchmarkTimers1M(b *testing.B) {
	const (
		n      = 1_000_000
		perSec = 33_333
		recLen = 110
		rearm  = 30_000 // ms
	)
	if testing.Short() {
		b.Skip("1M flows")
	}
	var fired atomic.Int64
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	h := benchHost(b, WithNativeGuest(func() (abi.Guest, proto.Control) {
		return &timerGuest{recLen: recLen, rearm: rearm, fired: &fired}, nil
	}))
	runtime.GC()
	runtime.ReadMemStats(&m1)
	base := int64(m1.HeapAlloc) - int64(m0.HeapAlloc) // the host itself, no flows
	far := time.Now().Add(time.Hour).UnixMilli()
	rec := make([]byte, recLen)
	for i := range n {
		f := manyFlow(i)
		h.store.Put(f, rec)
		h.tim.set(f, far+int64(i%3_600_000))
	}
	runtime.GC()
	runtime.ReadMemStats(&m1)
	per := float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc)-base) / n
	if h.Flows() != n || h.tim.len() != n {
		b.Fatal(h.Flows(), h.tim.len())
	}
	var cpu, wall time.Duration
	next := 0
	b.ResetTimer()
	for range b.N {
		// 33,333 flows come due evenly over the next second.
		b.StopTimer()
		// Counted before the first is set: on a busy machine setting them
		// can take longer than the 20 ms lead, and the first then fire
		// before this loop ends.
		want := fired.Load() + perSec
		start := time.Now().Add(20 * time.Millisecond)
		for j := range perSec {
			h.tim.set(manyFlow(next%n), start.UnixMilli()+int64(j)*1000/perSec)
			next++
		}
		time.Sleep(time.Until(start))
		b.StartTimer()
		c0, t0 := processCPU(), time.Now()
		for fired.Load() < want {
			time.Sleep(time.Millisecond)
			if time.Since(t0) > 10*time.Second {
				b.Fatalf("after 10 s: fired %d of %d; timers %d, scheduler wakes at %d, now %d",
					fired.Load()-want+perSec, perSec, h.tim.len(), h.tim.wakeAt.Load(), time.Now().UnixMilli())
			}
		}
		cpu += processCPU() - c0
		wall += time.Since(t0)
	}
	b.StopTimer()
	if cpu < 0 {
		b.Skip("no process CPU time on this platform")
	}
	b.ReportMetric(per, "bytes/flow")
	b.ReportMetric(per-recLen, "overhead-B/flow")
	b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "cpu-%")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*perSec), "cpu-ns/fire")
	if h.Flows() != n || h.tim.len() != n {
		b.Fatalf("after firing: %d flows, %d timers", h.Flows(), h.tim.len())
	}
}

// manyFlow gives a distinct flow for every i < 2^32.
func manyFlow(i int) Flow {
	f := flowN(0)
	f.Remote = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), uint16(5060+i>>24))
	return f
}
