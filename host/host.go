package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/sipkeep/sipkeep/abi/proto"
)

// Host runs the sipkeep plugin: a pool of sandboxed instances per module
// generation, flow records in a Store, timers, metrics, hot swap. All
// methods are safe for concurrent use.
type Host struct {
	opt   options
	log   *slog.Logger
	cache wazero.CompilationCache
	store Store
	met   *metrics
	dog   *watchdog
	tim   *timers // nil with WithoutTimers

	gen atomic.Pointer[generation]

	// loadSem lets one candidate module load at a time (compile,
	// instantiate, configure, prewarm: bounded, but long). It is not swapMu,
	// so a slow candidate never holds up Close, History or the watcher.
	loadSem chan struct{}
	// swapMu guards publication: the current generation, its source, the
	// history. It is never held across a guest step of a candidate.
	swapMu  sync.Mutex
	src     source // the source of the current generation, for Reload
	history []SwapRecord
	nextGen uint64

	polMu  sync.Mutex
	pol    *proto.Policy // the policy every instance gets (as requested)
	polVer uint64        // bumped by Configure; instances compare theirs
	// polVerNow mirrors polVer (stored under polMu) so a call checks its
	// instance's policy without taking polMu, a lock every call shared.
	polVerNow atomic.Uint64
	fast      atomic.Pointer[fastPolicy]
	// standing caches StandingGrant for one generation and policy.
	standing atomic.Pointer[standing]

	fuelPerCall int64 // loop iterations a call may run (internal/wasminterrupt)

	// closed is set (under bgMu) by Close; bgMu orders it with bg.Add, so
	// no background goroutine starts once Close waits for them (spawn).
	closed atomic.Bool
	bgMu   sync.Mutex
	stopCh chan struct{}
	bg     sync.WaitGroup
}

// spawn runs f in a background goroutine that Close waits for, unless the
// host is closing (then f does not run and spawn reports false).
func (h *Host) spawn(f func()) bool {
	h.bgMu.Lock()
	defer h.bgMu.Unlock()
	if h.closed.Load() {
		return false
	}
	h.bg.Add(1)
	go func() {
		defer h.bg.Done()
		f()
	}()
	return true
}

// SwapRecord is one entry of the swap history.
type SwapRecord struct {
	At       time.Time
	From, To uint64 // generation numbers; To is 0 when the swap was refused
	SHA256   string // of the module offered
	Source   string
	Reason   string        // "api", "file", "watch", "reload", "crash-reload"
	Took     time.Duration // compile + validate + instantiate + configure
	Err      string        // why it was refused; "" on success
}

const maxHistory = 64

