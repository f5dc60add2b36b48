package sipscan

import "bytes"

// headerLineGo reads one logical header line for nextHeaderGo (the wasm
// assembly, line_wasm.s, does the same inside its loop).
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
// header line ScanFor does not read (a well-formed name, token LWS ':',
// that headerKind does not know) and stops at the first other line: start
// is where that line starts, e, next, ne and c are headerLineGo of it, and
// h is its header, or hOther when it is not a well-formed header line (the
// end of b, the empty line, a fold, a malformed line).
func nextHeaderGo(b []byte, i int, kinds *kindTable) (start, e, next, ne, c int, h hdr) {
	for {
		e, next, ne, c = headerLineGo(b, i)
		if ne == i || c >= e || b[c] != ':' {
			return i, e, next, ne, c, hOther
		}
		if h = headerKind(b[i:ne], kinds); h != hOther {
			return i, e, next, ne, c, h
		}
		i = next
	}
}
