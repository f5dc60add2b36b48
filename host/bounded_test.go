package host

import (
	"context"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/internal/wasmbin"
)

// A module whose _initialize never returns is refused (bounded by the init
// timeout through the watchdog and the fuel), while calls keep being served
// by the old module and the swap lock stays free; the GC percent is what it
// was before.
func TestSwap_InitializeNeverReturnsIsRefused(t *testing.T) {
	before := debug.SetGCPercent(137)
	defer debug.SetGCPercent(before)

	good := readFile(t, fixture(t, "good"))
	// A generous call timeout: what is checked is that calls are served,
	// not how fast on a shared machine.
	h := newHost(t, WithModuleBytes(good), WithPoolSize(2), WithInitTimeout(300*time.Millisecond), WithCallTimeout(2*time.Second))
	ctx := context.Background()

	done := make(chan error, 1)
	go func() { done <- h.Swap(ctx, readFile(t, fixture(t, "initloop"))) }()
	// The candidate is loading once loadSem is taken.
	for len(h.loadSem) == 0 {
		select {
		case err := <-done:
			t.Fatalf("swap ended before it was observed loading: %v", err)
		default:
		}
		time.Sleep(time.Millisecond)
	}
	// Publication state stays readable during the load: swapMu is free.
	_ = h.History()
	var calls int
	var swapErr error
	for loading := true; loading; {
		select {
		case swapErr = <-done:
			loading = false
		default:
		}
		res := h.Handle(ctx, reqEvent(flowN(calls%4), registerMsg))
		if res.FailedOpen || !res.Entered {
			t.Fatalf("call %d during the swap: entered %v, err %v", calls, res.Entered, res.Err)
		}
		calls++
	}
	if swapErr == nil {
		t.Fatal("a module whose _initialize never returns was swapped in")
	}
	msg := swapErr.Error()
	if !strings.Contains(msg, abi.ExportInitialize) || !(strings.Contains(msg, "deadline") || strings.Contains(msg, "fuel")) {
		t.Fatalf("refusal does not say the initialiser overran: %v", swapErr)
	}
	if g := h.Generation().Number; g != 1 {
		t.Fatalf("generation %d after a refused swap", g)
	}
	if hist := h.History(); len(hist) != 1 || hist[0].Err == "" {
		t.Fatalf("history = %+v", hist)
	}
	if got := debug.SetGCPercent(137); got != 137 {
		t.Fatalf("GC percent after the swap = %d, want 137 (restored)", got)
	}
	t.Logf("%d calls served by the old module during the refused swap: %v", calls, swapErr)
}

// New refuses the same module: nothing is left running.
func TestNew_InitializeNeverReturnsIsRefused(t *testing.T) {
	_, err := New(context.Background(), WithModuleFile(fixture(t, "initloop")), WithCompilationCacheDir(cacheDir),
		WithLogger(quietLogger()), WithInitTimeout(200*time.Millisecond))
	if err == nil || !strings.Contains(err.Error(), abi.ExportInitialize) {
		t.Fatalf("New = %v, want a refusal naming %s", err, abi.ExportInitialize)
	}
}

// module assembles a minimal wasm module: one func type () -> (), one
// function with body code (locals count 0, then code, then end), exported
// as "f"; start adds a start section naming it.
func module(code []byte, start bool) []byte {
	b := append([]byte(nil), wasmbin.Magic...)
	b = wasmbin.AppendSection(b, 1, []byte{1, 0x60, 0, 0})      // type: () -> ()
	b = wasmbin.AppendSection(b, 3, []byte{1, 0})               // func 0: type 0
	b = wasmbin.AppendSection(b, 7, []byte{1, 1, 'f', 0x00, 0}) // export "f" func 0
	if start {
		b = wasmbin.AppendSection(b, wasmbin.SecStart, []byte{0})
	}
	body := append([]byte{0}, code...)
	body = append(body, 0x0b)
	fn := append([]byte{byte(len(body))}, body...)
	return wasmbin.AppendSection(b, wasmbin.SecCode, append([]byte{1}, fn...))
}

// A module the loop instrumentation cannot decode (one SIMD opcode) is
// refused, never loaded without a bound.
func TestSwap_UninstrumentableModuleIsRefused(t *testing.T) {
	h := newHost(t, WithModuleBytes(readFile(t, fixture(t, "good"))))
	simd := append([]byte{0xfd, 0x0c}, make([]byte, 16)...) // v128.const 0
	simd = append(simd, 0x1a)                               // drop
	err := h.Swap(context.Background(), module(simd, false))
	if err == nil || !strings.Contains(err.Error(), "cannot bound its loops") {
		t.Fatalf("Swap(SIMD module) = %v, want a refusal for the loop instrumentation", err)
	}
	if g := h.Generation().Number; g != 1 {
		t.Fatalf("generation %d", g)
	}
}

