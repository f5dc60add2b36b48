package wasmbin

import (
	"errors"
	"fmt"
)

// Opcodes the rewrites look at.
const (
	OpBlock    = 0x02
	OpLoop     = 0x03
	OpIf       = 0x04
	OpElse     = 0x05
	OpEnd      = 0x0b
	OpBr       = 0x0c
	OpBrIf     = 0x0d
	OpBrTable  = 0x0e
	OpLocalGet = 0x20
	OpLocalSet = 0x21
	OpLocalTee = 0x22
	OpI32Const = 0x41
	OpI32Eqz   = 0x45
	OpPrefixFC = 0xfc // saturating conversions, bulk memory and table instructions
)

// FCTableGrow is table.grow's sub-opcode after OpPrefixFC.
const FCTableGrow = 15

// BlockEmpty is the block type of a construct without parameters or
// results (Instr.Imm of its block, loop or if).
const BlockEmpty = 0x40

// Instr is one decoded instruction of a function body.
type Instr struct {
	Op         byte
	Start, End int      // its bytes in the body: [Start, End)
	Imm        int64    // the index, depth or constant of the instructions that have one; a block type's first byte; the sub-opcode after OpPrefixFC
	Table      []uint32 // br_table's depths, the default last (reused between calls)
}

// Body decodes a function body: Reset skips its locals, then Next decodes
// each instruction. The zero Body is ready for Reset.
type Body struct {
	r Reader
}

// Reset starts decoding code (one function's body, without its size) and
// skips its local declarations.
func (b *Body) Reset(code []byte) error {
	b.r = Reader{B: code}
	groups := b.r.U32()
	for i := uint32(0); i < groups && b.r.Err == nil; i++ {
		b.r.U32()  // count
		b.r.Byte() // value type (Go emits no reference types with heap indices)
	}
	return b.r.Err
}

// Next decodes the next instruction into in. It returns false at the end
// of the body or on an error (see Err).
func (b *Body) Next(in *Instr) bool {
	r := &b.r
	if r.Err != nil || r.Off >= len(r.B) {
		return false
	}
	in.Start = r.Off
	in.Imm = 0
	op := r.B[r.Off]
	r.Off++
	in.Op = op
	switch immediates[op] {
	case immNone:
	case immIndex:
		in.Imm = int64(r.u32Fast())
	case immConst:
		if r.Off < len(r.B) && r.B[r.Off] < 0x40 { // one byte, positive
			in.Imm = int64(r.B[r.Off])
			r.Off++
		} else {
			in.Imm = r.S64()
		}
	case immMemarg:
		if align := r.u32Fast(); align&0x40 != 0 {
			r.U32() // memory index
		}
		r.u32Fast()
	case immBlockType:
		if r.Off < len(r.B) {
			in.Imm = int64(r.B[r.Off]) // BlockEmpty, a value type, or a type index's first byte
		}
		r.BlockType()
	case immBrTable:
		n := r.U32()
		if int(n) > len(r.B) { // each depth takes a byte at least
			r.fail(errShort)
			return false
		}
		in.Table = in.Table[:0]
		for j := uint32(0); j <= n && r.Err == nil; j++ {
			in.Table = append(in.Table, r.U32())
		}
	case immTwoIndices: // call_indirect: type, table
		r.U32()
		r.U32()
	case immSelectTypes:
		n := r.U32()
		r.Bytes(int(n))
	case immTryTable:
		r.BlockType()
		n := r.U32()
		for j := uint32(0); j < n && r.Err == nil; j++ {
			if k := r.Byte(); k <= 1 {
				r.U32()
			}
			r.U32()
		}
	case immF32:
		r.Bytes(4)
	case immF64:
		r.Bytes(8)
	case immHeapType:
		r.S64()
	case immPrefixFC:
		sub := r.U32()
		in.Imm = int64(sub)
		switch {
		case sub <= 7:
		case sub == 8 || sub == 10 || sub == 12 || sub == 14:
			r.U32()
			r.U32()
		case sub == 9 || sub == 11 || sub == 13 || (sub >= 15 && sub <= 17):
			r.U32()
		default:
			r.fail(fmt.Errorf("opcode 0xfc %d not supported", sub))
		}
	default:
		r.fail(fmt.Errorf("opcode %#x not supported", op))
	}
	in.End = r.Off
	return r.Err == nil
}

