//go:build wasm

package sipscan

// What addrParm found, in st.
const (
	addrFound  = 1 << iota // the wanted parameter: vs..ve is its value
	addrQuoted             // its value is a quoted-string
	addrMore               // a ',' after the value: the next one starts at next
	addrTrunc              // an unclosed quote or '<': ErrTruncated
)

// nextAddr is nextAddrGo with the value read by one call to addrParm, its
// wasm assembly (addr_wasm.s). Go's wasm backend turns every loop
// iteration and most branches of nextAddrGo into a jump through the
// br_table at the top of the function, several nanoseconds per byte; here
// the loops of a value (display name, '<...>', each parameter's name and
// value, quoted strings) are plain wasm loops. The flags come back as bits
// of one int, and ErrTruncated is made here: an error is an interface,
// which the assembly does not build. want is passed as it is; the
// assembly compares it as eqFold does, byte by byte.
func nextAddr(b []byte, i, end int, want string) (found, quoted bool, vs, ve, next int, more bool, err error) {
	st, vs, ve, next := addrParm(b[:end], i, want)
	return st&addrFound != 0, st&addrQuoted != 0, vs, ve, next, st&addrMore != 0, addrErr[st>>3&1]
}

// addrErr is the error for st's addrTrunc bit: an index, not a branch, so
// that nextAddr stays small enough to inline.
var addrErr = [2]error{nil, ErrTruncated}

//go:noescape
func addrParm(b []byte, i int, want string) (st, vs, ve, next int)
