package wasmbin

// Control opcodes from the exception-handling, tail-call and
// function-reference proposals. Go's wasm backend emits none of them, but a
// rewrite that tracks nesting or branch targets must still know what they
// do, or reject them.
const (
	OpTry                = 0x06 // legacy exception handling: opens a block
	OpCatch              = 0x07
	OpThrow              = 0x08
	OpRethrow            = 0x09
	OpReturnCall         = 0x12
	OpReturnCallIndirect = 0x13
	OpCallRef            = 0x14
	OpReturnCallRef      = 0x15
	OpDelegate           = 0x18 // legacy exception handling: closes a try
	OpCatchAll           = 0x19
	OpTryTable           = 0x1f // opens a block
	OpBrOnNull           = 0xd5 // branches by depth, like br_if
	OpBrOnNonNull        = 0xd6
)

// OpensBlock reports whether op starts a construct that a later end (or,
// for try, delegate) closes: block, loop, if, try, try_table.
func OpensBlock(op byte) bool {
	switch op {
	case OpBlock, OpLoop, OpIf, OpTry, OpTryTable:
		return true
	}
	return false
}

// ClosesBlock reports whether op ends the innermost open construct: end,
// or delegate (which ends a try).
func ClosesBlock(op byte) bool { return op == OpEnd || op == OpDelegate }

// BranchesToDepth reports whether op branches to the construct its one
// immediate (Instr.Imm) names by depth: br, br_if, br_on_null,
// br_on_non_null. br_table's depths are in Instr.Table.
func BranchesToDepth(op byte) bool {
	switch op {
	case OpBr, OpBrIf, OpBrOnNull, OpBrOnNonNull:
		return true
	}
	return false
}

// NotFromGo reports a control instruction Go's wasm backend never emits:
// exception handling, tail calls, typed function references.
func NotFromGo(op byte) bool {
	switch op {
	case OpTry, OpCatch, OpThrow, OpRethrow, OpDelegate, OpCatchAll, OpTryTable,
		OpReturnCall, OpReturnCallIndirect, OpCallRef, OpReturnCallRef,
		OpBrOnNull, OpBrOnNonNull:
		return true
	}
	return false
}
