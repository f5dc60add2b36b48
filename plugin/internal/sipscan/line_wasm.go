//go:build wasm && !purego

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

// hdrWords is hdrName as two little-endian words per header (zero past
// the name; names over 16 bytes have only their first 16 here): the walk
// compares a name of up to 16 bytes with two loads instead of a byte loop.
var hdrWords = func() (t [len(hdrName)][2]uint64) {
	for h, name := range hdrName {
		for i := 0; i < len(name) && i < 16; i++ {
			t[h][i/8] |= uint64(name[i]) << (8 * (i % 8))
		}
	}
	return t
}()
