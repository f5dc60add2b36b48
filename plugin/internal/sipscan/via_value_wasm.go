//go:build wasm && !purego

package sipscan

// viaValue is viaValueGo in wasm assembly (via_value_wasm.s): one call per
// Via value, which also fills v and parses the keep value, so the Go side
// has no setKeep call or results to copy. Go's wasm backend turns every
// loop iteration and most branches of viaValueGo into a jump through the
// br_table at the top of the function, several nanoseconds per byte; here
// the dozen loops of a value are plain wasm loops. (Assembly for a single
// token run did not pay: the call cost what the run saved.)
//
//go:noescape
func viaValue(b []byte, i int, v *Via) (st, next int)
