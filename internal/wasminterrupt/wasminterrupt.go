// Package wasminterrupt instruments a WebAssembly module so that a host can
// bound and stop a running call for about a nanosecond per loop iteration.
//
// Why: wazero v1.12 stops a running call only when the runtime is built
// WithCloseOnContextDone(true). That compiles a check into every loop
// header which leaves native code for Go on every iteration (~25 ns: a 1 KB
// byte scan went from 1.8 µs to 27 µs), and spawns a goroutine per call
// (~0.7 µs). Without it, wasm stuck in a loop is never stopped — and worse,
// native code cannot be preempted by the Go scheduler, so the next GC
// stop-the-world waits for it forever and the whole process hangs (even a
// watchdog goroutine never runs again).
//
// What: Instrument adds one mutable i64 global, the fuel, exports it under
// Global, and inserts before every branch back to a `loop` (br, br_if or
// br_table with a loop among its targets)
//
//	fuel = fuel - 1; if fuel <= 0 { unreachable }
//
// A loop runs again only through such a branch, so every iteration pays
// one check (a br_if pays it taken or not) and entering a loop pays none:
// every Go function is a dispatch loop entered on each call (see
// internal/wasmjump), so a check at the loop header cost every call.
//
// The host sets the fuel before each call (a bound that no legitimate call
// reaches), so a runaway call traps on its own after a bounded time, GC or
// not; a watchdog goroutine may also set it to a negative value to stop a
// call sooner. Wasm can only run forever through loops (recursion ends in
// a stack overflow), so this bounds every call. Function and global indices
// do not move: the global is appended after all existing ones.
package wasminterrupt

import (
	"errors"
	"fmt"

	"github.com/sipkeep/sipkeep/internal/wasmbin"
)

// Global is the export name of the fuel global.
const Global = "sipkeep_fuel"

// InitialFuel is the fuel a fresh instance starts with (it bounds
// _initialize and the first calls before the host sets its own).
const InitialFuel = 1 << 34

const (
	secImport = wasmbin.SecImport
	secGlobal = wasmbin.SecGlobal
	secExport = wasmbin.SecExport
	secCode   = wasmbin.SecCode
)

// ErrTableGrow refuses a module that grows a table: wazero allocates the
// growth in one step, eight bytes an element, outside the memory limit, so
// one instruction of a 49-byte module allocated 2 GiB (up to 32 GiB
// allowed). Go's wasm backend never emits table.grow.
var ErrTableGrow = errors.New("table.grow: a table's growth is not bounded")

// Instrument returns the instrumented module and the name of the exported
// interrupt global. It refuses (with an error) modules that use opcodes it
// does not decode (SIMD, threads, GC), rather than guess, and modules that
// grow a table (ErrTableGrow).
func Instrument(wasm []byte) ([]byte, string, error) {
	secs, err := wasmbin.Sections(wasm)
	if err != nil {
		return nil, "", fmt.Errorf("interrupt: %w", err)
	}
	// Count imported and defined globals: the new global's index follows them.
	var importedGlobals, definedGlobals uint32
	hasGlobal, hasExport := false, false
	for _, s := range secs {
		switch s.ID {
		case secImport:
			n, err := countImportedGlobals(s.Body)
			if err != nil {
				return nil, "", err
			}
			importedGlobals = n
		case secGlobal:
			hasGlobal = true
			r := wasmbin.Reader{B: s.Body}
			definedGlobals = r.U32()
		case secExport:
			hasExport = true
		}
	}
	idx := importedGlobals + definedGlobals
	g := uleb(idx)
	var check []byte
	check = append(append(check, 0x23), g...)     // global.get $fuel
	check = append(check, 0x42, 0x01, 0x7d)       // i64.const 1; i64.sub
	check = append(append(check, 0x24), g...)     // global.set $fuel
	check = append(append(check, 0x23), g...)     // global.get $fuel
	check = append(check, 0x42, 0x00, 0x57)       // i64.const 0; i64.le_s
	check = append(check, 0x04, 0x40, 0x00, 0x0b) // if; unreachable; end

	out := append(make([]byte, 0, len(wasm)+len(wasm)/8), wasmbin.Magic...)
	emit := func(id byte, body []byte) { out = wasmbin.AppendSection(out, id, body) }
	newGlobal := func() []byte { // mut i64 = i64.const InitialFuel
		return append(append([]byte{0x7e, 0x01, 0x42}, sleb(InitialFuel)...), 0x0b)
	}
	newExport := func() []byte {
		b := uleb(uint32(len(Global)))
		b = append(b, Global...)
		b = append(b, 0x03)
		return append(b, uleb(idx)...)
	}
	sawCode := false
	for _, s := range secs {
		// Sections without globals/exports get them inserted in order
		// (global 6 before export 7 before code 10); custom sections (0)
		// and the ones between keep their places.
		if s.ID != 0 && !hasGlobal && order(s.ID) > order(secGlobal) {
			emit(secGlobal, append(uleb(1), newGlobal()...))
			hasGlobal = true
		}
		if s.ID != 0 && !hasExport && order(s.ID) > order(secExport) {
			emit(secExport, append(uleb(1), newExport()...))
			hasExport = true
		}
		switch s.ID {
		case secGlobal:
			emit(s.ID, appendVec(s.Body, newGlobal()))
		case secExport:
			emit(s.ID, appendVec(s.Body, newExport()))
		case secCode:
			var scratch []byte // one body at a time: AppendCode copies it
			var err error
			out, err = wasmbin.AppendCode(out, s.Body, func(fn []byte) ([]byte, error) {
				scratch, err = instrumentFunc(scratch[:0], fn, check)
				return scratch, err
			})
			if err != nil {
				return nil, "", fmt.Errorf("interrupt: %w", err)
			}
			sawCode = true
		default:
			emit(s.ID, s.Body)
		}
	}
	if !sawCode {
		return nil, "", errors.New("interrupt: module has no code section")
	}
	return out, Global, nil
}

