package wasmbin

import "fmt"

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
)

// Instr is one decoded instruction of a function body.
type Instr struct {
	Op         byte
	Start, End int      // its bytes in the body: [Start, End)
	Imm        int64    // the index, depth or constant of the instructions that have one
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
	op := r.Byte()
	in.Op = op
	switch {
	case op == OpBlock || op == OpLoop || op == OpIf || op == 0x06: // try
		r.BlockType()
	case op <= 0x01 || op == OpElse || op == 0x0a || op == OpEnd || op == 0x0f || op == 0x19 || op == 0x1a || op == 0x1b:
	case op == OpBr || op == OpBrIf || op == 0x10 || (op >= OpLocalGet && op <= 0x26) ||
		op == 0x07 || op == 0x08 || op == 0x09 || op == 0x18 || op == 0x12 || op == 0x14 || op == 0x15 ||
		op == 0x3f || op == 0x40 || op == 0xd2 || op == 0xd5 || op == 0xd6:
		in.Imm = int64(r.U32())
	case op == OpBrTable:
		n := r.U32()
		if int(n) > len(r.B) { // each depth takes a byte at least
			r.fail(errShort)
			return false
		}
		in.Table = in.Table[:0]
		for j := uint32(0); j <= n && r.Err == nil; j++ {
			in.Table = append(in.Table, r.U32())
		}
	case op == 0x11 || op == 0x13: // call_indirect: type, table
		r.U32()
		r.U32()
	case op == 0x1c: // select t*
		n := r.U32()
		r.Bytes(int(n))
	case op == 0x1f: // try_table
		r.BlockType()
		n := r.U32()
		for j := uint32(0); j < n && r.Err == nil; j++ {
			if k := r.Byte(); k <= 1 {
				r.U32()
			}
			r.U32()
		}
	case op >= 0x28 && op <= 0x3e: // memarg
		if align := r.U32(); align&0x40 != 0 {
			r.U32() // memory index
		}
		r.U64()
	case op == OpI32Const || op == 0x42:
		in.Imm = r.S64()
	case op == 0x43:
		r.Bytes(4)
	case op == 0x44:
		r.Bytes(8)
	case op >= 0x45 && op <= 0xc4, op == 0xd1, op == 0xd3, op == 0xd4:
	case op == 0xd0: // ref.null heaptype
		r.S64()
	case op == 0xfc:
		switch sub := r.U32(); {
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

// Err is the error that stopped Next, if any.
func (b *Body) Err() error { return b.r.Err }

// Bytes is the body being decoded.
func (b *Body) Bytes() []byte { return b.r.B }

// Functions calls f with each function body of a code section and returns
// the section rebuilt from f's results (f returns the body unchanged to
// keep it).
func Functions(code []byte, f func(i int, body []byte) ([]byte, error)) ([]byte, error) {
	r := Reader{B: code}
	n := r.U32()
	out := AppendULEB(make([]byte, 0, len(code)+len(code)/8), n)
	for i := uint32(0); i < n; i++ {
		size := r.U32()
		body := r.Bytes(int(size))
		if r.Err != nil {
			return nil, fmt.Errorf("function %d: %w", i, r.Err)
		}
		nb, err := f(int(i), body)
		if err != nil {
			return nil, fmt.Errorf("function %d: %w", i, err)
		}
		out = AppendULEB(out, uint32(len(nb)))
		out = append(out, nb...)
	}
	return out, nil
}
