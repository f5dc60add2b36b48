package wasmbin

import "testing"

// The control classes agree with the decoder's immediates: a construct
// opener carries a block type (or try_table's), a depth branch carries one
// index, and every class is an opcode the decoder knows.
func TestControlClassesMatchImmediates(t *testing.T) {
	for op := 0; op < 256; op++ {
		b, imm := byte(op), immediates[op]
		if OpensBlock(b) && imm != immBlockType && imm != immTryTable {
			t.Errorf("opcode %#x opens a block but its immediate kind is %d", op, imm)
		}
		if BranchesToDepth(b) && imm != immIndex {
			t.Errorf("opcode %#x branches by depth but its immediate kind is %d", op, imm)
		}
		if (ClosesBlock(b) || NotFromGo(b)) && imm == immInvalid {
			t.Errorf("opcode %#x is classified but not decoded", op)
		}
		if OpensBlock(b) && ClosesBlock(b) {
			t.Errorf("opcode %#x both opens and closes", op)
		}
	}
	for _, op := range []byte{OpBlock, OpLoop, OpIf, OpTry, OpTryTable} {
		if !OpensBlock(op) {
			t.Errorf("OpensBlock(%#x) = false", op)
		}
	}
	for _, op := range []byte{OpEnd, OpDelegate} {
		if !ClosesBlock(op) {
			t.Errorf("ClosesBlock(%#x) = false", op)
		}
	}
}

// Nesting tracked with the classes balances over a body that uses every
// opener and closer: one below zero at the end, the function's own end.
func TestControlNesting(t *testing.T) {
	code := []byte{
		0x00, // no locals
		OpBlock, BlockEmpty,
		OpLoop, BlockEmpty,
		OpTry, BlockEmpty, OpI32Const, 0, OpBrIf, 1, OpDelegate, 0,
		OpTryTable, BlockEmpty, 0, OpEnd,
		OpEnd,
		OpI32Const, 1, OpIf, BlockEmpty, OpBr, 1, OpEnd,
		OpEnd,
		OpEnd,
	}
	var body Body
	if err := body.Reset(code); err != nil {
		t.Fatal(err)
	}
	depth, branches := 0, 0
	var in Instr
	for body.Next(&in) {
		switch {
		case OpensBlock(in.Op):
			depth++
		case ClosesBlock(in.Op):
			depth--
		case BranchesToDepth(in.Op):
			branches++
		}
	}
	if err := body.Err(); err != nil {
		t.Fatal(err)
	}
	if depth != -1 || branches != 2 { // the body's own end closes the function
		t.Fatalf("depth %d, branches %d; want -1 and 2", depth, branches)
	}
}
