package host

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// timers is the flow timer scheduler: one deadline per flow (a new deadline
// moves it, a cancel removes it, so nothing stale accumulates), one
// goroutine that sleeps until the earliest one, and a few workers that run
// on_timer for due flows.
//
// The deadlines live in a schedule: the Host's own MemStore when it has one
// (per-shard heaps whose items point at the flows' entries, no index of
// their own, no global lock: see store.go), otherwise a keyHeap (one
// indexed min-heap keyed by the packed flow) for any other Store.
type timers struct {
	h *Host
	s schedule
	// mem is the MemStore the schedule was claimed from (released on close).
	mem *MemStore

	// wakeAt is the deadline the scheduler sleeps until (Unix ms); a set
	// earlier than it wakes the scheduler. MaxInt64 while it scans.
	wakeAt atomic.Int64
	wake   chan struct{}
	stop   chan struct{}
	work   chan flowKey
	wg     sync.WaitGroup
}

// schedule keeps the deadlines (Unix ms) of flows.
type schedule interface {
	// set schedules or moves k's deadline; first reports that it became
	// the earliest of its heap.
	set(k flowKey, when int64) (first bool)
	cancel(k flowKey)
	deadline(k flowKey) (int64, bool)
	count() int
	// due pops up to limit deadlines <= now into dst (from is a rotating
	// start so no part of the schedule starves) and returns the earliest
	// deadline left, MaxInt64 if none.
	due(now int64, dst []flowKey, limit, from int) ([]flowKey, int64)
}

func newTimers(h *Host) *timers {
	t := &timers{
		h:    h,
		wake: make(chan struct{}, 1),
		stop: make(chan struct{}),
		work: make(chan flowKey, 1024),
	}
	if m, ok := h.store.(*MemStore); ok && m.claimTimers() {
		t.s, t.mem = m, m
	} else {
		t.s = newKeyHeap()
	}
	return t
}

// set schedules (or moves) the flow's timer to when (Unix ms).
func (t *timers) set(f Flow, when int64) {
	k := keyOf(f)
	if t.s.set(k, when) && when < t.wakeAt.Load() {
		t.poke()
	}
}

// cancel removes the flow's timer, if any.
func (t *timers) cancel(f Flow) {
	k := keyOf(f)
	t.s.cancel(k)
}

func (t *timers) len() int { return t.s.count() }

// deadline returns the flow's pending deadline (tests).
func (t *timers) deadline(f Flow) (int64, bool) {
	k := keyOf(f)
	return t.s.deadline(k)
}

func (t *timers) poke() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// run is the scheduler goroutine; it returns after close, once its
// workers are done, and gives the MemStore's timers back (another Host may
// then use the store).
func (t *timers) run() {
	if t.mem != nil {
		defer t.mem.releaseTimers()
	}
	workers := max(1, t.h.opt.poolSize)
	for range workers {
		t.wg.Add(1)
		go t.worker()
	}
	defer func() { close(t.work); t.wg.Wait() }()
	sleep := time.NewTimer(time.Hour)
	defer sleep.Stop()
	due := make([]flowKey, 0, 256)
	from := 0
	for {
		// Any set from here on pokes: a deadline earlier than what this
		// scan finds is never missed.
		t.wakeAt.Store(math.MaxInt64)
		now := t.h.opt.clock().UnixMilli()
		var next int64
		due, next = t.s.due(now, due[:0], cap(due), from)
		from++
		if len(due) > 0 {
			for _, k := range due {
				select {
				case t.work <- k:
				case <-t.stop:
					return
				}
			}
			continue
		}
		wait := time.Hour
		if next != math.MaxInt64 {
			wait = time.Duration(next-now) * time.Millisecond
		}
		t.wakeAt.Store(next)
		sleep.Reset(wait)
		select {
		case <-t.stop:
			return
		case <-t.wake:
		case <-sleep.C:
		}
	}
}

func (t *timers) worker() {
	defer t.wg.Done()
	ctx := context.Background()
	for k := range t.work {
		t.h.Timer(ctx, k.flow())
	}
}

func (t *timers) close() { close(t.stop) }

// keyHeap is the schedule for a Store other than the Host's MemStore: an
// indexed min-heap of packed flows under one mutex.
type keyHeap struct {
	mu    sync.Mutex
	heap  []timerItem
	index map[flowKey]int32
	n     atomic.Int64
}

type timerItem struct {
	when int64 // Unix ms
	key  flowKey
}

func newKeyHeap() *keyHeap { return &keyHeap{index: make(map[flowKey]int32)} }

func (t *keyHeap) set(key flowKey, when int64) bool {
	k := &key
	t.mu.Lock()
	defer t.mu.Unlock()
	if i, ok := t.index[*k]; ok {
		old := t.heap[i].when
		t.heap[i].when = when
		if when < old {
			t.up(int(i))
		} else {
			t.down(int(i))
		}
	} else {
		t.heap = append(t.heap, timerItem{when: when, key: *k})
		i := len(t.heap) - 1
		t.index[*k] = int32(i)
		t.up(i)
		t.n.Add(1)
	}
	return t.heap[0].key == *k
}

func (t *keyHeap) cancel(k flowKey) {
	t.mu.Lock()
	if i, ok := t.index[k]; ok {
		t.removeAt(int(i))
	}
	t.mu.Unlock()
}

func (t *keyHeap) deadline(k flowKey) (int64, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if i, ok := t.index[k]; ok {
		return t.heap[i].when, true
	}
	return 0, false
}

func (t *keyHeap) count() int { return int(t.n.Load()) }

func (t *keyHeap) due(now int64, dst []flowKey, limit, _ int) ([]flowKey, int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for len(t.heap) > 0 && t.heap[0].when <= now && len(dst) < limit {
		dst = append(dst, t.heap[0].key)
		t.removeAt(0)
	}
	if len(t.heap) == 0 {
		return dst, math.MaxInt64
	}
	return dst, t.heap[0].when
}

// Heap operations; the caller holds mu.

func (t *keyHeap) less(i, j int) bool { return t.heap[i].when < t.heap[j].when }

func (t *keyHeap) swap(i, j int) {
	t.heap[i], t.heap[j] = t.heap[j], t.heap[i]
	t.index[t.heap[i].key] = int32(i)
	t.index[t.heap[j].key] = int32(j)
}

func (t *keyHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !t.less(i, p) {
			return
		}
		t.swap(i, p)
		i = p
	}
}

func (t *keyHeap) down(i int) {
	n := len(t.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && t.less(r, l) {
			m = r
		}
		if !t.less(m, i) {
			return
		}
		t.swap(i, m)
		i = m
	}
}

func (t *keyHeap) removeAt(i int) {
	last := len(t.heap) - 1
	delete(t.index, t.heap[i].key)
	if i != last {
		t.heap[i] = t.heap[last]
		t.index[t.heap[i].key] = int32(i)
	}
	t.heap = t.heap[:last]
	t.n.Add(-1)
	if i < last {
		t.down(i)
		t.up(i)
	}
}
