package keep

import (
	"hash/fnv"
	"testing"
)

// TestHashFold: the AOR key ignores ASCII case and tells AORs apart.
func TestHashFold(t *testing.T) {
	if hashFold([]byte("sip:Alice@EXAMPLE.com")) != hashFold([]byte("SIP:alice@example.COM")) {
		t.Errorf("hashFold depends on case")
	}
	if hashFold([]byte("sip:a@x")) == hashFold([]byte("sip:b@x")) {
		t.Errorf("hashFold collides on different AORs")
	}
}

// TestLower8: every byte value in every position, against a byte at a time.
func TestLower8(t *testing.T) {
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			x := uint64(0x5a41615a7a40405b) // "[@@zZaAZ": letters and their neighbours
			x = x&^(0xff<<(8*pos)) | uint64(c)<<(8*pos)
			var want uint64
			for i := 0; i < 8; i++ {
				b := byte(x >> (8 * i))
				if 'A' <= b && b <= 'Z' {
					b += 'a' - 'A'
				}
				want |= uint64(b) << (8 * i)
			}
			if got := lower8(x); got != want {
				t.Fatalf("lower8(%#x) = %#x, want %#x", x, got, want)
			}
		}
	}
}

// TestHashIsFNV1a: a dialog's key is FNV-1a of its Call-ID, byte for byte
// (records from older plugins hold such keys), at every length around the
// eight-byte steps.
func TestHashIsFNV1a(t *testing.T) {
	b := []byte("a84b4c76e66710@pc33.atlanta.example.com\x00\xff\x80")
	for n := 0; n <= len(b); n++ {
		f := fnv.New64a()
		f.Write(b[:n])
		if got, want := hash(b[:n]), f.Sum64(); got != want {
			t.Fatalf("hash(%q) = %#x, FNV-1a %#x", b[:n], got, want)
		}
	}
}

// TestHashFoldStable: the AOR key is what it was when records first held
// it, whichever way the tail bytes are read (records stored by older
// plugins must still find their registrations after a swap): every length
// from 0 to past five words, against the byte-loop form first shipped.
func TestHashFoldStable(t *testing.T) {
	msg := []byte("sip:Alice.Liddell+wonderland@EXAMPLE.com;x=Y")
	for n := 0; n <= len(msg); n++ {
		if got, want := hashFold(msg[:n]), hashFoldLoop(msg[:n]); got != want {
			t.Fatalf("len %d: hashFold = %#x, the byte-loop form gives %#x", n, got, want)
		}
	}
}

// hashFoldLoop is hashFold as first shipped, its tail read a byte at a time.
func hashFoldLoop(b []byte) uint64 {
	h := uint64(fnvOffset)
	for len(b) >= 8 {
		h = (h ^ lower8(le.Uint64(b))) * fnvPrime
		b = b[8:]
	}
	w := uint64(len(b)) << 59
	for i, c := range b {
		w |= uint64(c) << (8 * i)
	}
	h = (h ^ lower8(w)) * fnvPrime
	return h ^ h>>32
}