// order is the required position of a known section (the data count
// section 12 and tag section 13 sit between others).
func order(id byte) int {
	switch id {
	case 13: // tag: after memory (5), before global (6)
		return 55
	case 12: // data count: before code
		return 95
	}
	return int(id) * 10
}

// appendVec increments a vector's count and appends one encoded element.
func appendVec(body, elem []byte) []byte {
	r := wasmbin.Reader{B: body}
	n := r.U32()
	out := wasmbin.AppendULEB(nil, n+1)
	out = append(out, body[r.Off:]...)
	return append(out, elem...)
}

func countImportedGlobals(body []byte) (uint32, error) {
	r := wasmbin.Reader{B: body}
	n := r.U32()
	var globals uint32
	for i := uint32(0); i < n && r.Err == nil; i++ {
		r.Bytes(int(r.U32())) // module
		r.Bytes(int(r.U32())) // name
		switch kind := r.Byte(); kind {
		case 0: // func
			r.U32()
		case 1: // table: reftype, limits
			r.Byte()
			r.Limits()
		case 2: // memory
			r.Limits()
		case 3: // global
			r.Byte()
			r.Byte()
			globals++
		case 4: // tag
			r.Byte()
			r.U32()
		default:
			return 0, fmt.Errorf("interrupt: import kind %#x", kind)
		}
	}
	if r.Err != nil {
		return 0, fmt.Errorf("interrupt: import section: %w", r.Err)
	}
	return globals, nil
}

// instrumentFunc appends to dst one function body with check inserted
// before every branch back to a loop.
func instrumentFunc(dst, code, check []byte) ([]byte, error) {
	var body wasmbin.Body
	if err := body.Reset(code); err != nil {
		return nil, err
	}
	var loop []bool // the enclosing constructs, innermost last: is each a loop?
	toLoop := func(depth int64) bool {
		return depth >= 0 && depth < int64(len(loop)) && loop[len(loop)-1-int(depth)]
	}
	last := 0
	var in wasmbin.Instr
	for body.Next(&in) {
		back := false
		switch op := in.Op; {
		case wasmbin.OpensBlock(op):
			loop = append(loop, op == wasmbin.OpLoop)
		case wasmbin.ClosesBlock(op):
			if len(loop) > 0 {
				loop = loop[:len(loop)-1]
			}
		case wasmbin.BranchesToDepth(op):
			back = toLoop(in.Imm)
		case op == wasmbin.OpBrTable:
			for _, d := range in.Table {
				back = back || toLoop(int64(d))
			}
		case op == wasmbin.OpPrefixFC && in.Imm == wasmbin.FCTableGrow:
			return nil, fmt.Errorf("at byte %d: %w", in.Start, ErrTableGrow)
		}
		if back {
			dst = append(dst, code[last:in.Start]...)
			dst = append(dst, check...)
			last = in.Start
		}
	}
	if err := body.Err(); err != nil {
		return nil, err
	}
	return append(dst, code[last:]...), nil
}

func uleb(v uint32) []byte { return wasmbin.AppendULEB(nil, v) }

func sleb(v int64) []byte { return wasmbin.AppendSLEB(nil, v) }
