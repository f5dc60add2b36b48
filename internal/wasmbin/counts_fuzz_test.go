package wasmbin

import (
	"context"
	"runtime"
	"testing"

	"github.com/tetratelabs/wazero"
)

// FuzzCheckVectorCounts: whatever CheckVectorCounts accepts, wazero
// decodes, compiles and instantiates within an allocation linear in the
// module's bytes (a size it reserves from a declared count that escaped the
// check shows here as gigabytes for a few bytes). The runtime is configured
// as the host's; modules with a start function, which the host refuses,
// are not instantiated.
func FuzzCheckVectorCounts(f *testing.F) {
	mod := func(secs ...Section) []byte {
		b := append([]byte(nil), Magic...)
		for _, s := range secs {
			b = AppendSection(b, s.ID, s.Body)
		}
		return b
	}
	full := []Section{
		{SecType, vec([]byte{0x60, 0x00, 0x00}, []byte{0x60, 0x01, 0x7f, 0x01, 0x7e})},
		{SecFunction, vec([]byte{0x00})},
		{SecTable, vec([]byte{0x70, 0x00, 0x01})},
		{SecMemory, vec([]byte{0x00, 0x01})},
		{SecGlobal, vec([]byte{0x7f, 0x00, OpI32Const, 0x00, OpEnd})},
		{SecExport, vec(cat(str("f"), []byte{0x00, 0x00}))},
		{SecElement, vec(cat([]byte{0x00}, offset, vec([]byte{0x00})))},
		{SecCode, vec(locals(2, 3))},
		{SecData, vec(cat([]byte{0x00}, offset, str("hi")), cat([]byte{0x01}, str("x")))},
		{SecCustom, names([]byte{nameModule}, fn(str("m")...), []byte{nameFunctions}, fn(vec(cat(leb(0), str("f")))...))},
	}
	f.Add(mod(full...))
	f.Add(mod(full[0], Section{SecImport, vec(cat(str("env"), str("g"), []byte{0x00, 0x01}),
		cat(str("env"), str("t"), []byte{0x01, 0x70, 0x00, 0x02}))}, full[1], full[7]))
	f.Add(mod(full[0], full[1], Section{SecElement, vec(cat([]byte{0x05, 0x70}, vec(refFn0)), cat([]byte{0x03, 0x00}, vec([]byte{0x00})))}, full[7]))
	f.Fuzz(func(t *testing.T, in []byte) {
		secs, err := Sections(in)
		if err != nil || CheckVectorCounts(secs) != nil {
			return
		}
		start := false
		for _, s := range secs {
			start = start || s.ID == SecStart
		}
		ctx := context.Background()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler().WithMemoryLimitPages(512))
		if cm, err := rt.CompileModule(ctx, in); err == nil && !start {
			_, _ = rt.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithName(""))
		}
		runtime.ReadMemStats(&after)
		rt.Close(ctx)
		// 512 pages of memory and a table of MaxTableElements are 40 MB.
		if grew, bound := after.TotalAlloc-before.TotalAlloc, 64<<20+4096*uint64(len(in)); grew > bound {
			t.Fatalf("a %d-byte module accepted by the check allocated %d MB in wazero (bound %d MB)", len(in), grew>>20, bound>>20)
		}
	})
}
