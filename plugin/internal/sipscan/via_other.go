//go:build !wasm

package sipscan

// viaParm: see viaParmGo.
func viaParm(b []byte, i int) (st, start, end, next, ks, kne, kvs, kve, ke int) {
	return viaParmGo(b, i)
}
