package host

import (
	"fmt"
	"strconv"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/internal/asciifold"
)

// A sandboxed plugin must only be able to do what the ABI says an edit
// does. abi.DecodeOutput checks where an edit goes (inside the message, in
// order); checkEdits checks what it writes, against the message, before the
// host applies anything, so every adapter gets the check:
//
//   - set-keep: "=N" replacing the value (or the empty value) of an existing
//     keep parameter of Via #Via, or ";keep=N" inserted at the end of that
//     Via value when it has no keep; N the edit's Value, in decimal, within
//     the policy's floor and ceiling;
//   - add-keep: ";keep" inserted at the end of the top Via value, on an
//     outgoing request (the only message whose top Via is ours), when that
//     Via has no keep;
//   - strip-keep-value: the value of a keep parameter of Via #Via deleted
//     ("=N" with its whitespace), nothing else.
//
// At most one edit per Via. Anything else refuses the whole result: the
// message passes unchanged and the refusal is counted by reason.

// Reasons a result is refused for its edits (label of
// sipkeep_refused_results_total).
const (
	refuseUnknownOp  = "unknown_op"       // not an abi.EditOp
	refuseNoVia      = "no_such_via"      // the message has no Via #Via
	refuseTwice      = "via_edited_twice" // two edits on one Via
	refuseOutsideVia = "outside_via"      // the span is not inside Via #Via
	refuseNotKeep    = "not_keep_param"   // the span is not a keep value or a parameter boundary
	refuseNotOwnVia  = "not_own_via"      // add-keep elsewhere than on an outgoing request's top Via
	refuseText       = "bad_text"         // the bytes are not what the op writes
	refuseRange      = "outside_policy"   // set-keep value outside [floor, ceiling]
)

var refuseReasons = []string{refuseUnknownOp, refuseNoVia, refuseTwice, refuseOutsideVia, refuseNotKeep, refuseNotOwnVia, refuseText, refuseRange}

// EditError says why a result's edits were refused (the Err of a CallError
// with Cause CauseBadEdit).
type EditError struct {
	Index  int // the edit
	Op     abi.EditOp
	Reason string // one of the refuse* reasons
	Detail string
}

func (e *EditError) Error() string {
	return fmt.Sprintf("edit %d (%v) refused: %s: %s", e.Index, e.Op, e.Reason, e.Detail)
}

// keepBounds are the policy's floor and ceiling in seconds.
type keepBounds struct{ floor, ceiling uint32 }

// checkEdits checks out's edits against msg (the message they apply to).
// Its cost is one pass over the header lines up to the last Via an edit
// names, and nothing for a result without edits.
func checkEdits(msg []byte, ownTopVia bool, out *abi.Output, kb keepBounds) *EditError {
	if len(out.EditList) == 0 {
		return nil
	}
	maxVia := 0
	for i := range out.EditList {
		maxVia = max(maxVia, int(out.EditList[i].Via))
	}
	var vs viaScan
	vs.scan(msg, maxVia)
	var seen [4]uint64 // Via indexes already edited (Via is a uint8)
	for i := range out.EditList {
		e := &out.EditList[i]
		fail := func(reason, format string, args ...any) *EditError {
			return &EditError{Index: i, Op: e.Op, Reason: reason, Detail: fmt.Sprintf(format, args...)}
		}
		if e.Op < abi.EditSetKeep || e.Op > abi.EditStripKeepValue {
			return fail(refuseUnknownOp, "op %d", e.Op)
		}
		if int(e.Via) >= vs.n {
			return fail(refuseNoVia, "Via #%d, the message has %d", e.Via, vs.n)
		}
		if seen[e.Via/64]&(1<<(e.Via%64)) != 0 {
			return fail(refuseTwice, "Via #%d", e.Via)
		}
		seen[e.Via/64] |= 1 << (e.Via % 64)
		v := &vs.vias[e.Via]
		start, end := int(e.Start), int(e.End)
		if start < v.start || end > v.end {
			return fail(refuseOutsideVia, "[%d,%d) is not inside Via #%d [%d,%d)", start, end, e.Via, v.start, v.end)
		}
		text := out.Text[e.TextOff : e.TextOff+e.TextLen]
		isKeep := v.keepAt(start, end)
		switch e.Op {
		case abi.EditStripKeepValue:
			if !isKeep || start == end {
				return fail(refuseNotKeep, "[%d,%d) is not the value of a keep parameter", start, end)
			}
			if len(text) != 0 {
				return fail(refuseText, "strip-keep-value writes %d bytes", len(text))
			}
		case abi.EditSetKeep:
			if e.Value < kb.floor || e.Value > kb.ceiling {
				return fail(refuseRange, "keep=%d outside [%d, %d]", e.Value, kb.floor, kb.ceiling)
			}
			var want []byte
			var buf [16]byte
			switch {
			case isKeep:
				want = strconv.AppendUint(append(buf[:0], '='), uint64(e.Value), 10)
			case start == end && !v.hasKeep && start == v.end:
				want = strconv.AppendUint(append(buf[:0], ";keep="...), uint64(e.Value), 10)
			default:
				return fail(refuseNotKeep, "[%d,%d) is neither a keep value nor the end of a Via without keep", start, end)
			}
			if string(text) != string(want) {
				return fail(refuseText, "writes %q, set-keep %d writes %q", clip(text), e.Value, string(want))
			}
		case abi.EditAddKeep:
			if e.Via != 0 || !ownTopVia {
				return fail(refuseNotOwnVia, "Via #%d of a message that is not an outgoing request", e.Via)
			}
			if start != end || v.hasKeep || start != v.end {
				return fail(refuseNotKeep, "[%d,%d) is not the end of a Via without keep", start, end)
			}
			if string(text) != ";keep" {
				return fail(refuseText, "writes %q, add-keep writes \";keep\"", clip(text))
			}
		}
	}
	return nil
}

