package host

import (
	"sync"
	"time"
)

// hostEpoch anchors monotonic(): instance start times are int64 ns since it.
var hostEpoch = time.Now()

func monotonic() int64 { return int64(time.Since(hostEpoch)) + 1 } // never 0: 0 means idle

// watchdog is one goroutine that looks at the start time of every guest
// step in flight every few ms and interrupts the ones that overran their
// deadline: the call timeout for hot-path calls, the init timeout for the
// steps of starting an instance (instance.step). A call pays two atomic stores for it; nothing per call is
// spawned or allocated (unlike wazero's WithCloseOnContextDone, which starts
// a goroutine per call and exits to Go at every loop iteration).
type watchdog struct {
	timeout time.Duration
	mu      sync.Mutex
	set     map[*instance]struct{}
	stop    chan struct{}
	onFire  func(*instance, time.Duration)
}

func newWatchdog(timeout time.Duration, onFire func(*instance, time.Duration)) *watchdog {
	return &watchdog{timeout: timeout, set: make(map[*instance]struct{}), stop: make(chan struct{}), onFire: onFire}
}

func (w *watchdog) add(in *instance) {
	w.mu.Lock()
	w.set[in] = struct{}{}
	w.mu.Unlock()
}

func (w *watchdog) remove(in *instance) {
	w.mu.Lock()
	delete(w.set, in)
	w.mu.Unlock()
}

func (w *watchdog) run() {
	tick := min(max(w.timeout/4, time.Millisecond), 10*time.Millisecond)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
		}
		now := monotonic()
		w.mu.Lock()
		for in := range w.set {
			s := in.start.Load()
			limit := in.limit.Load()
			if limit == 0 {
				limit = int64(w.timeout)
			}
			// The CAS makes the verdict exclusive: either the call ended
			// first (and keeps its result) or it sees -1 and is discarded.
			if s > 0 && now-s > limit && in.start.CompareAndSwap(s, -1) {
				if w.onFire != nil {
					w.onFire(in, time.Duration(limit))
				}
				s = -1
			}
			if s == -1 && in.fuel != nil {
				// Empty the fuel: the instrumented loop back edges trap at the
				// next iteration. Repeated every tick because the guest's
				// own decrement may overwrite one store.
				in.fuel.Set(outOfFuel)
			}
		}
		w.mu.Unlock()
	}
}

const outOfFuel = uint64(1<<63 | 1<<40) // negative as an i64

func (w *watchdog) close() { close(w.stop) }