// New loads the plugin (WithModuleFile, WithModuleBytes or WithNativeGuest)
// and returns a Host ready to serve.
func New(ctx context.Context, opts ...Option) (*Host, error) {
	o := defaultOptions()
	for _, f := range opts {
		f(&o)
	}
	if o.initTimeout == 0 {
		o.initTimeout = max(5*time.Second, o.callTimeout)
	}
	h := &Host{opt: o, stopCh: make(chan struct{}), loadSem: make(chan struct{}, 1), fuelPerCall: int64(o.callTimeout)}
	h.log = o.logger
	if h.log == nil {
		h.log = slog.Default()
	}
	h.store = o.store
	if h.store == nil {
		h.store = NewMemStore()
	}
	var src source
	switch {
	case o.native != nil:
		src.native = o.native
	case o.moduleFile != "":
		src.path = o.moduleFile
	case len(o.moduleBytes) > 0:
		src.bytes = o.moduleBytes
	default:
		return nil, errors.New("sipkeep host: no module: use WithModuleFile, WithModuleBytes or WithNativeGuest")
	}
	if src.native == nil {
		if dir := o.resolveCacheDir(); dir != "" {
			c, err := wazero.NewCompilationCacheWithDir(dir)
			if err != nil {
				h.log.Warn("sipkeep host: on-disk compilation cache unavailable; compiling in memory", "dir", dir, "err", err)
				h.cache = wazero.NewCompilationCache()
			} else {
				h.cache = c
			}
		} else {
			h.cache = wazero.NewCompilationCache()
		}
	}
	h.pol = o.policy
	if h.pol == nil {
		h.pol = &proto.Policy{}
	}
	h.polVer = 1
	h.polVerNow.Store(1)
	h.fast.Store(newFastPolicy(h.pol))
	h.met = newMetrics(h, o.registerer)
	h.dog = newWatchdog(o.callTimeout, func(in *instance, limit time.Duration) {
		h.log.Warn("sipkeep host: interrupting a guest step that overran its deadline", "generation", in.g.info.Number, "timeout", limit)
	})
	h.spawn(h.dog.run)

	h.nextGen = 1
	g, err := h.load(ctx, src, h.nextGen)
	if err != nil {
		h.dog.close()
		h.bg.Wait()
		return nil, fmt.Errorf("sipkeep host: %w", err)
	}
	h.nextGen++
	if err := g.pool.prewarm(ctx, min(2, o.poolSize)-1); err != nil {
		h.log.Warn("sipkeep host: prewarming instances failed", "err", err)
	}
	g.info.LoadedAt = time.Now()
	h.src = src
	h.gen.Store(g)
	h.met.generation.Set(float64(g.info.Number))
	h.log.Info("sipkeep host: plugin loaded", "generation", g.info.Number, "source", g.info.Source,
		"sha256", g.info.SHA256, "features", fmt.Sprintf("%#x", uint64(g.info.Features)))
	if !o.noTimers {
		h.tim = newTimers(h)
		h.spawn(h.tim.run)
	}
	if o.watch > 0 && src.path != "" {
		h.spawn(func() { h.watch(o.watch) })
	}
	return h, nil
}

// acquire returns the current generation with a reference held.
func (h *Host) acquire() *generation {
	for {
		g := h.gen.Load()
		if g == nil {
			return nil
		}
		if g.tryAcquire() {
			return g
		}
	}
}

// currentPolicy returns the policy every instance must have and its version.
func (h *Host) currentPolicy() (*proto.Policy, uint64) {
	h.polMu.Lock()
	defer h.polMu.Unlock()
	return h.pol, h.polVer
}

// setEffective records the policy in force (defaults filled in) as a
// plugin reported it, for the fast path, if ver is still the current policy.
func (h *Host) setEffective(ver uint64, eff *proto.Policy) {
	if eff == nil {
		return
	}
	h.polMu.Lock()
	defer h.polMu.Unlock()
	if ver == h.polVer {
		h.fast.Store(newFastPolicy(eff))
	}
}

// Generation describes the module generation serving calls now.
func (h *Host) Generation() GenerationInfo {
	if g := h.gen.Load(); g != nil {
		return g.info
	}
	return GenerationInfo{}
}

// History returns the swap history, oldest first (at most 64 entries).
func (h *Host) History() []SwapRecord {
	h.swapMu.Lock()
	defer h.swapMu.Unlock()
	return append([]SwapRecord(nil), h.history...)
}

// Flows reports how many flows have records in the store.
func (h *Host) Flows() int { return h.store.Len() }

// Close stops timers and the watcher, waits for calls in flight (until ctx
// ends) and closes every instance. Calls made after Close fail open.
func (h *Host) Close(ctx context.Context) error {
	h.bgMu.Lock()
	already := h.closed.Swap(true)
	h.bgMu.Unlock()
	if already {
		return nil
	}
	close(h.stopCh)
	if h.tim != nil {
		h.tim.close()
	}
	h.dog.close()
	done := make(chan struct{})
	go func() { h.bg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	// Wait for a candidate being loaded (bounded: every guest step of it
	// is): the compilation cache it compiles with is closed below. loadSem
	// stays taken, so nothing loads after Close.
	select {
	case h.loadSem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("sipkeep host: close: a module is still loading: %w", ctx.Err())
	}
	h.swapMu.Lock()
	g := h.gen.Swap(nil)
	h.swapMu.Unlock()
	if g != nil {
		g.retire()
		select {
		case <-g.drained:
		case <-ctx.Done():
			return fmt.Errorf("sipkeep host: close: calls still in flight: %w", ctx.Err())
		}
	}
	if h.cache != nil {
		_ = h.cache.Close(ctx)
	}
	return nil
}
