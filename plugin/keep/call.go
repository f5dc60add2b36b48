package keep

import (
	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/plugin/internal/sipscan"
)

type entry uint8

const (
	entryRequest entry = iota
	entryResponse
	entryTimer
)

// textCapacity bounds the replacement bytes of one output: at most MaxEdits
// edits of at most 11 bytes ("=4294967295").
const textCapacity = abi.MaxEdits * 11

// call is the scratch state of one call. It lives in the Plugin and is reset
// at the start of every call, so calls allocate nothing.
type call struct {
	in    abi.Input
	msg   sipscan.Message
	rec   record
	entry entry
	// hadRecord: the host passed a record (so "nothing left" means delete it).
	hadRecord bool
	reason    abi.Reason
	// endReason says why keep-alives stop if this call stops them.
	endReason abi.Reason
	rng       uint64

	edits [abi.MaxEdits]abi.Edit
	ne    int
	acts  [abi.MaxActions]abi.Action
	na    int
	text  [textCapacity]byte
	nt    int

	outHdr abi.OutputHeader // encode's scratch
	sum    bindingSummary   // reconcile's, read again by deadline
}

func (c *call) reset() {
	c.hadRecord = false
	c.reason = abi.ReasonNone
	c.endReason = abi.ReasonNone
	c.ne, c.na, c.nt = 0, 0, 0
}

// setReason records why the call ended as it did; the first reason wins.
func (c *call) setReason(r abi.Reason) {
	if c.reason == abi.ReasonNone {
		c.reason = r
	}
}

