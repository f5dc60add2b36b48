//go:build wasm

package sipscan

// viaParm is viaParmGo in wasm assembly (via_wasm.s): one call per Via
// value. Go's wasm backend turns every loop iteration and most branches of
// viaParmGo into a jump through the br_table at the top of the function,
// several nanoseconds per byte; here the dozen loops of a value are plain
// wasm loops. (Assembly for a single token run did not pay: the call cost
// what the run saved. A whole value is many runs per call.)
//
//go:noescape
func viaParm(b []byte, i int) (st, start, end, next, ks, kne, kvs, kve, ke int)
