// Package wasmjump makes the jumps of Go-compiled WebAssembly direct.
//
// Go's wasm backend cannot express an arbitrary jump in wasm's structured
// control flow, so it compiles every function as a dispatch loop:
//
//	loop $entry
//	  block $s_n ... block $s_1 block $s_0
//	    local.get 0        ;; PC_B: where to resume
//	    br_table ...       ;; to the end of one of the blocks
//	  end  <segment 0>
//	  end  <segment 1> ...
//
// and every taken jump as `i32.const K; local.set 0; br $entry`: back to
// the top of the loop and through the br_table again. A function's entry
// is the same br_table with PC_B = 0. In wazero's machine code that is a
// bounds-checked indirect jump for every call and every taken branch;
// Go's branchy logic in the guest pays it on every if.
//
// Thread rewrites three things, each an exact equivalent:
//
//   - A jump forward, to a segment whose block encloses the jump, becomes
//     `br` to that block: where the br_table would have sent it, without
//     the trip through the loop. A jump backward (a loop's back edge)
//     cannot be written as a structured branch and stays as it is.
//   - Before the dispatch's br_table, `local.get 0; i32.eqz` and a branch
//     to the entry segment: a call enters its function with a direct
//     branch.
//   - In a function without Go's dispatch (hand-written assembly: the
//     scanner's, the runtime's), every `br_if L` to a construct without
//     parameters or results becomes `if; br L+1; end`. For wazero the two
//     differ: a br_if's edge to a label reached from elsewhere too is a
//     critical edge, which its compiler splits after it has grouped
//     instructions, and the new branch then matches no comparison: the
//     condition is set in a register, zero-extended and tested again
//     before the jump (setz, movzx, test, jnz instead of one jcc after the
//     cmp). An if's edge is not critical, so its comparison and jump
//     fuse. In Go's functions (whose own conditional jumps are ifs) the
//     same rewrite of their few br_ifs measured slower, so they keep them.
//
// The first drops a write of PC_B (local 0), so Thread makes jumps direct
// in a function only when PC_B is dead at every segment's start: the
// function reads local 0 only in its dispatch, or right after writing it
// (Go sets it just before a call_indirect). A function that uses control
// instructions Go never emits (exception handling, tail calls,
// br_on_null) is copied unchanged. See RATIONALE.md, "Go's jumps, made
// direct at load".
package wasmjump

import (
	"fmt"

	"github.com/sipkeep/sipkeep/internal/wasmbin"
)

// Stats counts what Thread did.
type Stats struct {
	Functions int // functions with the dispatch loop that were rewritten
	Direct    int // jumps made direct
	Left      int // jumps left through the dispatch (back edges)
	CondBr    int // br_if rewritten as if/br
}

// Thread returns wasm with the jumps of its Go-compiled functions made
// direct, and the br_ifs of its other functions in the form wazero
// compiles to one compare and jump. The result is a valid module exactly
// when the input is one.
func Thread(wasm []byte) ([]byte, Stats, error) {
	var st Stats
	secs, err := wasmbin.Sections(wasm)
	if err != nil {
		return nil, st, fmt.Errorf("wasmjump: %w", err)
	}
	out := append(make([]byte, 0, len(wasm)+len(wasm)/8), wasmbin.Magic...)
	var t threader
	for _, s := range secs {
		if s.ID != wasmbin.SecCode {
			out = wasmbin.AppendSection(out, s.ID, s.Body)
			continue
		}
		out, err = wasmbin.AppendCode(out, s.Body, func(fn []byte) ([]byte, error) {
			return t.function(fn, &st)
		})
		if err != nil {
			return nil, st, fmt.Errorf("wasmjump: %w", err)
		}
	}
	return out, st, nil
}

// threader holds the scratch of one function's rewrite, reused.
type threader struct {
	ins   []instr
	table []uint32 // the first br_table's depths (the dispatch's, in Go's functions)
	stack []int    // ids of the enclosing block, loop and if constructs
	empty []bool   // whether each of them has the empty block type
	out   []byte   // the rewritten body (AppendCode copies it)
	body  wasmbin.Body
	in    wasmbin.Instr
}

