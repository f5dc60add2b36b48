//go:build wasm

package sipscan

// nextHeader is nextHeaderGo in wasm assembly (line_wasm.s): one call that
// walks the header lines ScanFor skips as plain wasm loops (line ends eight
// bytes at a time, folds, name and LWS runs, the kinds lookup and the name
// comparison) and returns to Go only at a line Go must read. In Go every
// line cost a call and a pass through ScanFor's loop, each a br_table
// state machine with a branch per bounds check.
//
//go:noescape
func nextHeader(b []byte, i int, kinds *kindTable) (start, e, next, ne, c int, h hdr)
