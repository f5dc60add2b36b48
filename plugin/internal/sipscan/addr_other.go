//go:build !wasm

package sipscan

// nextAddr: see nextAddrGo.
func nextAddr(b []byte, i, end int, want string) (found, quoted bool, vs, ve, next int, more bool, err error) {
	return nextAddrGo(b, i, end, want)
}
