package sipscan

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

var le = binary.LittleEndian

// Character classes of RFC 3261 §25.1, as a table so that the hot loops do
// one load per byte instead of a chain of comparisons.
const (
	cToken = 1 << iota // token: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~"
	cHost              // hostname or IPv4 address: alphanum / "-" / "." / "_" (underscore tolerated)
	cDigit             // DIGIT
	cV6                // inside "[...]": HEXDIG / ":" / "."
	cValue             // unquoted parameter value: visible bytes but ";,\"" (and UTF-8)
	cWS                // LWS inside a value, see isWS
)

var class = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		alpha := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		digit := c >= '0' && c <= '9'
		if alpha || digit {
			t[c] |= cToken | cHost
		}
		if digit {
			t[c] |= cDigit
		}
		if digit || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == ':' || c == '.' {
			t[c] |= cV6
		}
	}
	for _, c := range []byte("-.!%*_+`'~") {
		t[c] |= cToken
	}
	for _, c := range []byte("-._") {
		t[c] |= cHost
	}
	for c := '!'; c < 256; c++ {
		if c != ';' && c != ',' && c != '"' && c != 0x7f {
			t[c] |= cValue
		}
	}
	for _, c := range []byte(" \t\r\n") {
		t[c] |= cWS
	}
	return t
}()

// isWS reports whether c is white space inside a header value. CR and LF
// count because a value range stops before the line's own terminator: any
// line break left inside it is a fold (RFC 3261 §7.3.1), i.e. LWS.
func isWS(c byte) bool { return class[c]&cWS != 0 }

// skipWS returns the first index in [i, end) that is not LWS, or end.
func skipWS(b []byte, i, end int) int {
	return skipClass(b, i, end, cWS)
}

// trimWS returns i, j with the LWS at both ends of b[i:j] removed.
func trimWS(b []byte, i, j int) (int, int) {
	i = skipWS(b, i, j)
	for j > i && isWS(b[j-1]) {
		j--
	}
	return i, j
}

// skipClass returns the first index in [i, end) whose byte is not in class c.
func skipClass(b []byte, i, end int, c uint8) int {
	for i < end && class[b[i]]&c != 0 {
		i++
	}
	return i
}

// Byte-parallel (SWAR) constants: every byte 0x01, every byte 0x80.
const (
	swarLo = 0x0101010101010101
	swarHi = 0x8080808080808080
)

// skipValue returns the first index in [i, end) whose byte is not in
// cValue, or end. It tests eight bytes per step (one load, no table), which
// in wasm is several times faster than a byte loop on long values (branch,
// received, tags).
func skipValue(b []byte, i, end int) int {
	for i+8 <= end {
		k := valueRun8(le.Uint64(b[i:]))
		i += k
		if k < 8 {
			return i
		}
	}
	for i < end && class[b[i]]&cValue != 0 {
		i++
	}
	return i
}

// valueRun8 is how many of the eight bytes of x (little-endian) are in
// cValue before the first that is not: a byte below '!', ';', ',', '"' or
// DEL. Each test flags its lowest matching byte exactly (a borrow only
// flags bytes above a true match), so the lowest flag is the answer.
func valueRun8(x uint64) int {
	const lo, hi = swarLo, swarHi
	bad := (x - lo*'!') &^ x
	y1, y2, y3, y4 := x^(lo*';'), x^(lo*','), x^(lo*'"'), x^(lo*0x7f)
	bad |= (y1 - lo) &^ y1
	bad |= (y2 - lo) &^ y2
	bad |= (y3 - lo) &^ y3
	bad |= (y4 - lo) &^ y4
	return bits.TrailingZeros64(bad&hi) >> 3
}

// nameRun8 is how many of the eight bytes of x (little-endian) are ASCII
// letters, digits or '-' before the first that is not: the bytes of almost
// every header name. Every test is exact per byte (7-bit bytes plus a
// constant never carry into the next byte), so all eight are classified
// at once with no branch.
func nameRun8(x uint64) int {
	const lo, hi = swarLo, swarHi
	x7 := x &^ hi // non-ASCII bytes are rejected below
	t := x7 | lo*0x20
	letter := (t + lo*(0x80-'a')) &^ (t + lo*(0x7f-'z'))
	digit := (x7 + lo*(0x80-'0')) &^ (x7 + lo*(0x7f-'9'))
	dash := ^(x7 ^ lo*'-' + lo*0x7f)
	ok := (letter | digit | dash) &^ x & hi
	return bits.TrailingZeros64(^ok&hi) >> 3
}

// skipQuoted skips the quoted-string that starts at b[i] == '"', honouring
// quoted-pairs, and returns the index just past the closing quote. ok is
// false when the string is not closed before end.
//
// Quoted strings are long in practice (+sip.instance, display names), so it
// jumps from '"' to '"' with IndexByte. A '"' is escaped when an odd run of
// backslashes precedes it: each '\\' escapes the byte after it, so a run
// reads as pairs from its start.
func skipQuoted(b []byte, i, end int) (int, bool) {
	for i++; i < end; {
		j := bytes.IndexByte(b[i:end], '"')
		if j < 0 {
			break
		}
		q := i + j
		k := q
		for k > i && b[k-1] == '\\' {
			k--
		}
		if (q-k)%2 == 0 {
			return q + 1, true
		}
		i = q + 1
	}
	return end, false
}

// eqFold reports whether b equals lower (an ASCII lower-case literal),
// ignoring ASCII case in b.
func eqFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for k := 0; k < len(b); k++ {
		c := b[k]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[k] {
			return false
		}
	}
	return true
}

// parseUint32 parses 1*DIGIT (leading zeros allowed) that fits in uint32.
func parseUint32(b []byte) (uint32, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
		if n > 1<<32-1 {
			return 0, false
		}
	}
	return uint32(n), true
}

// parseDelta parses delta-seconds (1*DIGIT). RFC 3261 §20.19/§25 bound
// delta-seconds by 2^32-1, so longer values saturate there instead of
// failing; anything that is not all digits is -1.
func parseDelta(b []byte) int64 {
	if len(b) == 0 {
		return -1
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return -1
		}
		if n < 1<<32 {
			n = n*10 + int64(c-'0')
		}
	}
	if n > 1<<32-1 {
		n = 1<<32 - 1
	}
	return n
}
