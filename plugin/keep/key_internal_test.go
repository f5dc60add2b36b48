package keep

import "testing"

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
