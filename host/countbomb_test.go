package host

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/sipkeep/sipkeep/internal/wasmbin"
	"github.com/sipkeep/sipkeep/internal/wasminterrupt"
)

// bomb pieces: modules of a few dozen bytes declaring sizes wazero's
// decoder would allocate before reading them.
var (
	bombHuge = []byte{0xff, 0xff, 0xff, 0xff, 0x0f} // 4,294,967,295
	bombCat  = func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	bombSec  = func(id byte, body []byte) []byte { return wasmbin.AppendSection(nil, id, body) }
	bombMod  = func(secs ...[]byte) []byte { return bombCat(append([][]byte{wasmbin.Magic}, secs...)...) }
	// A function type () -> (), one function of it, and its body.
	bombTypes = bombSec(wasmbin.SecType, []byte{1, 0x60, 0, 0})
	bombFuncs = bombSec(wasmbin.SecFunction, []byte{1, 0})
	bombCode  = bombSec(wasmbin.SecCode, []byte{1, 2, 0, 0x0b})
)

// A module declaring ~100 million entries, or a 4 GB string, or billions
// of nested elements, in a few dozen bytes is refused before it is
// rewritten or compiled: wazero's decoder reserves room for the declared
// size first, 6.5 GB (exports), 3.9 GB (globals) or 5.5 GB (data segments)
// for the top-level counts. FuzzThread found the export and parameter
// cases. Asserted as allocation, not time.
func TestSwap_OversizedVectorCountIsRefused(t *testing.T) {
	h := newHost(t, WithModuleBytes(readFile(t, fixture(t, "good"))))
	count := append([]byte{0x8b, 0x8b, 0x8b, 0x31}, make([]byte, 30)...) // 102,942,091 entries
	str := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	for name, m := range map[string][]byte{
		"export":  bombMod(bombTypes, bombFuncs, bombSec(wasmbin.SecExport, count), bombCode),
		"global":  bombMod(bombTypes, bombFuncs, bombSec(wasmbin.SecGlobal, count), bombCode),
		"data":    bombMod(bombTypes, bombFuncs, bombCode, bombSec(wasmbin.SecData, count)),
		"params":  bombMod(bombSec(wasmbin.SecType, bombCat([]byte{1, 0x60}, bombHuge, []byte{0})), bombFuncs, bombCode),
		"body":    bombMod(bombTypes, bombFuncs, bombSec(wasmbin.SecCode, bombCat([]byte{1}, bombHuge, []byte{0, 0x0b}))),
		"element": bombMod(bombTypes, bombFuncs, bombSec(wasmbin.SecElement, bombCat([]byte{1, 1, 0}, bombHuge, []byte{0})), bombCode),
		"data segment bytes": bombMod(bombTypes, bombFuncs, bombCode,
			bombSec(wasmbin.SecData, bombCat([]byte{1, 1}, bombHuge, []byte("x")))),
		"import name": bombMod(bombTypes, bombSec(wasmbin.SecImport, bombCat([]byte{1}, bombHuge, []byte("env"))), bombFuncs, bombCode),
		"export name": bombMod(bombTypes, bombFuncs, bombSec(wasmbin.SecExport, bombCat([]byte{1}, bombHuge, []byte("f"))), bombCode),
		"function names": bombMod(bombTypes, bombFuncs, bombCode,
			bombSec(wasmbin.SecCustom, bombCat(str("name"), []byte{1, 7}, bombHuge, []byte{0, 1}))),
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		err := h.Swap(context.Background(), m)
		runtime.ReadMemStats(&after)
		if err == nil || !errors.Is(err, wasmbin.ErrCount) {
			t.Fatalf("%s: Swap(count bomb) = %v, want a refusal for its declared size", name, err)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
			t.Fatalf("%s: refusing a %d-byte module allocated %d MB", name, len(m), grew>>20)
		}
	}
}

// A function body declaring 2^27 locals in seven bytes is refused without
// the heap growing: wazero would reserve eight bytes a declared local
// (1 GiB) before reading the body; 2^32-1, its own bound, would be 32 GiB.
// The module that was running keeps running.
func TestSwap_HugeLocalCountIsRefused(t *testing.T) {
	h := newHost(t, WithModuleBytes(readFile(t, fixture(t, "good"))))
	was := h.gen.Load()
	body := bombCat([]byte{1}, wasmbin.AppendULEB(nil, 1<<27), []byte{0x7e, 0x0b}) // one group of i64 locals; end
	m := bombMod(bombTypes, bombFuncs, bombSec(wasmbin.SecCode, bombCat([]byte{1, byte(len(body))}, body)))

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := h.Swap(context.Background(), m)
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapSys) - int64(before.HeapSys); grew > 64<<20 {
		t.Fatalf("refusing a %d-byte module grew the heap by %d MB", len(m), grew>>20)
	}
	if err == nil || !errors.Is(err, wasmbin.ErrCount) || !strings.Contains(err.Error(), "locals") {
		t.Fatalf("Swap(%d-byte module with 2^27 locals) = %v, want a refusal for its locals", len(m), err)
	}
	if h.gen.Load() != was {
		t.Fatal("the refused module replaced the running one")
	}
}

// A module that grows a table is refused at load: wazero allocates a
// table's growth at once, outside WithMemoryLimitPages (one table.grow of
// 2^28 elements allocated 2 GiB; up to 32 GiB is allowed).
func TestSwap_TableGrowIsRefused(t *testing.T) {
	h := newHost(t, WithModuleBytes(readFile(t, fixture(t, "good"))))
	body := bombCat([]byte{0, 0xd0, 0x70, 0x41}, wasmbin.AppendSLEB(nil, 1<<28), // ref.null func; i32.const 2^28
		[]byte{wasmbin.OpPrefixFC, wasmbin.FCTableGrow, 0, 0x1a, 0x0b}) // table.grow 0; drop; end
	m := bombMod(bombTypes, bombFuncs, bombSec(wasmbin.SecTable, []byte{1, 0x70, 0, 1}),
		bombSec(wasmbin.SecCode, bombCat([]byte{1, byte(len(body))}, body)))
	if err := h.Swap(context.Background(), m); !errors.Is(err, wasminterrupt.ErrTableGrow) {
		t.Fatalf("Swap(module with table.grow) = %v, want a refusal for it", err)
	}
}
