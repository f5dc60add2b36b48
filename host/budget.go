package host

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// crashBudget counts a generation's failures (traps, timeouts, bad
// outputs, failed instance starts); n of them within per spend it.
type crashBudget struct {
	mu    sync.Mutex
	n     int
	per   time.Duration
	times []time.Time // ring of the last n failures
	next  int
	spent atomic.Bool
}

func (b *crashBudget) init(n int, per time.Duration) {
	b.n, b.per, b.times = n, per, make([]time.Time, 0, n)
}

// add records a failure and reports whether it spent the budget just now.
func (b *crashBudget) add(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.spent.Load() {
		return false
	}
	if len(b.times) < b.n {
		b.times = append(b.times, now)
	} else {
		b.times[b.next] = now
		b.next = (b.next + 1) % b.n
	}
	if len(b.times) < b.n {
		return false
	}
	oldest := b.times[b.next%len(b.times)]
	if now.Sub(oldest) <= b.per {
		b.spent.Store(true)
		return true
	}
	return false
}

// noteFailure charges the generation's crash budget and, when it is
// spent, applies the failure policy.
func (g *generation) noteFailure() {
	if !g.budget.add(time.Now()) {
		return
	}
	h := g.h
	h.log.Error("sipkeep host: plugin crash budget spent", "generation", g.info.Number,
		"budget", g.budget.n, "per", g.budget.per, "policy", h.opt.failure.String())
	if h.opt.failure == FailReload && h.gen.Load() == g {
		// Not after Close has started: it waits for h.bg and the goroutine
		// would outlive it (a bare bg.Add racing bg.Wait is a WaitGroup misuse).
		h.spawn(func() { h.reloadWithBackoff(g) })
	}
}

// reloadWithBackoff reloads the module from its source until a generation
// newer than dead serves, or the host closes.
func (h *Host) reloadWithBackoff(dead *generation) {
	d := 100 * time.Millisecond
	for {
		if h.closed.Load() || h.gen.Load() != dead {
			return
		}
		err := h.swap(context.Background(), dead.src, "crash-reload")
		if err == nil {
			return
		}
		h.log.Error("sipkeep host: reload after crashes failed", "err", err, "retry_in", d)
		select {
		case <-h.stopCh:
			return
		case <-time.After(d):
		}
		d = min(2*d, 30*time.Second)
	}
}

func (p FailurePolicy) String() string {
	switch p {
	case FailOpen:
		return "fail-open"
	case FailClosed:
		return "fail-closed"
	case FailReload:
		return "fail-reload"
	}
	return "unknown"
}