// random returns the next of a deterministic stream seeded by the host's
// 64 random bits (splitmix64): one call may need several numbers (a STUN
// transaction id, an interval) and the guest has no entropy of its own.
func (c *call) random() uint64 {
	c.rng += 0x9e3779b97f4a7c15
	z := c.rng
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// between returns a uniformly drawn value in [lo, hi].
func (c *call) between(lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	return lo + int64(c.random()%uint64(hi-lo+1))
}

// edit appends an edit whose replacement text is txt.
func (c *call) edit(op abi.EditOp, via int, value uint32, start, end int, txt []byte) {
	if c.ne == len(c.edits) || c.nt+len(txt) > len(c.text) {
		return // cannot happen within MaxVias; never overrun
	}
	// Field by field, and the text byte by byte (a few bytes): a struct
	// literal assigned whole is a memory.copy in wasm, and copy calls
	// memmove, both calls out of the guest in wazero.
	e := &c.edits[c.ne]
	e.Op, e.Via, e.Value, e.Start, e.End = op, uint8(via), value, uint32(start), uint32(end)
	e.TextOff, e.TextLen = uint32(c.nt), uint32(len(txt))
	c.ne++
	for _, x := range txt {
		c.text[c.nt] = x
		c.nt++
	}
}

// editValue appends an edit whose text is "=N".
func (c *call) editValue(op abi.EditOp, via int, value uint32, start, end int) {
	var buf [11]byte
	n := value
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	i--
	buf[i] = '='
	c.edit(op, via, value, start, end, buf[i:])
}

// act appends an action for this call's flow.
func (c *call) act(kind abi.ActionKind, reason abi.Reason, value uint32) *abi.Action {
	if c.na == len(c.acts) {
		return &abi.Action{} // dropped: MaxActions is far above what one call emits
	}
	a := &c.acts[c.na]
	// Field by field: zeroing a 40-byte struct is a memory.fill in wasm,
	// which wazero runs as calls to memmove.
	a.Kind, a.Reason, a.Attempt, a.Value, a.FlowID, a.TxID = kind, reason, 0, value, c.in.FlowID, [12]byte{}
	c.na++
	return a
}

// run is the body of every entry point: decode, decide, encode.
func (p *Plugin) run(n int32, e entry) int32 {
	if n < 0 || int(n) > len(p.in) {
		return -int32(abi.ErrnoTooLarge)
	}
	c := &p.call
	c.reset()
	c.entry = e
	// The plugin never reads the addresses: the light decode skips them.
	if errno := abi.DecodeInputNoAddrs(p.in[:n], &c.in); errno != abi.ErrnoNone {
		return -int32(errno)
	}
	if !kindFits(e, c.in.Kind) {
		return -int32(abi.ErrnoBadHeader)
	}
	p.stats.calls++
	c.rng = c.in.Random
	c.hadRecord = len(c.in.Record) > 0
	if !c.rec.decode(c.in.Record) {
		c.rec.clear()
		c.setReason(abi.ReasonBadRecord)
		p.stats.badRecords++
	}

	switch {
	case e == entryTimer:
		p.onTimer(c)
	case c.in.Kind == abi.KindSIPRequest || c.in.Kind == abi.KindSIPResponse:
		p.onSIP(c)
	case c.in.Kind == abi.KindSTUN:
		p.onSTUN(c, e)
	case c.in.Kind == abi.KindPing:
		p.noteSeen(c)
	case c.in.Kind == abi.KindPong:
		p.onPong(c)
	}
	p.reconcile(c)
	return p.encode(c)
}

// kindFits reports whether the input kind belongs to the export called.
func kindFits(e entry, k abi.Kind) bool {
	switch e {
	case entryRequest:
		return k == abi.KindSIPRequest || k == abi.KindSTUN || k == abi.KindPing
	case entryResponse:
		return k == abi.KindSIPResponse || k == abi.KindSTUN || k == abi.KindPong
	}
	return k == abi.KindNone
}

// encode writes the output: header, edits, actions, text, record.
func (p *Plugin) encode(c *call) int32 {
	out := p.out[:]
	// The header is scratch in c, set field by field: a fresh struct would
	// be zeroed with a memory.fill in wasm (calls to memmove in wazero).
	h := &c.outHdr
	h.Reason, h.Flags, h.Edits, h.Actions, h.RecordLen, h.TextLen, h.Deadline = c.reason, 0, c.ne, c.na, 0, c.nt, 0
	if h.Reason == abi.ReasonNone {
		h.Reason = abi.ReasonNoKeep
		if c.ne > 0 {
			h.Reason = abi.ReasonEdited
		}
	}
	off := abi.OutputHeaderSize
	for i := 0; i < c.ne; i++ {
		abi.PutEdit(out[off:], &c.edits[i])
		off += abi.EditSize
	}
	for i := 0; i < c.na; i++ {
		abi.PutAction(out[off:], &c.acts[i])
		off += abi.ActionSize
	}
	for _, x := range c.text[:c.nt] { // (a few bytes: not worth a memmove call)
		out[off] = x
		off++
	}

	switch {
	case c.rec.empty():
		if c.hadRecord {
			h.Flags = abi.OutRecordDelete
		}
	default:
		rl := c.rec.encode(out[off:])
		// After on_timer the record is always returned, so that the host
		// re-arms the flow's timer even when nothing was due yet.
		if !c.hadRecord || c.entry == entryTimer || !c.rec.sameAs(out[off:off+rl], c.in.Record) {
			h.Flags = abi.OutRecordChanged
			h.RecordLen = rl
			off += rl
		}
		h.Deadline = p.deadline(c)
	}
	abi.PutOutputHeader(out, h)
	p.stats.edits += uint64(c.ne)
	p.stats.actions += uint64(c.na)
	return int32(off)
}

// sameAs reports whether enc, the record just encoded, is the stored
// record in. The bindings are either in's own bytes or changed (put and
// remove say which), so only the header is ever compared: on a flow with
// many bindings that skips most of the record.
func (r *record) sameAs(enc, in []byte) bool {
	if r.rawChanged || len(enc) != len(in) {
		return false
	}
	return sameRecord(enc[:recordHeaderV1], in[:recordHeaderV1]) // encode always writes the header
}

// sameRecord is bytes.Equal for records, a word at a time and four words
// per iteration: in wasm bytes.Equal is runtime.memeqbody, a loop of one
// byte per iteration (a 110-byte record cost ~0.1 µs on every call of a
// flow with a record), and each further iteration of a Go loop is a jump
// back through the function's dispatch (RATIONALE.md, "Go's jumps, made
// direct at load"). A tail of under eight bytes is compared as the last
// eight, overlapping the words before it.
func sameRecord(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	n := len(a)
	if n < 8 {
		for i := range a {
			if a[i] != b[i] {
				return false
			}
		}
		return true
	}
	i := 0
	for ; i+32 <= n; i += 32 {
		x, y := a[i:i+32], b[i:i+32]
		if (le.Uint64(x)^le.Uint64(y))|(le.Uint64(x[8:])^le.Uint64(y[8:]))|
			(le.Uint64(x[16:])^le.Uint64(y[16:]))|(le.Uint64(x[24:])^le.Uint64(y[24:])) != 0 {
			return false
		}
	}
	for ; i+8 <= n; i += 8 {
		if le.Uint64(a[i:]) != le.Uint64(b[i:i+8]) {
			return false
		}
	}
	return i == n || le.Uint64(a[n-8:]) == le.Uint64(b[n-8:n])
}
