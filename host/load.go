package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/abi/proto"
	"github.com/sipkeep/sipkeep/internal/wasmbin"
	"github.com/sipkeep/sipkeep/internal/wasminterrupt"
	"github.com/sipkeep/sipkeep/internal/wasmjump"
)

// GenerationInfo describes the module generation that serves calls.
type GenerationInfo struct {
	Number   uint64      // 1 for the first module, +1 per successful swap or reload
	SHA256   string      // hex SHA-256 of the wasm bytes as loaded ("" for a native guest)
	Source   string      // the file path, "bytes", or "native"
	LoadedAt time.Time   // when it was published
	Features abi.Feature // sipkeep_features
	ABI      uint32      // sipkeep_abi_version (major<<16 | minor)
	// Describe is the plugin's own description (nil without a control plane).
	Describe *proto.DescribeReply
}

// source is where a generation's module came from, so Reload can read it again.
type source struct {
	path   string
	bytes  []byte
	native NativeGuestFactory
}

func (s source) String() string {
	switch {
	case s.native != nil:
		return "native"
	case s.path != "":
		return s.path
	}
	return "bytes"
}

// read returns the module's bytes (nil for a native guest).
func (s source) read() ([]byte, error) {
	if s.path != "" {
		b, err := os.ReadFile(s.path)
		if err != nil {
			return nil, fmt.Errorf("read module: %w", err)
		}
		return b, nil
	}
	return s.bytes, nil
}

// generation is one loaded module with its own wazero runtime and pool.
// It is published with an atomic pointer swap and closed once the calls
// in flight on it have drained (refs).
type generation struct {
	h          *Host
	info       GenerationInfo
	src        source
	wasm       []byte // the bytes as loaded (before instrumentation)
	runtime    wazero.Runtime
	compiled   wazero.CompiledModule
	native     NativeGuestFactory
	fuelGlobal string // exported fuel global, "" if not instrumented
	pool       *pool
	budget     crashBudget
	warnedEdit atomic.Bool // a refused result was logged at WARN

	// refs counts calls in flight plus one while the generation is current.
	refs      atomic.Int64
	retired   atomic.Bool
	closeOnce sync.Once
	drained   chan struct{} // closed once closed
}