// A wasm start function would run inside instantiation, before the
// watchdog can see the instance: refused.
func TestSwap_StartFunctionIsRefused(t *testing.T) {
	h := newHost(t, WithModuleBytes(readFile(t, fixture(t, "good"))))
	loop := []byte{0x03, 0x40, 0x0c, 0x00, 0x0b} // loop; br 0; end
	err := h.Swap(context.Background(), module(loop, true))
	if err == nil || !strings.Contains(err.Error(), "start function") {
		t.Fatalf("Swap(module with start) = %v, want a refusal for its start function", err)
	}
}

// Close does not wait for a candidate being loaded beyond its bound, and
// the candidate is not published after Close.
func TestClose_DuringSlowSwap(t *testing.T) {
	h, err := New(context.Background(), WithModuleBytes(readFile(t, fixture(t, "good"))), WithCompilationCacheDir(cacheDir),
		WithLogger(quietLogger()), WithInitTimeout(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- h.Swap(context.Background(), readFile(t, fixture(t, "initloop"))) }()
	for len(h.loadSem) == 0 {
		time.Sleep(time.Millisecond)
	}
	if err := h.Close(context.Background()); err != nil {
		t.Fatalf("Close during a swap: %v", err)
	}
	if err := <-done; err == nil {
		t.Fatal("swap succeeded across Close")
	}
	if h.gen.Load() != nil {
		t.Fatal("a generation was published after Close")
	}
}

// The GC hold restores exactly the percent in force before it, lets a value
// set during the hold win, and ends at its bound when nobody releases it.
func TestGCHold_RestoresAndIsBounded(t *testing.T) {
	before := debug.SetGCPercent(55)
	defer debug.SetGCPercent(before)

	release := holdGC(time.Hour)
	inner := holdGC(time.Hour)
	if got := debug.SetGCPercent(-1); got != -1 {
		t.Fatalf("during the hold the GC percent is %d, want -1", got)
	}
	inner()
	inner() // twice: no effect
	if got := debug.SetGCPercent(-1); got != -1 {
		t.Fatalf("after an inner release the GC percent is %d, want -1 (outer still held)", got)
	}
	release()
	if got := debug.SetGCPercent(55); got != 55 {
		t.Fatalf("after release: %d, want 55", got)
	}

	// The program sets its own value during a hold: it stays.
	release = holdGC(time.Hour)
	debug.SetGCPercent(80)
	release()
	if got := debug.SetGCPercent(55); got != 80 {
		t.Fatalf("after a hold during which the program set 80: %d", got)
	}

	// Never released: the bound ends it; the late release changes nothing.
	stale := holdGC(10 * time.Millisecond)
	var restored atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 2000 {
			gcHold.mu.Lock()
			n := gcHold.n
			gcHold.mu.Unlock()
			if n == 0 {
				restored.Store(true)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	wg.Wait()
	if !restored.Load() {
		t.Fatal("an unreleased hold never ended")
	}
	if got := debug.SetGCPercent(55); got != 55 {
		t.Fatalf("after the bound: %d, want 55", got)
	}
	next := holdGC(time.Hour)
	stale() // from the ended period: must not end this one
	if got := debug.SetGCPercent(-1); got != -1 {
		t.Fatalf("a stale release ended a new hold (GC percent %d)", got)
	}
	next()
	if got := debug.SetGCPercent(55); got != 55 {
		t.Fatalf("after the new hold: %d, want 55", got)
	}
}

// WithoutGCHold never touches the GC percent.
func TestWithoutGCHold(t *testing.T) {
	before := debug.SetGCPercent(91)
	defer debug.SetGCPercent(before)
	gcHold.mu.Lock()
	epoch := gcHold.epoch // bumped at the end of every hold
	gcHold.mu.Unlock()
	h := newHost(t, WithModuleBytes(readFile(t, fixture(t, "good"))), WithoutGCHold())
	for range 3 {
		if err := h.Swap(context.Background(), readFile(t, fixture(t, "good"))); err != nil {
			t.Fatal(err)
		}
	}
	gcHold.mu.Lock()
	held := gcHold.epoch != epoch || gcHold.n != 0
	gcHold.mu.Unlock()
	if held {
		t.Fatal("the GC was held with WithoutGCHold")
	}
	if got := debug.SetGCPercent(91); got != 91 {
		t.Fatalf("GC percent %d, want 91", got)
	}
}