// The immediates that follow an opcode, by kind.
const (
	immInvalid byte = iota // not an opcode the rewrites decode (SIMD, threads, GC)
	immNone
	immIndex // one u32: an index or a depth
	immConst // one signed LEB128 (i32.const, i64.const)
	immMemarg
	immBlockType
	immBrTable
	immTwoIndices
	immSelectTypes
	immTryTable
	immF32
	immF64
	immHeapType
	immPrefixFC
)

// immediates is the kind of each opcode's immediates: a table, because the
// host decodes every instruction of a module at each load.
var immediates = func() (t [256]byte) {
	set := func(k byte, ops ...int) {
		for _, op := range ops {
			t[op] = k
		}
	}
	for op := 0x45; op <= 0xc4; op++ {
		t[op] = immNone // numeric
	}
	for op := 0x28; op <= 0x3e; op++ {
		t[op] = immMemarg
	}
	for op := OpLocalGet; op <= 0x26; op++ {
		t[op] = immIndex // locals, globals, table.get/set
	}
	set(immNone, 0x00, 0x01, OpElse, 0x0a, OpEnd, 0x0f, OpCatchAll, 0x1a, 0x1b, 0xd1, 0xd3, 0xd4)
	set(immIndex, OpBr, OpBrIf, 0x10, OpCatch, OpThrow, OpRethrow, OpDelegate, OpReturnCall, OpCallRef, OpReturnCallRef,
		0x3f, 0x40, 0xd2, OpBrOnNull, OpBrOnNonNull)
	set(immBlockType, OpBlock, OpLoop, OpIf, OpTry)
	set(immBrTable, OpBrTable)
	set(immTwoIndices, 0x11, OpReturnCallIndirect)
	set(immSelectTypes, 0x1c)
	set(immTryTable, OpTryTable)
	set(immConst, OpI32Const, 0x42)
	set(immF32, 0x43)
	set(immF64, 0x44)
	set(immHeapType, 0xd0)
	set(immPrefixFC, 0xfc)
	return t
}()

// u32Fast is U32 with the one-byte case (most indices, depths and
// offsets) inline: Next runs for every instruction of a module at load.
func (r *Reader) u32Fast() uint32 {
	if r.Off < len(r.B) {
		if c := r.B[r.Off]; c < 0x80 {
			r.Off++
			return uint32(c)
		}
	}
	return r.U32()
}

// Err is the error that stopped Next, if any.
func (b *Body) Err() error { return b.r.Err }

// AppendCode appends a code section rebuilt from code (the body of a code
// section) to dst: f gets each function body and returns it rewritten (or
// as it is, to keep it). The section's size is written as a five-byte
// LEB128 (valid, if not minimal), so the section is built in place rather
// than copied: the host rewrites the plugin's 3.5 MB of code at each load.
func AppendCode(dst, code []byte, f func(body []byte) ([]byte, error)) ([]byte, error) {
	r := Reader{B: code}
	n := r.U32()
	dst = append(dst, SecCode)
	at := len(dst)
	dst = append(dst, 0x80, 0x80, 0x80, 0x80, 0x00)
	dst = AppendULEB(dst, n)
	for i := uint32(0); i < n; i++ {
		size := r.U32()
		body := r.Bytes(int(size))
		if r.Err != nil {
			return nil, fmt.Errorf("function %d: %w", i, r.Err)
		}
		nb, err := f(body)
		if err != nil {
			return nil, fmt.Errorf("function %d: %w", i, err)
		}
		dst = AppendULEB(dst, uint32(len(nb)))
		dst = append(dst, nb...)
	}
	size := len(dst) - at - 5
	if size > 1<<32-1 {
		return nil, errors.New("code section too large")
	}
	for j := range 5 {
		c := byte(size>>(7*j)) & 0x7f
		if j < 4 {
			c |= 0x80
		}
		dst[at+j] = c
	}
	return dst, nil
}
