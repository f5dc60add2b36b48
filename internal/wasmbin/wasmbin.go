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

// Section ids.
const (
	SecCustom    = 0
	SecType      = 1
	SecImport    = 2
	SecFunction  = 3
	SecTable     = 4
	SecMemory    = 5
	SecGlobal    = 6
	SecExport    = 7
	SecStart     = 8
	SecElement   = 9
	SecCode      = 10
	SecData      = 11
	SecDataCount = 12
	SecTag       = 13
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
