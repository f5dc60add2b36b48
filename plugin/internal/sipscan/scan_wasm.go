//go:build wasm && !purego

package sipscan

// scanLines is nextHeader that also reads, in wasm assembly
// (scan_wasm.s), the usual status line (any other start line it returns
// as hStartLine) and the usual form of the headers every response carries:
// the top Via when its line holds only it, To as name-addr, Call-ID,
// CSeq as " 1*7DIGIT SP method", Contact values with a short expires or
// none, Expires as " 1*7DIGIT". It returns to ScanFor only at a line it
// leaves to Go: any other header, any unusual form of these (which Go
// then reads from the start of the line, so nothing is read twice into
// m), a line that is not a header, and a line that runs to the end of b.
//
// In Go each of those lines cost a return from nextHeader and a pass
// through ScanFor's loop and switch, where every taken branch is a
// dispatch through the function's br_table: ~50 ns a line before the
// value is read at all.
//
//go:noescape
func scanLines(b []byte, i int, s *scanState) (start, e, next, ne, c int, h hdr)

// The parameters scanLines asks nextAddr for.
var wantTag, wantExpires = "tag", "expires"
