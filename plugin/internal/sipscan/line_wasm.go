//go:build wasm

package sipscan

// headerLine is headerLineGo in wasm assembly (line_wasm.s): one call that
// finds the line end eight bytes at a time and runs the name and LWS loops
// as plain wasm loops, where the Go code is a br_table state machine with a
// branch per bounds check and a call to bytes.IndexByte per line.
//
//go:noescape
func headerLine(b []byte, i int) (e, next, ne, c int)