// instr is what the rewrite keeps of an instruction.
type instr struct {
	op         byte
	start, end int32 // its bytes in the body
	imm        int64
}

// dispatch is a function's dispatch loop.
type dispatch struct {
	at     int   // index of the loop instruction
	k      int   // blocks inside it, before the br_table
	loopID int   // construct id of the loop
	target []int // construct id a PC_B value sends the br_table to, or -1 (the loop itself)
}

func (t *threader) function(code []byte, st *Stats) ([]byte, error) {
	body, in := &t.body, &t.in
	if err := body.Reset(code); err != nil {
		return nil, err
	}
	t.ins, t.table = t.ins[:0], t.table[:0]
	first := true
	for body.Next(in) {
		if wasmbin.NotFromGo(in.Op) {
			return code, nil
		}
		if in.Op == wasmbin.OpBrTable && first {
			t.table, first = append(t.table, in.Table...), false
		}
		t.ins = append(t.ins, instr{op: in.Op, start: int32(in.Start), end: int32(in.End), imm: in.Imm})
	}
	if err := body.Err(); err != nil {
		return nil, err
	}
	ins := t.ins
	if len(ins) == 0 {
		return code, nil
	}
	d, goShaped := t.findDispatch()
	threaded := goShaped && t.pcDeadAtJumps(d)
	out := append(t.out[:0], code[:ins[0].start]...) // the locals
	last := ins[0].start
	t.stack, t.empty = t.stack[:0], t.empty[:0]
	id := 0
	direct, condBr := 0, 0
	for i := range ins {
		x := &ins[i]
		switch op := x.op; {
		case wasmbin.OpensBlock(op):
			t.stack = append(t.stack, id)
			t.empty = append(t.empty, x.imm == wasmbin.BlockEmpty)
			id++
		case wasmbin.ClosesBlock(op):
			if len(t.stack) > 0 {
				t.stack = t.stack[:len(t.stack)-1]
				t.empty = t.empty[:len(t.empty)-1]
			}
		case op == wasmbin.OpBrIf:
			// Only to a construct without parameters or results: inside
			// the if, the br could not reach values below the condition.
			// (A depth past the constructs is the function's body.)
			depth := x.imm
			if goShaped || depth >= int64(len(t.empty)) || !t.empty[len(t.empty)-1-int(depth)] {
				break
			}
			out = append(out, code[last:x.start]...)
			out = appendIfBr(out, uint32(depth))
			last = x.end
			condBr++
		case op == wasmbin.OpBr:
			if !threaded || i < 2 || !t.isDispatchJump(i, d) {
				break
			}
			pc := ins[i-2].imm
			tgt := d.targetOf(pc)
			depth, ok := t.depthOf(tgt)
			if !ok {
				st.Left++
				break
			}
			out = append(out, code[last:ins[i-2].start]...)
			out = append(out, wasmbin.OpBr)
			out = wasmbin.AppendULEB(out, uint32(depth))
			last = x.end
			direct++
		case op == wasmbin.OpBrTable:
			if !threaded || i != d.brTableAt() {
				break
			}
			// The entry: PC_B = 0 goes straight to its segment.
			get := ins[i-1].start
			out = append(out, code[last:get]...)
			out = append(out, wasmbin.OpLocalGet, 0, wasmbin.OpI32Eqz, wasmbin.OpBrIf)
			out = wasmbin.AppendULEB(out, t.table[0])
			last = get
		}
	}
	if !threaded && condBr == 0 {
		return code, nil
	}
	out = append(out, code[last:]...)
	t.out = out
	if threaded {
		st.Functions++
	}
	st.Direct += direct
	st.CondBr += condBr
	return out, nil
}

// appendIfBr appends `if; br depth+1; end`: br_if depth, in the form
// wazero compiles to one compare and jump (see the package comment).
func appendIfBr(out []byte, depth uint32) []byte {
	out = append(out, wasmbin.OpIf, wasmbin.BlockEmpty, wasmbin.OpBr)
	out = wasmbin.AppendULEB(out, depth+1)
	return append(out, wasmbin.OpEnd)
}