// clip keeps a refused text short in errors and logs.
func clip(b []byte) []byte {
	if len(b) > 40 {
		return append(append([]byte(nil), b[:40]...), "..."...)
	}
	return b
}

// keepParam is a keep parameter of a Via value: its name ends at nameEnd,
// its value (with the '=' and whitespace; empty for a bare keep) at end.
type keepParam struct{ nameEnd, end int }

// viaValue is one Via value: [start, end) trimmed of whitespace (a new
// parameter goes at end) and its keep parameters.
type viaValue struct {
	start, end int
	keeps      [4]keepParam
	nkeep      int // may exceed len(keeps): the rest are not recorded
	hasKeep    bool
}

// keepAt reports whether [start, end) is exactly the value of a keep parameter.
func (v *viaValue) keepAt(start, end int) bool {
	for _, k := range v.keeps[:min(v.nkeep, len(v.keeps))] {
		if k.nameEnd == start && k.end == end {
			return true
		}
	}
	return false
}

// viaScan finds the Via values of a message's header, in order.
type viaScan struct {
	vias [8]viaValue // most messages; more spill into extra
	more []viaValue
	n    int
}

func (s *viaScan) at(i int) *viaValue {
	if i < len(s.vias) {
		return &s.vias[i]
	}
	return &s.more[i-len(s.vias)]
}

func (s *viaScan) add() *viaValue {
	if s.n >= len(s.vias) {
		s.more = append(s.more, viaValue{})
	}
	s.n++
	v := s.at(s.n - 1)
	*v = viaValue{}
	return v
}

// scan reads the header of msg (the start line, then header lines with
// their continuations, up to the empty line) and records the Via values,
// stopping after value #last. Linear in the bytes it reads.
func (s *viaScan) scan(msg []byte, last int) {
	i := lineEnd(msg, 0) // skip the start line
	for i < len(msg) && s.n <= last {
		if msg[i] == '\r' || msg[i] == '\n' {
			return // the empty line: end of the header
		}
		// The header field: name ':' value, the value running over
		// continuation lines (starting with SP or HT).
		colon := i
		for colon < len(msg) && msg[colon] != ':' && msg[colon] != '\n' {
			colon++
		}
		end := lineEnd(msg, i)
		for end < len(msg) && (msg[end] == ' ' || msg[end] == '\t') {
			end = lineEnd(msg, end)
		}
		if colon < len(msg) && msg[colon] == ':' && isViaName(msg[i:colon]) {
			s.values(msg, colon+1, end, last)
		}
		i = end
	}
}

// lineEnd returns the index after the LF ending the line at i (len(msg) if none).
func lineEnd(msg []byte, i int) int {
	for i < len(msg) && msg[i] != '\n' {
		i++
	}
	if i < len(msg) {
		i++
	}
	return i
}

func isViaName(name []byte) bool {
	for len(name) > 0 && (name[len(name)-1] == ' ' || name[len(name)-1] == '\t') {
		name = name[:len(name)-1]
	}
	return asciifold.Equal(name, "via") || asciifold.Equal(name, "v")
}

func isLWS(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// values splits the field value msg[i:end) at commas outside quoted strings
// and parses each Via value's parameters.
func (s *viaScan) values(msg []byte, i, end, last int) {
	for i < end && s.n <= last {
		for i < end && (isLWS(msg[i]) || msg[i] == ',') {
			i++
		}
		if i >= end {
			return
		}
		v := s.add()
		v.start = i
		// sent-protocol and sent-by: up to the first ';' or ','.
		for i < end && msg[i] != ';' && msg[i] != ',' {
			i++
		}
		v.end = trimEnd(msg, v.start, i)
		for i < end && msg[i] == ';' {
			var p keepParam
			i++
			for i < end && isLWS(msg[i]) {
				i++
			}
			ns := i
			for i < end && !isLWS(msg[i]) && msg[i] != '=' && msg[i] != ';' && msg[i] != ',' {
				i++
			}
			p.nameEnd = i
			keep := asciifold.Equal(msg[ns:i], "keep")
			p.end = i
			j := i
			for j < end && isLWS(msg[j]) {
				j++
			}
			if j < end && msg[j] == '=' {
				j++
				p.end = j // an empty value ends at the '=' (as the plugin's scanner has it)
				for j < end && isLWS(msg[j]) {
					j++
				}
				vs := j
				if j < end && msg[j] == '"' {
					j++
					for j < end && msg[j] != '"' {
						if msg[j] == '\\' && j+1 < end {
							j++
						}
						j++
					}
					if j < end {
						j++
					}
				} else {
					for j < end && !isLWS(msg[j]) && msg[j] != ';' && msg[j] != ',' {
						j++
					}
				}
				if j > vs {
					p.end = j
				}
				i = p.end
			}
			if keep {
				if v.nkeep < len(v.keeps) {
					v.keeps[v.nkeep] = p
				}
				v.nkeep++
				v.hasKeep = true
			}
			v.end = p.end
			for i < end && isLWS(msg[i]) {
				i++
			}
		}
		// Anything else before the next ',' (malformed) belongs to no
		// parameter: skip it.
		for i < end && msg[i] != ',' {
			i++
		}
	}
}

// trimEnd returns the end of msg[start:end) without trailing whitespace.
func trimEnd(msg []byte, start, end int) int {
	for end > start && isLWS(msg[end-1]) {
		end--
	}
	return end
}
