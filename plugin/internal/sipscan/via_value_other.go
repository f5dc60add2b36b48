//go:build !wasm || purego

package sipscan

// viaValue: see viaValueGo.
func viaValue(b []byte, i int, v *Via) (st, next int) { return viaValueGo(b, i, v) }
