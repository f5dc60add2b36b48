package keep

import (
	"bytes"
	"testing"
)

// TestSameRecord: sameRecord agrees with bytes.Equal for every length up
// past two four-word blocks and a difference at every position, including the tail
// bytes after the last whole word.
func TestSameRecord(t *testing.T) {
	for n := 0; n <= 75; n++ {
		a := make([]byte, n)
		for i := range a {
			a[i] = byte(i*7 + 1)
		}
		b := bytes.Clone(a)
		if !sameRecord(a, b) {
			t.Fatalf("len %d: equal records reported different", n)
		}
		if n > 0 && sameRecord(a, b[:n-1]) {
			t.Fatalf("len %d: a shorter record reported the same", n)
		}
		for i := range b {
			b[i] ^= 0x40
			if sameRecord(a, b) {
				t.Fatalf("len %d: a difference at byte %d was missed", n, i)
			}
			b[i] ^= 0x40
		}
	}
}
