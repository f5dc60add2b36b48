//go:build !wasm || purego

package sipscan

// nextHeader: see nextHeaderGo.
func nextHeader(b []byte, i int, kinds *kindTable) (start, e, next, ne, c int, h hdr) {
	return nextHeaderGo(b, i, kinds)
}
