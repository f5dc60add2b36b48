//go:build !wasm

package sipscan

// headerLine: see headerLineGo.
func headerLine(b []byte, i int) (e, next, ne, c int) { return headerLineGo(b, i) }
