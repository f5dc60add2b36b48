package host

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// pool holds one generation's instances: a free list (a buffered channel)
// that grows lazily up to max. Not a sync.Pool: instances own wasm memory
// and must be closed, never dropped for the GC to find.
type pool struct {
	g    *generation
	idle chan *instance
	max  int32
	live atomic.Int32 // instances made and not yet discarded (idle + in use + being made)

	mu       sync.Mutex
	failures int       // consecutive instantiation failures
	retryAt  time.Time // no new instance before this (backoff after failures)
}

const (
	backoffMin = 10 * time.Millisecond
	backoffMax = 5 * time.Second
)

func newPool(g *generation, max int) *pool {
	return &pool{g: g, idle: make(chan *instance, max), max: int32(max)}
}

var errNoInstance = errors.New("no plugin instance available")

// get checks out an instance: an idle one, else a new one if the pool may
// grow, else the next one released, waiting at most the call timeout.
func (p *pool) get(ctx context.Context) (*instance, error) {
	select {
	case in := <-p.idle:
		return in, nil
	default:
	}
	for {
		n := p.live.Load()
		if n >= p.max || !p.mayGrow() {
			break
		}
		if p.live.CompareAndSwap(n, n+1) {
			in, err := p.make(ctx)
			if err != nil {
				return nil, err
			}
			return in, nil
		}
	}
	t := time.NewTimer(p.g.h.opt.callTimeout)
	defer t.Stop()
	select {
	case in := <-p.idle:
		return in, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
		return nil, errNoInstance
	}
}

// make creates an instance for a slot already counted in live.
func (p *pool) make(ctx context.Context) (*instance, error) {
	in, err := p.g.newInstance(ctx)
	if err != nil {
		p.live.Add(-1)
		p.mu.Lock()
		p.failures++
		d := backoffMin << min(p.failures-1, 10)
		p.retryAt = time.Now().Add(min(d, backoffMax))
		p.mu.Unlock()
		p.g.h.met.failure(CauseInstantiate)
		p.g.h.log.Error("sipkeep host: new plugin instance failed", "generation", p.g.info.Number, "err", err)
		p.g.noteFailure()
		return nil, err
	}
	p.mu.Lock()
	p.failures = 0
	p.mu.Unlock()
	return in, nil
}

func (p *pool) mayGrow() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failures == 0 || time.Now().After(p.retryAt)
}

// put returns an instance after a call. A dead one is closed and replaced
// in the background (with backoff), so a waiting caller gets the replacement.
func (p *pool) put(in *instance) {
	if !in.dead {
		p.idle <- in // never blocks: capacity is max and live <= max
		return
	}
	in.close(context.Background())
	p.live.Add(-1)
	p.g.h.met.replacements.Inc()
	if p.g.tryAcquire() {
		go p.replace()
	}
}

// replace makes one instance to stand in for a discarded one, unless the
// generation has been retired or the pool is already full again.
func (p *pool) replace() {
	defer p.g.release()
	for !p.g.retired.Load() {
		p.mu.Lock()
		wait := time.Until(p.retryAt)
		p.mu.Unlock()
		if wait > 0 {
			time.Sleep(wait)
			continue
		}
		n := p.live.Load()
		if n >= p.max {
			return
		}
		if !p.live.CompareAndSwap(n, n+1) {
			continue
		}
		in, err := p.make(context.Background())
		if err != nil {
			continue // make set the backoff
		}
		p.idle <- in
		return
	}
}

// prewarm makes n instances now (a new generation is published only once it
// can serve without instantiating on a caller's time).
func (p *pool) prewarm(ctx context.Context, n int) error {
	for i := 0; i < n && p.live.Load() < p.max; i++ {
		p.live.Add(1)
		in, err := p.g.newInstance(ctx)
		if err != nil {
			p.live.Add(-1)
			return err
		}
		p.idle <- in
	}
	return nil
}

// closeAll closes the idle instances; called once no call is in flight.
func (p *pool) closeAll(ctx context.Context) {
	for {
		select {
		case in := <-p.idle:
			in.close(ctx)
			p.live.Add(-1)
		default:
			return
		}
	}
}

// withInstance is used by the control plane: run f on one instance.
func (p *pool) withInstance(ctx context.Context, f func(*instance) error) error {
	in, err := p.get(ctx)
	if err != nil {
		return err
	}
	defer p.put(in)
	return f(in)
}
