//go:build !wasm || purego

package sipscan

// nextAddr: see nextAddrGo.
func nextAddr(b []byte, i int, want string) (st, vs, ve, next, us, ue int) {
	return nextAddrGo(b, i, want)
}
