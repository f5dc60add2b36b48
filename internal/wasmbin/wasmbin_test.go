package wasmbin

import (
	"bytes"
	"math"
	"slices"
	"testing"
)

func TestLEB128RoundTrip(t *testing.T) {
	for _, v := range []int64{0, 1, 63, 64, 127, 128, -1, -64, -65, math.MaxInt32, math.MinInt32, math.MaxInt64, math.MinInt64} {
		r := Reader{B: AppendSLEB(nil, v)}
		if got := r.S64(); got != v || r.Err != nil || r.Off != len(r.B) {
			t.Errorf("S64(AppendSLEB(%d)) = %d, %v", v, got, r.Err)
		}
		if v >= 0 && v <= math.MaxUint32 {
			r := Reader{B: AppendULEB(nil, uint32(v))}
			if got := r.U32(); int64(got) != v || r.Err != nil {
				t.Errorf("U32(AppendULEB(%d)) = %d, %v", v, got, r.Err)
			}
		}
	}
	r := Reader{B: []byte{0x80, 0x80}}
	if r.U32(); r.Err == nil {
		t.Error("a truncated LEB128 read without error")
	}
}

// TestDecodeInstructions: each instruction's bytes and immediates.
func TestDecodeInstructions(t *testing.T) {
	body := []byte{
		0x01, 0x02, 0x7f, // two i32 locals
		0x02, 0x40, // block
		0x03, 0x7e, // loop (result i64)
		0x41, 0xff, 0x00, // i32.const 127
		0x21, 0x01, // local.set 1
		0x0e, 0x02, 0x00, 0x01, 0x00, // br_table 0 1 (default 0)
		0x28, 0x02, 0x90, 0x01, // i32.load align=2 offset=144
		0xfc, 0x0a, 0x00, 0x00, // memory.copy 0 0
		0x0b, 0x0b, 0x0b, // end; end; end
	}
	var b Body
	if err := b.Reset(body); err != nil {
		t.Fatal(err)
	}
	want := []Instr{
		{Op: OpBlock, Start: 3, End: 5, Imm: BlockEmpty},
		{Op: OpLoop, Start: 5, End: 7, Imm: 0x7e},
		{Op: OpI32Const, Start: 7, End: 10, Imm: 127},
		{Op: OpLocalSet, Start: 10, End: 12, Imm: 1},
		{Op: OpBrTable, Start: 12, End: 17, Table: []uint32{0, 1, 0}},
		{Op: 0x28, Start: 17, End: 21},
		{Op: OpPrefixFC, Start: 21, End: 25, Imm: 10},
		{Op: OpEnd, Start: 25, End: 26},
		{Op: OpEnd, Start: 26, End: 27},
		{Op: OpEnd, Start: 27, End: 28},
	}
	var in Instr
	for i, w := range want {
		if !b.Next(&in) {
			t.Fatalf("instruction %d: %v", i, b.Err())
		}
		if in.Op != w.Op || in.Start != w.Start || in.End != w.End || in.Imm != w.Imm ||
			(w.Table != nil && !slices.Equal(in.Table, w.Table)) {
			t.Errorf("instruction %d: %+v, want %+v", i, in, w)
		}
	}
	if b.Next(&in) || b.Err() != nil {
		t.Errorf("after the body: %+v, %v", in, b.Err())
	}
	if err := b.Reset([]byte{0x00, 0xfd, 0x00}); err != nil || b.Next(&in) || b.Err() == nil {
		t.Error("a SIMD opcode decoded without error")
	}
}

// TestAppendCode: the rebuilt section, its size padded to five bytes, reads
// back as the same functions.
func TestAppendCode(t *testing.T) {
	bodies := [][]byte{{0x00, 0x0b}, bytes.Repeat([]byte{0x01}, 300)}
	code := AppendULEB(nil, uint32(len(bodies)))
	for _, b := range bodies {
		code = AppendULEB(code, uint32(len(b)))
		code = append(code, b...)
	}
	mod, err := AppendCode(append([]byte(nil), Magic...), code, func(b []byte) ([]byte, error) { return b, nil })
	if err != nil {
		t.Fatal(err)
	}
	secs, err := Sections(mod)
	if err != nil || len(secs) != 1 || secs[0].ID != SecCode || !bytes.Equal(secs[0].Body, code) {
		t.Fatalf("sections %+v, %v", secs, err)
	}
}
