package host

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/sipkeep/sipkeep/abi"
)

// signature is an export's exact wasm type.
type signature struct {
	params, results []api.ValueType
}

func (s signature) String() string { return "(" + types(s.params) + ")->" + types(s.results) }

func types(ts []api.ValueType) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = api.ValueTypeName(t)
	}
	return strings.Join(names, ",")
}

var (
	i32, i64 = api.ValueTypeI32, api.ValueTypeI64
)

// requiredExports is abi/ABI.md's export table.
var requiredExports = []struct {
	name string
	sig  signature
}{
	{abi.ExportInitialize, signature{nil, nil}},
	{abi.ExportABIVersion, signature{nil, []api.ValueType{i32}}},
	{abi.ExportFeatures, signature{nil, []api.ValueType{i64}}},
	{abi.ExportInputBuffer, signature{nil, []api.ValueType{i32}}},
	{abi.ExportInputCapacity, signature{nil, []api.ValueType{i32}}},
	{abi.ExportOutputBuffer, signature{nil, []api.ValueType{i32}}},
	{abi.ExportOutputCapacity, signature{nil, []api.ValueType{i32}}},
	{abi.ExportOnRequest, signature{[]api.ValueType{i32}, []api.ValueType{i32}}},
	{abi.ExportOnResponse, signature{[]api.ValueType{i32}, []api.ValueType{i32}}},
	{abi.ExportOnTimer, signature{[]api.ValueType{i32}, []api.ValueType{i32}}},
}

// controlExports are the go-plugin exports a module with
// FeatureControlPlane must have (abi/proto/sipkeep_plugin.pb.go).
var controlExports = []struct {
	name string
	sig  signature
}{
	{"control_api_version", signature{nil, []api.ValueType{i64}}},
	{"control_configure", signature{[]api.ValueType{i32, i32}, []api.ValueType{i64}}},
	{"control_describe", signature{[]api.ValueType{i32, i32}, []api.ValueType{i64}}},
	{"control_stats", signature{[]api.ValueType{i32, i32}, []api.ValueType{i64}}},
	{"malloc", signature{[]api.ValueType{i32}, []api.ValueType{i32}}},
	{"free", signature{[]api.ValueType{i32}, nil}},
}

// validateExports checks the compiled module's exports against the ABI
// before anything runs, so a wrong module is refused with a precise reason.
func validateExports(cm wazero.CompiledModule) error {
	fns := cm.ExportedFunctions()
	for _, e := range requiredExports {
		if err := checkExport(fns, e.name, e.sig); err != nil {
			return err
		}
	}
	if _, ok := cm.ExportedMemories()[abi.ExportMemory]; !ok {
		return fmt.Errorf("export %s: missing (the module exports no linear memory)", abi.ExportMemory)
	}
	return nil
}

// validateControlExports is run when the module claims FeatureControlPlane.
func validateControlExports(cm wazero.CompiledModule) error {
	fns := cm.ExportedFunctions()
	for _, e := range controlExports {
		if err := checkExport(fns, e.name, e.sig); err != nil {
			return fmt.Errorf("%w (required by FeatureControlPlane)", err)
		}
	}
	return nil
}

func checkExport(fns map[string]api.FunctionDefinition, name string, want signature) error {
	def, ok := fns[name]
	if !ok {
		return fmt.Errorf("export %s: missing, want %v", name, want)
	}
	have := signature{def.ParamTypes(), def.ResultTypes()}
	if !slices.Equal(have.params, want.params) || !slices.Equal(have.results, want.results) {
		return fmt.Errorf("export %s: want %v, have %v", name, want, have)
	}
	return nil
}

// moduleFacts are what an instance reports about itself after _initialize.
type moduleFacts struct {
	version        uint32
	features       abi.Feature
	inPtr, inCap   uint32
	outPtr, outCap uint32
}

// readFacts calls the marker and buffer exports of a fresh instance.
func readFacts(ctx context.Context, m api.Module) (f moduleFacts, err error) {
	stack := make([]uint64, 1)
	get := func(name string) (uint64, error) {
		stack[0] = 0
		if err := m.ExportedFunction(name).CallWithStack(ctx, stack); err != nil {
			return 0, fmt.Errorf("export %s: call: %w", name, err)
		}
		return stack[0], nil
	}
	var v uint64
	if v, err = get(abi.ExportABIVersion); err != nil {
		return f, err
	}
	f.version = uint32(v)
	if v, err = get(abi.ExportFeatures); err != nil {
		return f, err
	}
	f.features = abi.Feature(v)
	for _, p := range []struct {
		name string
		dst  *uint32
	}{
		{abi.ExportInputBuffer, &f.inPtr}, {abi.ExportInputCapacity, &f.inCap},
		{abi.ExportOutputBuffer, &f.outPtr}, {abi.ExportOutputCapacity, &f.outCap},
	} {
		if v, err = get(p.name); err != nil {
			return f, err
		}
		*p.dst = uint32(v)
	}
	return f, f.check(m.Memory().Size())
}

// check applies ABI.md's compatibility rules to the facts.
func (f moduleFacts) check(memSize uint32) error {
	major, minor := f.version>>16, f.version&0xffff
	if major != abi.VersionMajor || minor < abi.VersionMinor {
		return fmt.Errorf("export %s: ABI %d.%d, this host needs %d.x with x >= %d",
			abi.ExportABIVersion, major, minor, abi.VersionMajor, abi.VersionMinor)
	}
	if f.inCap < abi.MinInputCapacity {
		return fmt.Errorf("export %s: %d bytes, the ABI needs >= %d", abi.ExportInputCapacity, f.inCap, abi.MinInputCapacity)
	}
	if f.outCap < abi.MinOutputCapacity {
		return fmt.Errorf("export %s: %d bytes, the ABI needs >= %d", abi.ExportOutputCapacity, f.outCap, abi.MinOutputCapacity)
	}
	if uint64(f.inPtr)+uint64(f.inCap) > uint64(memSize) {
		return fmt.Errorf("export %s: buffer [%d,+%d) lies outside the %d-byte memory", abi.ExportInputBuffer, f.inPtr, f.inCap, memSize)
	}
	if uint64(f.outPtr)+uint64(f.outCap) > uint64(memSize) {
		return fmt.Errorf("export %s: buffer [%d,+%d) lies outside the %d-byte memory", abi.ExportOutputBuffer, f.outPtr, f.outCap, memSize)
	}
	return nil
}
