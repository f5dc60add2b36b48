// Package wasmbin decodes just enough of the WebAssembly binary format for
// the module rewrites sipkeep does before compiling a plugin (see
// internal/wasminterrupt and internal/wasmjump): sections, LEB128 and the
// instructions of a function body, one at a time, with their immediates
// skipped or read. It does not validate: wazero does, when it compiles the
// rewritten module.
package wasmbin

import (
	"errors"
	"fmt"
)

// Magic is the preamble of a version 1 binary module.
var Magic = []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}

// Section ids used by the rewrites and the host.
const (
	SecType   = 1
	SecImport = 2
	SecGlobal = 6
	SecExport = 7
	SecStart  = 8
	SecCode   = 10
)

// Section is one section of a module.
type Section struct {
	ID   byte
	Body []byte
}

// Sections splits a module into its sections.
func Sections(wasm []byte) ([]Section, error) {
	if len(wasm) < 8 || string(wasm[:8]) != string(Magic) {
		return nil, errors.New("not a wasm v1 binary")
	}
	var secs []Section
	r := Reader{B: wasm, Off: 8}
	for r.Off < len(r.B) {
		id := r.Byte()
		n := r.U32()
		body := r.Bytes(int(n))
		if r.Err != nil {
			return nil, fmt.Errorf("section %d: %w", id, r.Err)
		}
		secs = append(secs, Section{id, body})
	}
	return secs, nil
}

// CheckVectorCounts refuses a module whose sections declare more entries
// than their bytes can hold. Every entry of a section's vector takes at
// least one byte, so a larger count is malformed; the check matters because
// a decoder that reserves room for the declared count before reading the
// entries (wazero's does, for exports) would turn a 60-byte module into
// gigabytes of allocation. Custom (0), start (8) and data count (12)
// sections hold no vector.
func CheckVectorCounts(secs []Section) error {
	for _, s := range secs {
		switch s.ID {
		case 0, SecStart, 12:
			continue
		}
		r := Reader{B: s.Body}
		n := r.U32()
		if r.Err != nil {
			return fmt.Errorf("section %d: entry count: %w", s.ID, r.Err)
		}
		if left := len(s.Body) - r.Off; uint64(n) > uint64(left) {
			return fmt.Errorf("section %d declares %d entries in %d bytes", s.ID, n, left)
		}
		if s.ID == SecType {
			if err := checkFuncTypes(&r, n); err != nil {
				return fmt.Errorf("section %d: %w", s.ID, err)
			}
		}
	}
	return nil
}

// checkFuncTypes bounds the parameter and result counts of n function types
// the same way: a decoder reserves them before reading (FuzzThread: a
// 56-byte module declaring 3.5 billion parameters ran out of memory).
func checkFuncTypes(r *Reader, n uint32) error {
	for i := uint32(0); i < n; i++ {
		r.Byte() // the form, 0x60
		for _, what := range []string{"parameters", "results"} {
			k := r.U32()
			if r.Err != nil {
				return fmt.Errorf("type %d: %w", i, r.Err)
			}
			if left := len(r.B) - r.Off; uint64(k) > uint64(left) {
				return fmt.Errorf("type %d declares %d %s in %d bytes", i, k, what, left)
			}
			r.Bytes(int(k))
		}
	}
	return nil
}

// AppendSection appends a section with its id and length to out.
func AppendSection(out []byte, id byte, body []byte) []byte {
	out = append(out, id)
	out = AppendULEB(out, uint32(len(body)))
	return append(out, body...)
}

// Reader reads bytes and LEB128 numbers; the first error sticks and every
// later read returns zero.
type Reader struct {
	B   []byte
	Off int
	Err error
}

var errShort = errors.New("truncated")

// Byte reads one byte.
func (r *Reader) Byte() byte {
	if r.Off >= len(r.B) {
		r.fail(errShort)
		return 0
	}
	c := r.B[r.Off]
	r.Off++
	return c
}

// Bytes reads n bytes (a view of the input).
func (r *Reader) Bytes(n int) []byte {
	if n < 0 || r.Off+n > len(r.B) {
		r.fail(errShort)
		return nil
	}
	s := r.B[r.Off : r.Off+n]
	r.Off += n
	return s
}

func (r *Reader) fail(err error) {
	if r.Err == nil {
		r.Err = err
	}
	r.Off = len(r.B)
}

// U64 reads an unsigned LEB128.
func (r *Reader) U64() uint64 {
	var v uint64
	for shift := 0; shift < 70; shift += 7 {
		c := r.Byte()
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 || r.Err != nil {
			return v
		}
	}
	r.fail(errors.New("LEB128 too long"))
	return 0
}

// U32 reads an unsigned LEB128 of at most 32 bits.
func (r *Reader) U32() uint32 { return uint32(r.U64()) }

// S64 reads a signed LEB128.
func (r *Reader) S64() int64 {
	var v int64
	for shift := 0; shift < 70; shift += 7 {
		c := r.Byte()
		v |= int64(c&0x7f) << shift
		if c&0x80 == 0 || r.Err != nil {
			if shift+7 < 64 && c&0x40 != 0 {
				v |= -1 << (shift + 7)
			}
			return v
		}
	}
	r.fail(errors.New("LEB128 too long"))
	return 0
}

// Limits skips a table's or memory's limits.
func (r *Reader) Limits() {
	flags := r.Byte()
	r.U64()
	if flags&1 != 0 {
		r.U64()
	}
}

// BlockType skips a block type: empty (0x40), a value type, or a type index (s33).
func (r *Reader) BlockType() {
	if r.Off >= len(r.B) {
		r.fail(errShort)
		return
	}
	switch c := r.B[r.Off]; c {
	case 0x40, 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f:
		r.Off++
	default:
		r.S64()
	}
}

// AppendULEB appends v as an unsigned LEB128.
func AppendULEB(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// AppendSLEB appends v as a signed LEB128.
func AppendSLEB(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
