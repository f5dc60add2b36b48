package sipscan

import "math/bits"

// Word-at-a-time reading of the short values every message carries (CSeq,
// Expires, the method). In wasm each Go call and each byte-loop iteration
// is a dispatch through a br_table; these read a value with one load and a
// few multiplications, and leave anything unusual to the byte-level code.

// digitRun8 is how many of the eight bytes of x (little-endian) are ASCII
// digits before the first that is not (exact per byte, as nameRun8).
func digitRun8(x uint64) int {
	const lo, hi = swarLo, swarHi
	x7 := x &^ hi
	digit := (x7 + lo*(0x80-'0')) &^ (x7 + lo*(0x7f-'9')) &^ x & hi
	return bits.TrailingZeros64(^digit&hi) >> 3
}

// digitsValue is the number written by the k (1..8) ASCII digits in the
// low bytes of x, the first digit lowest. Moving them to the top leaves
// zero bytes below as leading zeros; then pairs, quads and the two halves
// are combined by one multiplication each.
func digitsValue(x uint64, k int) uint32 {
	x = x << (64 - 8*uint(k)) & 0x0f0f0f0f0f0f0f0f
	x = x * (10<<8 + 1) >> 8 & 0x00ff00ff00ff00ff
	x = x * (100<<16 + 1) >> 16 & 0x0000ffff0000ffff
	return uint32(x * (10000<<32 + 1) >> 32)
}

// methodOfWord is methodOf for a method of l (1..8) bytes whose first
// eight bytes, little-endian, are w (the bytes past l are ignored): one
// multiplication indexes a table where every method has a slot of its own
// (a switch would be a chain of branches, each a dispatch in wasm).
func methodOfWord(w uint64, l int) Method {
	if l < 8 {
		w &= 1<<(8*uint(l)) - 1
	}
	e := &methodSlots.slot[w*methodSlots.mul>>(64-methodSlotBits)]
	if e.w == w {
		return e.m
	}
	return MethodOther // SUBSCRIBE has nine letters: methodOf's
}

const methodSlotBits = 6

// methodSlots is found at start: the first multiplier of a fixed sequence
// that sends each method name of at most eight bytes to a slot of its own.
var methodSlots = func() (t struct {
	mul  uint64
	slot [1 << methodSlotBits]struct {
		w uint64
		m Method
	}
}) {
	names := map[string]Method{"REGISTER": MethodREGISTER, "INVITE": MethodINVITE, "ACK": MethodACK,
		"BYE": MethodBYE, "CANCEL": MethodCANCEL, "NOTIFY": MethodNOTIFY, "REFER": MethodREFER,
		"UPDATE": MethodUPDATE, "OPTIONS": MethodOPTIONS, "PRACK": MethodPRACK, "MESSAGE": MethodMESSAGE,
		"INFO": MethodINFO, "PUBLISH": MethodPUBLISH}
	for seed := uint64(1); ; seed++ {
		t.mul = (seed * 0x9e3779b97f4a7c15) ^ (seed >> 3) | 1
		clear(t.slot[:])
		ok := true
		for name, m := range names {
			w := word(name)
			e := &t.slot[w*t.mul>>(64-methodSlotBits)]
			if e.m != MethodNone {
				ok = false
				break
			}
			e.w, e.m = w, m
		}
		if ok {
			return t
		}
	}
}()

// word is s (at most eight bytes) as a little-endian word.
func word(s string) uint64 {
	var w uint64
	for i := len(s) - 1; i >= 0; i-- {
		w = w<<8 | uint64(s[i])
	}
	return w
}

// mentionsKeep reports whether b[i:end] contains "keep" in any case. A
// byte ORed with 0x20 is 'k' only when it is 'k' or 'K' (likewise 'e',
// 'p'), so eight bytes are searched for a candidate first letter at once
// and only a candidate is compared. (asciifold.Contains is the general
// form the host uses; in the guest its two bytes.IndexByte passes and
// bytes.EqualFold are Go loops, paid on every Via line a proxy forwards.)
func mentionsKeep(b []byte, i, end int) bool {
	const lo, hi = swarLo, swarHi
	const keep = 'k' | 'e'<<8 | 'e'<<16 | 'p'<<24
	for ; i+8 <= end; i += 8 {
		y := (le.Uint64(b[i:]) | lo*0x20) ^ lo*'k'
		for t := (y - lo) &^ y & hi; t != 0; t &= t - 1 {
			if p := i + bits.TrailingZeros64(t)>>3; p+4 <= end && le.Uint32(b[p:])|0x20202020 == keep {
				return true
			}
		}
	}
	for ; i+4 <= end; i++ {
		if le.Uint32(b[i:])|0x20202020 == keep {
			return true
		}
	}
	return false
}
