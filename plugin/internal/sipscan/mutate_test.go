package sipscan

import "math/rand/v2"

// mutate makes one to three random edits to b — a byte replaced, inserted
// or deleted — with bytes drawn from alphabet and, when anyByte, one time
// in eight any byte at all. The generators of the in-wasm equivalence tests
// use it to push well-formed values just off the grammar.
func mutate(r *rand.Rand, b []byte, alphabet string, anyByte bool) []byte {
	for m, nm := 0, 1+r.IntN(3); m < nm && len(b) > 0; m++ {
		p := r.IntN(len(b))
		c := alphabet[r.IntN(len(alphabet))]
		if anyByte && r.IntN(8) == 0 {
			c = byte(r.IntN(256))
		}
		switch r.IntN(3) {
		case 0:
			b[p] = c
		case 1:
			b = append(b[:p], append([]byte{c}, b[p:]...)...)
		default:
			b = append(b[:p], b[p+1:]...)
		}
	}
	return b
}
