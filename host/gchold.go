package host

import (
	"runtime/debug"
	"sync"
)

// A garbage collection cannot stop the world while a goroutine is inside
// compiled wasm code: wazero's native code has no preemption points. The
// longest such call is a new instance's _initialize (the Go guest's runtime
// start, a few ms); a GC cycle that begins meanwhile holds every other
// goroutine — SIP callers included — until it returns. Measured on the swap
// benchmark: worst caller pause 0.3–4.6 ms with the GC on, 0.07–0.11 ms
// with it off. So the GC is held off while a generation is prepared (its
// compile, _initialize, typed Configure, prewarmed instances) and while a
// pool instantiates a new instance, and released right after; the heap
// then grows by the preparation's transient allocations (~50 MB for the
// sipkeep plugin) before one collection. Hot-path calls (a few µs) never
// need this.
var gcHold struct {
	mu   sync.Mutex
	n    int
	prev int
}

// holdGC keeps the garbage collector from starting until the returned
// function is called. Nested and concurrent holds share one hold; the
// previous GC percent is restored when the last one ends. A memory limit
// (GOMEMLIMIT) still triggers collection.
func holdGC() (release func()) {
	gcHold.mu.Lock()
	if gcHold.n == 0 {
		gcHold.prev = debug.SetGCPercent(-1)
	}
	gcHold.n++
	gcHold.mu.Unlock()
	return func() {
		gcHold.mu.Lock()
		gcHold.n--
		if gcHold.n == 0 {
			debug.SetGCPercent(gcHold.prev)
		}
		gcHold.mu.Unlock()
	}
}
