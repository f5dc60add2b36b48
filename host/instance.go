package host

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/abi/proto"
)

// export indexes the three hot-path entry points.
type export uint8

const (
	expRequest export = iota
	expResponse
	expTimer
	numExports
)

var exportNames = [numExports]string{abi.ExportOnRequest, abi.ExportOnResponse, abi.ExportOnTimer}

func (e export) String() string { return exportNames[e] }

// instance is one plugin instance (a wasm module instance or a native
// guest), used by one caller at a time (wasm-abi.md: instances are not
// goroutine-safe) and discarded, never reused, after any failure.
type instance struct {
	g *generation

	// wasm
	mod   api.Module
	fns   [numExports]api.Function
	stack [1]uint64
	facts moduleFacts
	fuel  api.MutableGlobal // the instrumented loops' fuel (internal/wasminterrupt); nil if not instrumented
	errw  *lineLogger       // the guest's stderr: tells an out-of-memory death from a panic

	// native
	guest abi.Guest

	ctl       proto.Control // nil: the module has no control plane
	policyVer uint64        // the host policy version this instance was configured with

	out abi.Output // decode scratch, reused: DecodeOutput appends into its slices

	// start is the monotonic time (ns since hostEpoch) at which the call in
	// flight began, 0 when idle, -1 once the watchdog interrupted it.
	start atomic.Int64
	// limit is the deadline of the step in flight in ns; 0 means the call
	// timeout (hot-path calls never touch it).
	limit atomic.Int64
	dead  bool
}

// newInstance instantiates and initialises one instance and configures it
// with the host's current policy.
func (g *generation) newInstance(ctx context.Context) (*instance, error) {
	in := &instance{g: g}
	if g.native != nil {
		guest, ctl := g.native()
		if guest == nil {
			return nil, errors.New("native guest factory returned nil")
		}
		g.h.dog.add(in)
		in.guest, in.ctl = guest, ctl
		if len(guest.InputBuffer()) < abi.MinInputCapacity || len(guest.OutputBuffer()) < abi.MinOutputCapacity {
			return nil, fmt.Errorf("native guest buffers %d/%d bytes are below the ABI minimums", len(guest.InputBuffer()), len(guest.OutputBuffer()))
		}
	} else {
		in.errw = newLineLogger(g.h.log, g.info.Number, "stderr")
		// No start function runs inside InstantiateModule (and a module
		// with a wasm start section is refused at load): _initialize is
		// called below as a guest step, under the watchdog and the fuel,
		// once the fuel global can be reached.
		cfg := wazero.NewModuleConfig().
			WithName(""). // anonymous: one CompiledModule instantiates many times
			WithStartFunctions().
			WithStdout(newLineLogger(g.h.log, g.info.Number, "stdout")).
			WithStderr(in.errw)
		mod, err := g.runtime.InstantiateModule(ctx, g.compiled, cfg)
		if err != nil {
			return nil, fmt.Errorf("instantiate: %w", err)
		}
		in.mod = mod
		if g.fuelGlobal != "" {
			gl, ok := mod.ExportedGlobal(g.fuelGlobal).(api.MutableGlobal)
			if !ok {
				in.close(ctx)
				return nil, fmt.Errorf("instrumented fuel global %q is missing", g.fuelGlobal)
			}
			in.fuel = gl
		}
		g.h.dog.add(in) // from here on, every guest step on it is watched
		if g.h.opt.gcHoldOff {
			err = in.step(ctx, abi.ExportInitialize, in.initialize)
		} else {
			// _initialize runs long in wasm: see gchold.go. The hold's
			// bound is past the step's, so the GC never restarts while
			// the step may still be running.
			release := holdGC(2 * g.h.opt.initTimeout)
			err = in.step(ctx, abi.ExportInitialize, in.initialize)
			release()
		}
		if err != nil {
			in.close(ctx)
			return nil, fmt.Errorf("instantiate: %w", err)
		}
		var facts moduleFacts
		err = in.step(ctx, "markers", func(ctx context.Context) (err error) {
			facts, err = readFacts(ctx, mod)
			return err
		})
		if err != nil {
			in.close(ctx)
			return nil, err
		}
		in.facts = facts
		for e := export(0); e < numExports; e++ {
			in.fns[e] = mod.ExportedFunction(exportNames[e])
		}
		if facts.features.Has(abi.FeatureControlPlane) {
			c, err := newWasmControl(in)
			if err != nil {
				in.close(ctx)
				return nil, err
			}
			in.ctl = c
		}
	}
	if err := in.configure(ctx); err != nil {
		in.close(ctx)
		return nil, err
	}
	return in, nil
}

// configure applies the host's current policy if this instance has not got it yet.
func (in *instance) configure(ctx context.Context) error {
	if in.policyVer == in.g.h.polVerNow.Load() {
		return nil // the hot path: no lock
	}
	pol, ver := in.g.h.currentPolicy()
	if in.policyVer == ver {
		return nil
	}
	if in.ctl != nil {
		rep, err := in.ctl.Configure(ctx, &proto.ConfigureRequest{Policy: pol})
		if err != nil {
			return fmt.Errorf("configure: %w", err)
		}
		if rep.GetError() != "" {
			return fmt.Errorf("configure: policy refused: %s", rep.GetError())
		}
		in.g.h.setEffective(ver, rep.GetEffective())
	}
	in.policyVer = ver
	return nil
}

