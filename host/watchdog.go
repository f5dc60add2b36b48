package host

import (
	"sync"
	"time"
)

// hostEpoch anchors monotonic(): instance start times are int64 ns since it.
var hostEpoch = time.Now()

func monotonic() int64 { return int64(time.Since(hostEpoch)) + 1 } // never 0: 0 means idle

// watchdog is one goroutine that looks at the start time of every call in
// flight every few ms and interrupts the ones that overran the call
// timeout. A call pays two atomic stores for it; nothing per call is
// spawned or allocated (unlike wazero's WithCloseOnContextDone, which starts
// a goroutine per call and exits to Go at every loop iteration).
type watchdog struct {
	timeout time.Duration
	mu      sync.Mutex
	set     map[*instance]struct{}
	stop    chan struct{}
	onFire  func(*instance)
}

func newWatchdog(timeout time.Duration, onFire func(*instance)) *watchdog {
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
	limit := int64(w.timeout)
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
			// The CAS makes the verdict exclusive: either the call ended
			// first (and keeps its result) or it sees -1 and is discarded.
			if s > 0 && now-s > limit && in.start.CompareAndSwap(s, -1) {
				if w.onFire != nil {
					w.onFire(in)
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
