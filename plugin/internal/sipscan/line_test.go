package sipscan

import (
	"math/rand/v2"
	"testing"
)

// checkHeaderLine compares headerLine (assembly in wasm) with headerLineGo
// for every start index of b.
func checkHeaderLine(t *testing.T, b []byte) {
	t.Helper()
	for i := 0; i < len(b); i++ {
		e, next, ne, c := headerLine(b, i)
		we, wnext, wne, wc := headerLineGo(b, i)
		if e != we || next != wnext || ne != wne || c != wc {
			t.Fatalf("headerLine(%q, %d) = %d, %d, %d, %d; Go: %d, %d, %d, %d",
				b, i, e, next, ne, c, we, wnext, wne, wc)
		}
	}
}

// TestHeaderLineEquivalence runs the assembly against the Go version (in
// wasm; natively both are the Go version): every byte value in every
// position of lines of every length up to 40, then random lines drawn from
// the bytes that matter (name, LWS, CR, LF, ':').
func TestHeaderLineEquivalence(t *testing.T) {
	bases := []string{
		"Via: SIP/2.0/UDP h;branch=z9hG4bK\r\n x\r\n\tY\r\nZ",
		"Content-Length:0\n\n",
		"abcdefghijklmnopqrstuvwxyz-0123456789ABCDEFG:",
	}
	for _, base := range bases {
		for l := 0; l <= len(base); l++ {
			b := []byte(base[:l])
			checkHeaderLine(t, b)
			for p := 0; p < l; p++ {
				orig := b[p]
				for v := 0; v < 256; v++ {
					b[p] = byte(v)
					checkHeaderLine(t, b)
				}
				b[p] = orig
			}
		}
	}
	const alphabet = "aZ9-.!_:;, \t\r\n\r\n\x00\x80\xff\"<>"
	r := rand.New(rand.NewPCG(1, 2))
	n := 200000
	if testing.Short() {
		n = 20000
	}
	for k := 0; k < n; k++ {
		b := make([]byte, r.IntN(80))
		for j := range b {
			if r.IntN(8) == 0 {
				b[j] = byte(r.IntN(256))
			} else {
				b[j] = alphabet[r.IntN(len(alphabet))]
			}
		}
		checkHeaderLine(t, b)
	}
}

// TestHeaderLineBounds: the assembly must never read outside b[:len(b)],
// even at the end of a larger buffer whose tail holds a '\n'.
func TestHeaderLineBounds(t *testing.T) {
	buf := []byte("Name-Of-Header: value value value value\r\n\r\n")
	for n := 0; n <= len(buf); n++ {
		checkHeaderLine(t, buf[:n])
	}
}