// close releases the instance's module; safe to call twice.
func (in *instance) close(ctx context.Context) {
	in.g.h.dog.remove(in)
	if in.mod != nil {
		_ = in.mod.Close(ctx)
	}
}

// inputBuffer returns a writable view of the guest's input buffer. For wasm
// it is re-read on every call: memory.grow may move the backing slice.
func (in *instance) inputBuffer(n int) ([]byte, bool) {
	if in.guest != nil {
		b := in.guest.InputBuffer()
		return b[:n:n], n <= len(b)
	}
	if uint32(n) > in.facts.inCap {
		return nil, false
	}
	return in.mod.Memory().Read(in.facts.inPtr, uint32(n))
}

// invoke runs one entry point on an input of n bytes already written, and
// returns a view of the output (valid until the next call on in).
func (in *instance) invoke(ctx context.Context, e export, n int) (out []byte, cause string, err error) {
	in.refuel()
	in.start.Store(monotonic())
	var r int32
	if in.guest != nil {
		r, err = in.invokeNative(e, int32(n))
	} else {
		in.stack[0] = uint64(n)
		err = in.fns[e].CallWithStack(ctx, in.stack[:])
		r = int32(uint32(in.stack[0]))
	}
	if in.start.Swap(0) < 0 {
		in.dead = true
		return nil, CauseTimeout, fmt.Errorf("call overran its %v deadline and was interrupted", in.g.h.opt.callTimeout)
	}
	if err != nil {
		in.dead = true
		if in.fuel != nil && int64(in.fuel.Get()) <= 0 {
			return nil, CauseTimeout, fmt.Errorf("runaway call ran out of fuel (%d loop iterations): %w", in.g.h.fuelPerCall, err)
		}
		if in.errw != nil && in.errw.sawOOM.Load() {
			return nil, CauseOOM, err
		}
		return nil, trapCause(err), err
	}
	if r < 0 {
		// ABI.md: -Errno means the guest could not read its input; the call
		// fails open but the instance is sound.
		return nil, CauseErrno, abi.Errno(-r)
	}
	if in.guest != nil {
		b := in.guest.OutputBuffer()
		if int(r) > len(b) {
			in.dead = true
			return nil, CauseBadOutput, fmt.Errorf("output length %d exceeds the %d-byte output buffer", r, len(b))
		}
		return b[:r], "", nil
	}
	if uint32(r) > in.facts.outCap {
		in.dead = true
		return nil, CauseBadOutput, fmt.Errorf("output length %d exceeds the %d-byte output buffer", r, in.facts.outCap)
	}
	b, ok := in.mod.Memory().Read(in.facts.outPtr, uint32(r))
	if !ok {
		in.dead = true
		return nil, CauseBadOutput, fmt.Errorf("output [%d,+%d) lies outside memory", in.facts.outPtr, r)
	}
	return b, "", nil
}

// initialize runs the module's _initialize export (the Go guest's runtime
// start and package init).
func (in *instance) initialize(ctx context.Context) error {
	fn := in.mod.ExportedFunction(abi.ExportInitialize)
	if fn == nil {
		return fmt.Errorf("export %s: missing", abi.ExportInitialize)
	}
	_, err := fn.Call(ctx)
	return err
}

// step runs one guest step that is not a hot-path call — _initialize, the
// marker exports, a control-plane call — bounded in wall time by the init
// timeout through the same watchdog as calls, and in loop iterations by as
// much fuel. A step that overruns is interrupted and the instance is dead.
func (in *instance) step(ctx context.Context, what string, f func(context.Context) error) error {
	limit := in.g.h.opt.initTimeout
	if in.fuel != nil {
		in.fuel.Set(uint64(limit)) // one iteration per ns, as refuel
	}
	in.limit.Store(int64(limit))
	in.start.Store(monotonic())
	err := f(ctx)
	interrupted := in.start.Swap(0) < 0
	in.limit.Store(0)
	switch {
	case interrupted:
		in.dead = true
		return fmt.Errorf("%s overran its %v deadline and was interrupted", what, limit)
	case err != nil && in.fuel != nil && int64(in.fuel.Get()) <= 0:
		in.dead = true
		return fmt.Errorf("%s ran out of fuel (%d loop iterations): %w", what, int64(limit), err)
	case err != nil:
		in.dead = true
	}
	return err
}

// refuel gives the call its loop-iteration budget: a bound no legitimate
// call reaches (one iteration per ns of the call timeout; an instrumented
// iteration costs more than 1 ns), which stops a runaway loop even when the
// watchdog cannot run (see internal/wasminterrupt).
func (in *instance) refuel() {
	if in.fuel != nil {
		in.fuel.Set(uint64(in.g.h.fuelPerCall))
	}
}

func (in *instance) invokeNative(e export, n int32) (r int32, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("native guest panic: %v", p)
		}
	}()
	switch e {
	case expRequest:
		return in.guest.OnRequest(n), nil
	case expResponse:
		return in.guest.OnResponse(n), nil
	default:
		return in.guest.OnTimer(n), nil
	}
}

// trapCause classifies a failed wasm call.
func trapCause(err error) string {
	// A Go guest exits with code 2 after "fatal error: out of memory" and
	// after an unrecovered panic alike (the caller checks stderr first).
	var exit *sys.ExitError
	if !errors.As(err, &exit) && strings.Contains(err.Error(), "out of memory") {
		return CauseOOM
	}
	return CauseTrap
}
