package sipscan

import "bytes"

// headerLineGo is headerLine in Go: the reference for the wasm assembly
// (line_wasm.s) and the implementation everywhere else.
//
// For the logical header line that starts at b[i] (len(b) is the scan's
// end): e is where its last line's terminator (CRLF or LF) starts and next
// is just past it, folded lines included (both len(b) without a
// terminator); ne is the end of the token run from i (the name) and c the
// end of the LWS run from ne, both stopping at e.
func headerLineGo(b []byte, i int) (e, next, ne, c int) {
	n := len(b)
	e, next = n, n
	j := i + bytes.IndexByte(b[i:], '\n')
	if j >= i {
		e, next = j, j+1
		if e > i && b[e-1] == '\r' {
			e--
		}
		for next < n && (b[next] == ' ' || b[next] == '\t') {
			e, next = lineEnd(b, next)
		}
	}
	// (line and uint compares let the compiler drop the bounds checks.)
	line := b[:e]
	ne = i
	if i+16 <= len(line) {
		// The usual name: letters, digits and '-' (all token bytes)
		// right up to the colon, sixteen bytes tested at once.
		k := nameRun8(le.Uint64(line[i:]))
		if k == 8 {
			k += nameRun8(le.Uint64(line[i+8:]))
		}
		if k < 16 && line[i+k] == ':' {
			ne = i + k
		}
	}
	for uint(ne) < uint(len(line)) && class[line[ne]]&cToken != 0 {
		ne++
	}
	c = ne
	for uint(c) < uint(len(line)) && class[line[c]]&cWS != 0 {
		c++
	}
	return e, next, ne, c
}

// nextHeaderGo is nextHeader in Go: the reference for the wasm assembly
// (line_wasm.s) and the implementation everywhere else.
//
// From the logical header line that starts at b[i], it passes over every
// line ScanFor would skip on the kinds lookup alone: a well-formed name
// (token LWS ':'), a terminator before len(b), and a name that does not
// start with a letter, is 13 bytes or longer, or has no entry in kinds. It
// stops at the first other line (a header kinds names, the empty line, a
// fold, a malformed or unterminated line, or the end of b) and returns
// where that line starts and headerLineGo of it.
func nextHeaderGo(b []byte, i int, kinds *[13][32]hdr) (start, e, next, ne, c int) {
	for {
		e, next, ne, c = headerLineGo(b, i)
		if next == len(b) || ne == i || c >= e || b[c] != ':' {
			return i, e, next, ne, c
		}
		l, c0 := ne-i, b[i]
		if l < len(kinds) && (c0|0x20)-'a' <= 'z'-'a' && kinds[l][c0&31] != hOther {
			return i, e, next, ne, c
		}
		i = next
	}
}