// findDispatch finds the function's first loop and checks that it is Go's
// dispatch: the loop, k >= 1 blocks, local.get 0, br_table.
func (t *threader) findDispatch() (dispatch, bool) {
	ins := t.ins
	at := -1
	for i := range ins {
		if ins[i].op == wasmbin.OpLoop {
			at = i
			break
		}
		if ins[i].op == wasmbin.OpBrTable {
			return dispatch{}, false // (t.table holds the first br_table's depths)
		}
	}
	if at < 0 {
		return dispatch{}, false
	}
	k := 0
	for at+1+k < len(ins) && ins[at+1+k].op == wasmbin.OpBlock {
		k++
	}
	get, bt := at+1+k, at+2+k
	if k == 0 || bt >= len(ins) || ins[get].op != wasmbin.OpLocalGet || ins[get].imm != 0 || ins[bt].op != wasmbin.OpBrTable {
		return dispatch{}, false
	}
	// Construct ids are given in order of appearance: count those opened
	// before the loop.
	loopID := 0
	for i := 0; i < at; i++ {
		if op := ins[i].op; op == wasmbin.OpBlock || op == wasmbin.OpLoop || op == wasmbin.OpIf {
			loopID++
		}
	}
	d := dispatch{at: at, k: k, loopID: loopID, target: make([]int, len(t.table))}
	for pc, depth := range t.table {
		// depth 0 is the innermost block (id loopID+k), k-1 the first;
		// k is the loop itself and beyond it are exits, both left to the
		// br_table.
		d.target[pc] = -1
		if int(depth) < k {
			d.target[pc] = loopID + k - int(depth)
		}
	}
	return d, true
}

func (d *dispatch) brTableAt() int { return d.at + 2 + d.k }

// targetOf is the construct a jump with PC_B = pc lands at the end of
// (br_table's last entry is its default).
func (d *dispatch) targetOf(pc int64) int {
	if pc < 0 || pc >= int64(len(d.target)) {
		return d.target[len(d.target)-1]
	}
	return d.target[pc]
}

// isDispatchJump reports whether the br at i is Go's jump through the
// dispatch: i32.const K; local.set 0; br to the dispatch loop.
func (t *threader) isDispatchJump(i int, d dispatch) bool {
	ins := t.ins
	depth := int(ins[i].imm)
	if depth >= len(t.stack) || t.stack[len(t.stack)-1-depth] != d.loopID {
		return false
	}
	set, c := &ins[i-1], &ins[i-2]
	return set.op == wasmbin.OpLocalSet && set.imm == 0 && c.op == wasmbin.OpI32Const
}

// depthOf is the br depth of the construct id from the current position,
// if it encloses it.
func (t *threader) depthOf(id int) (int, bool) {
	if id < 0 {
		return 0, false
	}
	for s := len(t.stack) - 1; s >= 0; s-- {
		if t.stack[s] == id {
			return len(t.stack) - 1 - s, true
		}
	}
	return 0, false
}

// pcDeadAtJumps reports whether local 0 is read only by the dispatch or
// after a write in the same straight run of instructions, so that a jump
// that skips the write of PC_B changes nothing else.
func (t *threader) pcDeadAtJumps(d dispatch) bool {
	ins := t.ins
	get := d.brTableAt() - 1
	for i := range ins {
		if ins[i].op != wasmbin.OpLocalGet || ins[i].imm != 0 || i == get {
			continue
		}
		ok := false
	back:
		for j := i - 1; j >= 0; j-- {
			switch x := &ins[j]; x.op {
			case wasmbin.OpLocalSet, wasmbin.OpLocalTee:
				if x.imm == 0 {
					ok = true
					break back
				}
			case 0x00, wasmbin.OpBlock, wasmbin.OpLoop, wasmbin.OpIf, wasmbin.OpElse, wasmbin.OpEnd,
				wasmbin.OpBr, wasmbin.OpBrIf, wasmbin.OpBrTable, 0x0f:
				break back
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
