// Package asciifold finds ASCII words in SIP messages without regard to
// case, as header names and parameter names are compared (RFC 3261 §7.3.1).
package asciifold

import "bytes"

// Contains reports whether b contains lower (lower-case ASCII: letters,
// digits, punctuation) in any case. It looks for the first letter in both
// cases with the vectorised bytes.IndexByte and compares the rest at each
// hit, which is fast on the messages it runs on: a pre-check on the hot
// path of every SIP message.
func Contains(b []byte, lower string) bool {
	first := lower[0]
	if first >= 'a' && first <= 'z' {
		return indexFrom(b, lower, first) >= 0 || indexFrom(b, lower, first-'a'+'A') >= 0
	}
	return indexFrom(b, lower, first) >= 0
}

// Index is the index of the first instance of lower (as for Contains) in
// b, in any case, or -1.
func Index(b []byte, lower string) int {
	first := lower[0]
	i := indexFrom(b, lower, first)
	if first >= 'a' && first <= 'z' {
		if j := indexFrom(b, lower, first-'a'+'A'); j >= 0 && (i < 0 || j < i) {
			i = j
		}
	}
	return i
}

func indexFrom(b []byte, lower string, first byte) int {
	off := 0
	for {
		i := bytes.IndexByte(b[off:], first)
		if i < 0 || len(b)-off-i < len(lower) {
			return -1
		}
		if bytes.EqualFold(b[off+i:off+i+len(lower)], []byte(lower)) {
			return off + i
		}
		off += i + 1
	}
}

// Equal reports whether b is lower (lower-case ASCII) in any case.
func Equal(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := range len(b) {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
