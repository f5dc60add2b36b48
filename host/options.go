package host

import (
	"log/slog"
	mathrand "math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/abi/proto"
)

// Option configures a Host (New).
type Option func(*options)

// NativeGuestFactory makes one plugin instance running as native Go: the
// hot-path Guest and its control plane. Each call returns a fresh, unshared
// pair (the host uses one per concurrent caller, as with wasm instances).
type NativeGuestFactory func() (abi.Guest, proto.Control)

type options struct {
	moduleFile     string
	moduleBytes    []byte
	native         NativeGuestFactory
	policy         *proto.Policy
	poolSize       int
	memoryPages    uint32
	callTimeout    time.Duration
	cacheDir       string
	cacheDirSet    bool
	failure        FailurePolicy
	crashN         int
	crashPer       time.Duration
	store          Store
	logger         *slog.Logger
	actions        ActionHandler
	clock          func() time.Time
	random         func() uint64
	registerer     prometheus.Registerer
	watch          time.Duration
	noTimers       bool
	initTimeout    time.Duration
	gcHoldOff      bool
	interruptOff   bool // measurement only: set by the package's tests
	directJumpsOff bool // measurement only: set by the package's tests
}

func defaultOptions() options {
	return options{
		poolSize:    runtime.GOMAXPROCS(0),
		memoryPages: 512,
		callTimeout: 100 * time.Millisecond,
		failure:     FailOpen,
		crashN:      5,
		crashPer:    time.Minute,
		clock:       time.Now,
		random:      mathrand.Uint64, // runtime's per-thread ChaCha8, seeded from the OS
	}
}

// WithModuleFile loads the plugin from a wasm file (and lets Reload and
// WithWatch read it again).
func WithModuleFile(path string) Option { return func(o *options) { o.moduleFile = path } }

// WithModuleBytes loads the plugin from wasm bytes (the host keeps them for Reload).
func WithModuleBytes(b []byte) Option { return func(o *options) { o.moduleBytes = b } }

// WithNativeGuest runs the plugin logic as native Go behind the same host
// code (pool, store, timers, metrics): for benchmarks and tests, and for
// servers that link the plugin in. No wasm is loaded.
func WithNativeGuest(f NativeGuestFactory) Option { return func(o *options) { o.native = f } }

// WithPolicy is the policy every instance is configured with before its
// first call. A policy the plugin refuses makes New fail.
func WithPolicy(p *proto.Policy) Option { return func(o *options) { o.policy = p } }

// WithPoolSize caps the instances per generation, i.e. the calls into the
// plugin that run at once (default GOMAXPROCS). Instances are made lazily.
func WithPoolSize(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.poolSize = n
		}
	}
}

// WithMemoryLimitPages caps each instance's linear memory (64 KiB pages,
// default 512 = 32 MiB). A guest that needs more dies and is replaced.
func WithMemoryLimitPages(n uint32) Option {
	return func(o *options) {
		if n > 0 {
			o.memoryPages = n
		}
	}
}

// WithCallTimeout bounds one call into the guest (default 100 ms); an
// overrunning call is interrupted, fails open, and its instance is replaced.
func WithCallTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.callTimeout = d
		}
	}
}

// WithCompilationCacheDir keeps compiled modules on disk so a restart or a
// swap to a known module costs tens of ms (default os.UserCacheDir()/sipkeep/wazero;
// "" means in memory only).
func WithCompilationCacheDir(dir string) Option {
	return func(o *options) { o.cacheDir, o.cacheDirSet = dir, true }
}

// WithFailurePolicy decides what happens once the crash budget is spent.
func WithFailurePolicy(p FailurePolicy) Option { return func(o *options) { o.failure = p } }

// WithCrashBudget: n failed calls within per spend the budget (default 5 per minute).
func WithCrashBudget(n int, per time.Duration) Option {
	return func(o *options) {
		if n > 0 && per > 0 {
			o.crashN, o.crashPer = n, per
		}
	}
}

// WithStore replaces the in-memory flow-record store.
func WithStore(s Store) Option { return func(o *options) { o.store = s } }

// WithLogger sets the logger (default slog.Default()); guest stdout and
// stderr are logged through it line by line.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithActionHandler receives the actions of Handle and of timers.
func WithActionHandler(f ActionHandler) Option { return func(o *options) { o.actions = f } }

// WithClock replaces time.Now (the "now" every call passes to the guest).
func WithClock(f func() time.Time) Option { return func(o *options) { o.clock = f } }

// WithRandom replaces the source of the 64 random bits every call carries.
func WithRandom(f func() uint64) Option { return func(o *options) { o.random = f } }

// WithMetrics registers the sipkeep_* metrics (default: kept in a private registry).
func WithMetrics(r prometheus.Registerer) Option { return func(o *options) { o.registerer = r } }

// WithWatch polls the module file every interval and swaps when it changes.
func WithWatch(interval time.Duration) Option { return func(o *options) { o.watch = interval } }

// WithoutTimers: the host schedules nothing; the caller drives on_timer
// (Timer or Call with KindNone) at the deadlines Call reports.
func WithoutTimers() Option { return func(o *options) { o.noTimers = true } }

// WithInitTimeout bounds each step of starting an instance — its
// _initialize, the marker exports, each control-plane call (Configure,
// Describe) — in wall time, with the same watchdog as calls (default 5 s, or
// the call timeout if that is longer). A module whose _initialize overruns
// it is refused and the current one keeps serving. It is longer than the
// call timeout because a Go guest's runtime start and first Configure
// allocate and may meet the guest's own GC on a busy machine.
func WithInitTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.initTimeout = d
		}
	}
}

// WithoutGCHold: never touch the process's GC percent. By default the GC is
// held off (debug.SetGCPercent(-1)) while an instance starts, for at most the
// init timeout, and restored to what it was (see gchold.go); a program that
// tunes its own GC may prefer the short pauses a collection during a swap
// costs its other goroutines.
func WithoutGCHold() Option { return func(o *options) { o.gcHoldOff = true } }

func (o *options) resolveCacheDir() string {
	if o.cacheDirSet {
		return o.cacheDir
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "sipkeep", "wazero")
}
