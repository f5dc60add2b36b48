package host

import (
	"runtime/debug"
	"sync"
	"time"
)

// A garbage collection cannot stop the world while a goroutine is inside
// compiled wasm code: wazero's native code has no preemption points. The
// longest such call is a new instance's _initialize (the Go guest's runtime
// start, a few ms); a GC cycle that begins meanwhile holds every other
// goroutine — SIP callers included — until it returns. Measured on the swap
// benchmark: worst caller pause 0.3–4.6 ms with the GC on, 0.07–0.11 ms
// with it off. So the GC is held off while an instance is started
// (instantiate, _initialize, facts, Configure) and released right after.
// Hot-path calls (a few µs) never need this.
//
// The setting is process-wide, so the hold is careful with it: it lasts at
// most maxHold however long the guest runs (then the GC percent is restored
// even while the hold is nominally on: a guest step that long is about to be
// interrupted anyway), the value restored is exactly the one in force when
// the hold began, and a value the program sets during the hold wins over
// it. WithoutGCHold turns the hold off for programs that manage the GC
// themselves.
var gcHold struct {
	mu    sync.Mutex
	n     int         // holds taken in the current period
	prev  int         // the GC percent before the period began
	epoch uint64      // bumped when a period ends; stale releases do nothing
	timer *time.Timer // ends the period at its bound
}

// holdGC keeps the garbage collector from starting until the returned
// function is called, or for at most maxHold. Nested and concurrent holds
// share one period that lasts until the last is released or the first one's
// bound passes. A memory limit (GOMEMLIMIT) still triggers collection.
func holdGC(maxHold time.Duration) (release func()) {
	gcHold.mu.Lock()
	if gcHold.n == 0 {
		gcHold.prev = debug.SetGCPercent(-1)
		e := gcHold.epoch
		gcHold.timer = time.AfterFunc(maxHold, func() { endGCHold(e) })
	}
	gcHold.n++
	e := gcHold.epoch
	gcHold.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			gcHold.mu.Lock()
			defer gcHold.mu.Unlock()
			if e != gcHold.epoch {
				return // the period already ended at its bound
			}
			gcHold.n--
			if gcHold.n == 0 {
				gcHold.timer.Stop()
				restoreGCLocked()
			}
		})
	}
}

// endGCHold ends period e at its bound, whoever still holds it.
func endGCHold(e uint64) {
	gcHold.mu.Lock()
	defer gcHold.mu.Unlock()
	if e == gcHold.epoch && gcHold.n > 0 {
		restoreGCLocked()
	}
}

// restoreGCLocked puts back the GC percent the period began with, unless
// the program set its own meanwhile (then that stays), and ends the period.
func restoreGCLocked() {
	if cur := debug.SetGCPercent(gcHold.prev); cur != -1 {
		debug.SetGCPercent(cur) // set during the hold by someone else: theirs wins
	}
	gcHold.n = 0
	gcHold.epoch++
}
