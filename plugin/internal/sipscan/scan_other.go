//go:build !wasm || purego

package sipscan

// scanLines is nextHeader: outside wasm, ScanFor's loop reads every line,
// the start line too.
func scanLines(b []byte, i int, s *scanState) (start, e, next, ne, c int, h hdr) {
	if s.startLine {
		return i, 0, 0, 0, 0, hStartLine
	}
	return nextHeader(b, i, s.kinds)
}
