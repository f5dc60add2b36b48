//go:build !wasm

package sipscan

// scanLines is nextHeader: outside wasm, ScanFor's loop reads every line.
func scanLines(b []byte, i int, s *scanState) (start, e, next, ne, c int, h hdr) {
	return nextHeader(b, i, s.kinds)
}
