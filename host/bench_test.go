package host

import (
	"context"
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
		{"wasm-uninstrumented", []Option{WithModuleFile(testwasm.Path(b)), WithoutInterrupt()}},
		{"native", []Option{WithNativeGuest(nativeKeep)}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			h := newHost(b, append(tc.opts, WithoutTimers())...)
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
	h := newHost(b, WithModuleFile(testwasm.Path(b)), WithoutTimers())
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
	h := newHost(b, WithModuleFile(testwasm.Path(b)), WithoutTimers())
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
	h := newHost(b, WithModuleFile(testwasm.Path(b)), WithoutTimers())
	ev := reqEvent(flowN(1), registerMsg)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		h.Handle(ctx, ev)
	}
}

func BenchmarkHandleParallel(b *testing.B) {
	h := newHost(b, WithModuleFile(testwasm.Path(b)), WithoutTimers())
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
	h := newHost(b, WithModuleBytes(wasm), WithoutTimers(), WithPoolSize(2))
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

// timerGuest is a minimal native guest for the scheduler benchmarks: a
// message stores a 40-byte record with a deadline of "now"; on_timer
// deletes the record.
type timerGuest struct {
	in  [abi.MinInputCapacity]byte
	out [abi.MinOutputCapacity]byte
	inp abi.Input
}

func (g *timerGuest) InputBuffer() []byte  { return g.in[:] }
func (g *timerGuest) OutputBuffer() []byte { return g.out[:] }
func (g *timerGuest) OnRequest(n int32) int32 {
	abi.DecodeInput(g.in[:n], &g.inp)
	h := abi.OutputHeader{Flags: abi.OutRecordChanged, RecordLen: 40, Deadline: g.inp.Now}
	abi.PutOutputHeader(g.out[:], &h)
	return int32(abi.OutputSize(&h))
}
func (g *timerGuest) OnResponse(n int32) int32 { return g.OnRequest(n) }
func (g *timerGuest) OnTimer(n int32) int32 {
	h := abi.OutputHeader{Flags: abi.OutRecordDelete}
	abi.PutOutputHeader(g.out[:], &h)
	return abi.OutputHeaderSize
}

// Bytes per idle flow (a 40-byte record in the MemStore plus a pending
// timer), measured over 1M flows.
func BenchmarkIdleFlowMemory(b *testing.B) {
	const n = 1 << 20
	for range b.N {
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		s := NewMemStore()
		t := newTimers(&Host{opt: defaultOptions()})
		rec := make([]byte, 40)
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
		b.ReportMetric(float64(m1.HeapAlloc-m0.HeapAlloc)/n, "bytes/flow")
		runtime.KeepAlive(s)
		runtime.KeepAlive(t)
	}
}

// CPU to fire one deadline end to end: scheduler, worker, flow lock,
// store, on_timer (native), delete. 33k deadlines/s cost 33k x this.
func BenchmarkTimerFire(b *testing.B) {
	h := newHost(b, WithNativeGuest(func() (abi.Guest, proto.Control) { return &timerGuest{}, nil }))
	ctx := context.Background()
	h.tim.mu.Lock() // hold the scheduler while flows are loaded
	past := h.opt.clock().Add(-time.Second).UnixMilli()
	for i := range b.N {
		f := manyFlow(i)
		h.store.Put(f, make([]byte, 40))
		k := keyOf(f)
		h.tim.heap = append(h.tim.heap, timerItem{when: past, key: k})
		h.tim.index[k] = int32(len(h.tim.heap) - 1)
	}
	h.tim.mu.Unlock()
	_ = ctx
	b.ResetTimer()
	h.tim.poke()
	for h.Flows() > 0 {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	if h.tim.len() != 0 {
		b.Fatalf("%d timers left", h.tim.len())
	}
}

// manyFlow gives a distinct flow for every i < 2^32.
func manyFlow(i int) Flow {
	f := flowN(0)
	f.Remote = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), uint16(5060+i>>24))
	return f
}
