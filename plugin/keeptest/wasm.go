package keeptest

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/abi/proto"
	"github.com/sipkeep/sipkeep/internal/wasmjump"
	"github.com/sipkeep/sipkeep/plugin/keep"
)

// WasmGuest is the built plugin module as a Guest: the smallest host that
// can drive it, with no pool, store or failure policy (that is host/'s job).
// It exists so the conformance cases run against the real .wasm.
type WasmGuest struct {
	mod             api.Module
	mem             api.Memory
	onReq, onResp   api.Function
	onTimer         api.Function
	inAddr, inCap   uint32
	outAddr, outCap uint32
	stack           []uint64
}

// WasmModule is the compiled plugin; each NewGuest is a fresh instance.
type WasmModule struct {
	rt       wazero.Runtime
	compiled wazero.CompiledModule
}

// CompileWasm compiles the module at path once, as the host loads it: with
// its jumps made direct (internal/wasmjump), the rewrite every sipkeep host
// applies before compiling.
func CompileWasm(ctx context.Context, path string) (*WasmModule, error) {
	return compileWasm(ctx, path, true)
}

// CompileWasmAsBuilt compiles the module exactly as Go built it, to measure
// or check the rewrite CompileWasm applies.
func CompileWasmAsBuilt(ctx context.Context, path string) (*WasmModule, error) {
	return compileWasm(ctx, path, false)
}

func compileWasm(ctx context.Context, path string, direct bool) (*WasmModule, error) {
	bin, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if direct {
		if bin, _, err = wasmjump.Thread(bin); err != nil {
			return nil, fmt.Errorf("compile %s: %w", path, err)
		}
	}
	rt := wazero.NewRuntime(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	cm, err := rt.CompileModule(ctx, bin)
	if err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("compile %s: %w", path, err)
	}
	return &WasmModule{rt: rt, compiled: cm}, nil
}

// Close releases the runtime and every instance.
func (m *WasmModule) Close() error { return m.rt.Close(context.Background()) }

// NewGuest instantiates the module (running _initialize).
func (m *WasmModule) NewGuest(ctx context.Context) (*WasmGuest, error) {
	mod, err := m.rt.InstantiateModule(ctx, m.compiled, wazero.NewModuleConfig().WithStartFunctions("_initialize").WithName(""))
	if err != nil {
		return nil, fmt.Errorf("instantiate: %w", err)
	}
	g := &WasmGuest{mod: mod, mem: mod.Memory(), stack: make([]uint64, 2),
		onReq: mod.ExportedFunction(abi.ExportOnRequest), onResp: mod.ExportedFunction(abi.ExportOnResponse),
		onTimer: mod.ExportedFunction(abi.ExportOnTimer)}
	get := func(name string) uint32 {
		r, err := mod.ExportedFunction(name).Call(ctx)
		if err != nil {
			panic(err)
		}
		return uint32(r[0])
	}
	g.inAddr, g.inCap = get(abi.ExportInputBuffer), get(abi.ExportInputCapacity)
	g.outAddr, g.outCap = get(abi.ExportOutputBuffer), get(abi.ExportOutputCapacity)
	return g, nil
}

// Close releases the instance.
func (g *WasmGuest) Close() error { return g.mod.Close(context.Background()) }

// InputBuffer is a view of guest memory, taken afresh because memory may grow.
func (g *WasmGuest) InputBuffer() []byte  { b, _ := g.mem.Read(g.inAddr, g.inCap); return b }
func (g *WasmGuest) OutputBuffer() []byte { b, _ := g.mem.Read(g.outAddr, g.outCap); return b }

func (g *WasmGuest) OnRequest(n int32) int32  { return g.call(g.onReq, n) }
func (g *WasmGuest) OnResponse(n int32) int32 { return g.call(g.onResp, n) }
func (g *WasmGuest) OnTimer(n int32) int32    { return g.call(g.onTimer, n) }

func (g *WasmGuest) call(f api.Function, n int32) int32 {
	g.stack[0] = api.EncodeI32(n)
	if err := f.CallWithStack(context.Background(), g.stack); err != nil {
		panic(fmt.Sprintf("sipkeep guest trapped: %v", err))
	}
	return api.DecodeI32(g.stack[0])
}

// Configure goes through the go-plugin control plane, as hosts do.
func (g *WasmGuest) Configure(p keep.Policy) error {
	req := &proto.ConfigureRequest{Policy: p.ToProto()}
	b, err := req.MarshalVT()
	if err != nil {
		return err
	}
	out, err := g.control("control_configure", b)
	if err != nil {
		return err
	}
	var rep proto.ConfigureReply
	if err := rep.UnmarshalVT(out); err != nil {
		return err
	}
	if rep.Error != "" {
		return errors.New(rep.Error)
	}
	return nil
}

// control makes one go-plugin call: the request in guest memory from the
// guest's malloc, the reply as packed ptr<<32|size (bit 31: an error string).
func (g *WasmGuest) control(export string, req []byte) ([]byte, error) {
	ctx := context.Background()
	var ptr uint64
	if len(req) > 0 {
		r, err := g.mod.ExportedFunction("malloc").Call(ctx, uint64(len(req)))
		if err != nil {
			return nil, err
		}
		ptr = r[0]
		defer g.mod.ExportedFunction("free").Call(ctx, ptr)
		g.mem.Write(uint32(ptr), req)
	}
	r, err := g.mod.ExportedFunction(export).Call(ctx, ptr, uint64(len(req)))
	if err != nil {
		return nil, err
	}
	rp, rs := uint32(r[0]>>32), uint32(r[0])
	isErr := rs&(1<<31) != 0
	rs &^= 1 << 31
	b, ok := g.mem.Read(rp, rs)
	if !ok {
		return nil, fmt.Errorf("%s: reply outside guest memory", export)
	}
	b = append([]byte(nil), b...)
	if isErr {
		return nil, errors.New(string(b))
	}
	return b, nil
}

var _ Guest = (*WasmGuest)(nil)
var _ Guest = (*keep.Plugin)(nil)

// MemorySize reports the guest's linear memory size in bytes.
func (g *WasmGuest) MemorySize() uint32 { return g.mem.Size() }
