//go:build wasm && !purego

package sipscan

// nextAddr is nextAddrGo in wasm assembly (addr_wasm.s): one call per
// From, To, Contact or Record-Route value. Go's wasm backend turns every
// loop iteration and most branches of nextAddrGo into a jump through the
// br_table at the top of the function, several nanoseconds per byte; here
// the loops of a value (display name, quoted strings, '<...>', each
// parameter's name, '=' and value, the junk after it) are plain wasm
// loops. The callers call it directly: a Go wrapper turning st back into
// bools and an error cost as much as reading a short value.
//
//go:noescape
func nextAddr(b []byte, i int, want string) (st, vs, ve, next, us, ue int)
