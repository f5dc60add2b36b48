// Package interrupt instruments a WebAssembly module so that a host can
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
// Global, and inserts after every `loop` header
//
//	fuel = fuel - 1; if fuel <= 0 { unreachable }
//
// The host sets the fuel before each call (a bound that no legitimate call
// reaches), so a runaway call traps on its own after a bounded time, GC or
// not; a watchdog goroutine may also set it to a negative value to stop a
// call sooner. Wasm can only run forever through loops (recursion ends in
// a stack overflow), so this bounds every call. Function and global indices
// do not move: the global is appended after all existing ones.
package interrupt

import (
	"errors"
	"fmt"
)

// Global is the export name of the fuel global.
const Global = "sipkeep_fuel"

// InitialFuel is the fuel a fresh instance starts with (it bounds
// _initialize and the first calls before the host sets its own).
const InitialFuel = 1 << 34

var magic = []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}

const (
	secImport = 2
	secGlobal = 6
	secExport = 7
	secCode   = 10
)

// Instrument returns the instrumented module and the name of the exported
// interrupt global. It refuses (with an error) modules that use opcodes it
// does not decode (SIMD, threads, GC), rather than guess.
func Instrument(wasm []byte) ([]byte, string, error) {
	if len(wasm) < 8 || string(wasm[:8]) != string(magic) {
		return nil, "", errors.New("interrupt: not a wasm v1 binary")
	}
	type section struct {
		id   byte
		body []byte
	}
	var secs []section
	r := reader{b: wasm, off: 8}
	for r.off < len(r.b) {
		id := r.byte()
		n := r.u32()
		body := r.bytes(int(n))
		if r.err != nil {
			return nil, "", fmt.Errorf("interrupt: section %d: %w", id, r.err)
		}
		secs = append(secs, section{id, body})
	}
	// Count imported and defined globals: the new global's index follows them.
	var importedGlobals, definedGlobals uint32
	hasGlobal, hasExport := false, false
	for _, s := range secs {
		switch s.id {
		case secImport:
			n, err := countImportedGlobals(s.body)
			if err != nil {
				return nil, "", err
			}
			importedGlobals = n
		case secGlobal:
			hasGlobal = true
			r := reader{b: s.body}
			definedGlobals = r.u32()
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

	out := append([]byte(nil), magic...)
	emit := func(id byte, body []byte) {
		out = append(out, id)
		out = append(out, uleb(uint32(len(body)))...)
		out = append(out, body...)
	}
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
		if s.id != 0 && !hasGlobal && order(s.id) > order(secGlobal) {
			emit(secGlobal, append(uleb(1), newGlobal()...))
			hasGlobal = true
		}
		if s.id != 0 && !hasExport && order(s.id) > order(secExport) {
			emit(secExport, append(uleb(1), newExport()...))
			hasExport = true
		}
		switch s.id {
		case secGlobal:
			emit(s.id, appendVec(s.body, newGlobal()))
		case secExport:
			emit(s.id, appendVec(s.body, newExport()))
		case secCode:
			body, err := instrumentCode(s.body, check)
			if err != nil {
				return nil, "", err
			}
			sawCode = true
			emit(s.id, body)
		default:
			emit(s.id, s.body)
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
	r := reader{b: body}
	n := r.u32()
	out := uleb(n + 1)
	out = append(out, body[r.off:]...)
	return append(out, elem...)
}

func countImportedGlobals(body []byte) (uint32, error) {
	r := reader{b: body}
	n := r.u32()
	var globals uint32
	for i := uint32(0); i < n && r.err == nil; i++ {
		r.bytes(int(r.u32())) // module
		r.bytes(int(r.u32())) // name
		switch kind := r.byte(); kind {
		case 0: // func
			r.u32()
		case 1: // table: reftype, limits
			r.byte()
			r.limits()
		case 2: // memory
			r.limits()
		case 3: // global
			r.byte()
			r.byte()
			globals++
		case 4: // tag
			r.byte()
			r.u32()
		default:
			return 0, fmt.Errorf("interrupt: import kind %#x", kind)
		}
	}
	if r.err != nil {
		return 0, fmt.Errorf("interrupt: import section: %w", r.err)
	}
	return globals, nil
}

// instrumentCode rewrites every function body, inserting check after
// every loop header.
func instrumentCode(body []byte, check []byte) ([]byte, error) {
	r := reader{b: body}
	n := r.u32()
	out := uleb(n)
	fn := make([]byte, 0, 4096)
	for i := uint32(0); i < n; i++ {
		size := r.u32()
		code := r.bytes(int(size))
		if r.err != nil {
			return nil, fmt.Errorf("interrupt: function %d: %w", i, r.err)
		}
		var err error
		fn, err = instrumentFunc(fn[:0], code, check)
		if err != nil {
			return nil, fmt.Errorf("interrupt: function %d: %w", i, err)
		}
		out = append(out, uleb(uint32(len(fn)))...)
		out = append(out, fn...)
	}
	return out, nil
}

func instrumentFunc(dst, code, check []byte) ([]byte, error) {
	r := reader{b: code}
	groups := r.u32()
	for i := uint32(0); i < groups; i++ {
		r.u32()  // count
		r.byte() // valtype (reference types with heap indices are not emitted by Go)
	}
	if r.err != nil {
		return nil, r.err
	}
	last := 0
	for r.off < len(r.b) && r.err == nil {
		op := r.byte()
		switch {
		case op == 0x03: // loop
			r.blockType()
			dst = append(dst, code[last:r.off]...)
			dst = append(dst, check...)
			last = r.off
		case op == 0x02 || op == 0x04 || op == 0x06: // block, if, try
			r.blockType()
		case op <= 0x01 || op == 0x05 || op == 0x0a || op == 0x0b || op == 0x0f || op == 0x19 || op == 0x1a || op == 0x1b:
		case op == 0x07 || op == 0x08 || op == 0x09 || op == 0x18 || op == 0x0c || op == 0x0d ||
			op == 0x10 || op == 0x12 || op == 0x14 || op == 0x15 || (op >= 0x20 && op <= 0x26) ||
			op == 0x3f || op == 0x40 || op == 0xd2 || op == 0xd5 || op == 0xd6:
			r.u32()
		case op == 0x0e: // br_table
			n := r.u32()
			for j := uint32(0); j <= n && r.err == nil; j++ {
				r.u32()
			}
		case op == 0x11 || op == 0x13: // call_indirect: type, table
			r.u32()
			r.u32()
		case op == 0x1c: // select t*
			n := r.u32()
			r.bytes(int(n))
		case op == 0x1f: // try_table
			r.blockType()
			n := r.u32()
			for j := uint32(0); j < n && r.err == nil; j++ {
				if k := r.byte(); k <= 1 {
					r.u32()
				}
				r.u32()
			}
		case op >= 0x28 && op <= 0x3e: // memarg
			if align := r.u32(); align&0x40 != 0 {
				r.u32() // memory index
			}
			r.u64()
		case op == 0x41:
			r.s64()
		case op == 0x42:
			r.s64()
		case op == 0x43:
			r.bytes(4)
		case op == 0x44:
			r.bytes(8)
		case op >= 0x45 && op <= 0xc4, op == 0xd1, op == 0xd3, op == 0xd4:
		case op == 0xd0: // ref.null heaptype
			r.s64()
		case op == 0xfc:
			switch sub := r.u32(); {
			case sub <= 7:
			case sub == 8 || sub == 10 || sub == 12 || sub == 14:
				r.u32()
				r.u32()
			case sub == 9 || sub == 11 || sub == 13 || (sub >= 15 && sub <= 17):
				r.u32()
			default:
				return nil, fmt.Errorf("opcode 0xfc %d not supported", sub)
			}
		default:
			return nil, fmt.Errorf("opcode %#x not supported", op)
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	return append(dst, code[last:]...), nil
}

// reader decodes LEB128 and bytes; the first error sticks.
type reader struct {
	b   []byte
	off int
	err error
}

var errShort = errors.New("truncated")

func (r *reader) byte() byte {
	if r.off >= len(r.b) {
		r.err = errShort
		r.off = len(r.b)
		return 0
	}
	c := r.b[r.off]
	r.off++
	return c
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || r.off+n > len(r.b) {
		r.err = errShort
		r.off = len(r.b)
		return nil
	}
	s := r.b[r.off : r.off+n]
	r.off += n
	return s
}

func (r *reader) u64() uint64 {
	var v uint64
	for shift := 0; shift < 70; shift += 7 {
		c := r.byte()
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 || r.err != nil {
			return v
		}
	}
	r.err = errors.New("LEB128 too long")
	return v
}

func (r *reader) u32() uint32 { return uint32(r.u64()) }

// s64 skips a signed LEB128 (the value is not needed).
func (r *reader) s64() { r.u64() }

func (r *reader) limits() {
	flags := r.byte()
	r.u64()
	if flags&1 != 0 {
		r.u64()
	}
}

// blockType skips a block type: empty (0x40), a value type, or a type index (s33).
func (r *reader) blockType() {
	if r.off >= len(r.b) {
		r.err = errShort
		return
	}
	switch c := r.b[r.off]; c {
	case 0x40, 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f:
		r.off++
	default:
		r.s64()
	}
}

func uleb(v uint32) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func sleb(v int64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