// tryAcquire takes a reference unless the generation has drained.
func (g *generation) tryAcquire() bool {
	for {
		n := g.refs.Load()
		if n <= 0 {
			return false
		}
		if g.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

func (g *generation) release() {
	if g.refs.Add(-1) == 0 {
		g.close()
	}
}

// retire drops the "current" reference; the last call in flight closes it.
func (g *generation) retire() {
	if g.retired.Swap(true) {
		return
	}
	g.release()
}

func (g *generation) close() {
	g.closeOnce.Do(func() {
		ctx := context.Background()
		g.pool.closeAll(ctx)
		if g.runtime != nil {
			_ = g.runtime.Close(ctx)
		}
		close(g.drained)
	})
}

// load compiles, validates, instantiates and configures a new generation.
// Nothing is published here: the caller swaps it in only if this succeeds.
func (h *Host) load(ctx context.Context, src source, number uint64) (_ *generation, err error) {
	g := &generation{h: h, src: src, native: src.native, drained: make(chan struct{})}
	g.refs.Store(1)
	g.info = GenerationInfo{Number: number, Source: src.String()}
	g.budget.init(h.opt.crashN, h.opt.crashPer)
	g.pool = newPool(g, h.opt.poolSize)
	defer func() {
		if err != nil {
			g.close()
		}
	}()
	if src.native == nil {
		wasm, err := src.read()
		if err != nil {
			return nil, err
		}
		if len(wasm) == 0 {
			return nil, fmt.Errorf("load module: no module (empty bytes)")
		}
		g.wasm = wasm
		sum := sha256.Sum256(wasm)
		g.info.SHA256 = hex.EncodeToString(sum[:])
		if err := g.compile(ctx, wasm); err != nil {
			return nil, err
		}
	}
	// The first instance proves the module: markers, buffers, control plane,
	// and that the policy is accepted.
	first, err := g.newInstance(ctx)
	if err != nil {
		return nil, fmt.Errorf("load module: %w", err)
	}
	g.pool.live.Add(1)
	if first.guest == nil && first.facts.features.Has(abi.FeatureControlPlane) {
		if err := validateControlExports(g.compiled); err != nil {
			first.close(ctx)
			return nil, fmt.Errorf("load module: %w", err)
		}
	}
	if first.guest != nil {
		g.info.ABI, g.info.Features = abi.Version, abi.Feature(0)
	} else {
		g.info.ABI, g.info.Features = first.facts.version, first.facts.features
	}
	if first.ctl != nil {
		d, err := first.ctl.Describe(ctx, &proto.DescribeRequest{})
		if err != nil {
			first.close(ctx)
			return nil, fmt.Errorf("load module: describe: %w", err)
		}
		g.info.Describe = d
		if first.guest != nil {
			g.info.Features = abi.Feature(d.GetFeatures())
		}
	}
	g.pool.idle <- first
	return g, nil
}

// compile makes the generation's runtime and compiled module. Each
// generation has its own runtime so closing one frees exactly its code and
// instances; the compilation cache is shared, so a known module compiles
// in tens of ms.
func (g *generation) compile(ctx context.Context, wasm []byte) error {
	h := g.h
	if err := refuseBeforeCompile(wasm); err != nil {
		return fmt.Errorf("load module: %w", err)
	}
	bin := wasm
	if !h.opt.directJumpsOff {
		// Before the loop instrumentation: its checks go in front of the
		// branches back to a loop, between the `local.set 0` and the `br`
		// of the very jumps this pass recognises (internal/wasmjump).
		threaded, st, err := wasmjump.Thread(bin)
		if err != nil {
			// Not fatal: the module runs as Go built it, only slower.
			h.log.Warn("sipkeep host: cannot make the module's jumps direct; running it as built", "err", err)
		} else {
			bin = threaded
			h.log.Debug("sipkeep host: direct jumps", "functions", st.Functions, "direct", st.Direct, "left", st.Left, "condbr", st.CondBr)
		}
	}
	if !h.opt.interruptOff {
		patched, name, err := wasminterrupt.Instrument(bin)
		if errors.Is(err, wasminterrupt.ErrTableGrow) {
			return fmt.Errorf("load module: refused: %w", err)
		}
		if err != nil {
			// A module whose loops cannot be bounded could run forever on a
			// caller's goroutine and, since compiled wasm cannot be
			// preempted, stop the world at the next GC: refused.
			return fmt.Errorf("load module: cannot bound its loops, refused: %w", err)
		}
		bin, g.fuelGlobal = patched, name
	}
	cfg := wazero.NewRuntimeConfigCompiler().
		WithMemoryLimitPages(h.opt.memoryPages).
		WithCloseOnContextDone(false) // see watchdog.go
	if h.cache != nil {
		cfg = cfg.WithCompilationCache(h.cache)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	g.runtime = rt
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		return fmt.Errorf("load module: wasi: %w", err)
	}
	cm, err := rt.CompileModule(ctx, bin)
	if err != nil {
		return fmt.Errorf("load module: compile: %w", err)
	}
	g.compiled = cm
	if err := validateExports(cm); err != nil {
		return fmt.Errorf("load module: %w", err)
	}
	return nil
}

// refuseBeforeCompile refuses, before any rewrite or compilation, a module
// that declares a size its bytes cannot hold, or more locals or table
// elements than wasmbin.CheckVectorCounts allows (wazero's decoder would
// reserve room for them first: 6.5 GB for a 60-byte module, found by
// FuzzThread), and a module with a wasm start function: it would run inside
// instantiation, before the host can reach the instance's fuel or watch it.
// The ABI's initialiser is the _initialize export, which the host calls as a
// bounded step.
func refuseBeforeCompile(wasm []byte) error {
	secs, err := wasmbin.Sections(wasm)
	if err != nil {
		return fmt.Errorf("not a wasm module: %w", err)
	}
	if err := wasmbin.CheckVectorCounts(secs); err != nil {
		return fmt.Errorf("refused before decoding: %w", err)
	}
	for _, s := range secs {
		if s.ID == wasmbin.SecStart {
			return fmt.Errorf("the module has a start function; the ABI initialises through %s only", abi.ExportInitialize)
		}
	}
	return nil
}
