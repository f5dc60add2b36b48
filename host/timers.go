package host

import (
	"context"
	"sync"
	"time"
)

// timers is the flow timer scheduler: an indexed min-heap of deadlines
// (one entry per flow: a new deadline moves it, a cancel removes it, so
// nothing stale accumulates), one goroutine that sleeps until the earliest
// one, and a few workers that run on_timer for due flows. Flows are kept as
// packed keys (48 bytes a heap entry, ~50 an index entry).
type timers struct {
	h     *Host
	mu    sync.Mutex
	heap  []timerItem
	index map[flowKey]int32

	wake chan struct{}
	stop chan struct{}
	work chan flowKey
	wg   sync.WaitGroup
}

type timerItem struct {
	when int64 // Unix ms
	key  flowKey
}

func newTimers(h *Host) *timers {
	return &timers{
		h:     h,
		index: make(map[flowKey]int32),
		wake:  make(chan struct{}, 1),
		stop:  make(chan struct{}),
		work:  make(chan flowKey, 1024),
	}
}

// set schedules (or moves) the flow's timer to when (Unix ms).
func (t *timers) set(f Flow, when int64) {
	k := keyOf(f)
	t.mu.Lock()
	if i, ok := t.index[k]; ok {
		old := t.heap[i].when
		t.heap[i].when = when
		if when < old {
			t.up(int(i))
		} else {
			t.down(int(i))
		}
	} else {
		t.heap = append(t.heap, timerItem{when: when, key: k})
		i := len(t.heap) - 1
		t.index[k] = int32(i)
		t.up(i)
	}
	first := t.heap[0].key == k
	t.mu.Unlock()
	if first {
		t.poke()
	}
}

// cancel removes the flow's timer, if any.
func (t *timers) cancel(f Flow) {
	k := keyOf(f)
	t.mu.Lock()
	if i, ok := t.index[k]; ok {
		t.removeAt(int(i))
	}
	t.mu.Unlock()
}

func (t *timers) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.heap)
}

// deadline returns the flow's pending deadline (tests).
func (t *timers) deadline(f Flow) (int64, bool) {
	k := keyOf(f)
	t.mu.Lock()
	defer t.mu.Unlock()
	if i, ok := t.index[k]; ok {
		return t.heap[i].when, true
	}
	return 0, false
}

func (t *timers) poke() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// run is the scheduler goroutine.
func (t *timers) run() {
	workers := max(1, t.h.opt.poolSize)
	for range workers {
		t.wg.Add(1)
		go t.worker()
	}
	defer func() { close(t.work); t.wg.Wait() }()
	sleep := time.NewTimer(time.Hour)
	defer sleep.Stop()
	for {
		now := t.h.opt.clock().UnixMilli()
		var due []flowKey
		t.mu.Lock()
		for len(t.heap) > 0 && t.heap[0].when <= now && len(due) < 256 {
			due = append(due, t.heap[0].key)
			t.removeAt(0)
		}
		wait := time.Hour
		if len(due) == 0 && len(t.heap) > 0 {
			wait = time.Duration(t.heap[0].when-now) * time.Millisecond
		}
		t.mu.Unlock()
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

// Heap operations; the caller holds mu.

func (t *timers) less(i, j int) bool { return t.heap[i].when < t.heap[j].when }

func (t *timers) swap(i, j int) {
	t.heap[i], t.heap[j] = t.heap[j], t.heap[i]
	t.index[t.heap[i].key] = int32(i)
	t.index[t.heap[j].key] = int32(j)
}

func (t *timers) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !t.less(i, p) {
			return
		}
		t.swap(i, p)
		i = p
	}
}

func (t *timers) down(i int) {
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

func (t *timers) removeAt(i int) {
	last := len(t.heap) - 1
	delete(t.index, t.heap[i].key)
	if i != last {
		t.heap[i] = t.heap[last]
		t.index[t.heap[i].key] = int32(i)
	}
	t.heap = t.heap[:last]
	if i < last {
		t.down(i)
		t.up(i)
	}
}
