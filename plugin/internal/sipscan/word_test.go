package sipscan

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestDigitRun8: every byte value in every position, against a byte loop.
func TestDigitRun8(t *testing.T) {
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			x := uint64(0x3939393930303030) // "00009999"
			x = x&^(0xff<<(8*pos)) | uint64(c)<<(8*pos)
			want := 0
			for want < 8 && byte(x>>(8*want)) >= '0' && byte(x>>(8*want)) <= '9' {
				want++
			}
			if got := digitRun8(x); got != want {
				t.Fatalf("digitRun8(%#x) = %d, want %d", x, got, want)
			}
		}
	}
}

// TestDigitsValue: every length, random digits and the extremes, against
// strconv, with junk in the bytes past the digits.
func TestDigitsValue(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for k := 1; k <= 8; k++ {
		for n := 0; n < 20000; n++ {
			var s []byte
			for i := 0; i < k; i++ {
				d := byte('0' + r.IntN(10))
				switch n {
				case 0:
					d = '0'
				case 1:
					d = '9'
				}
				s = append(s, d)
			}
			x := r.Uint64()
			for i, c := range s {
				x = x&^(0xff<<(8*i)) | uint64(c)<<(8*i)
			}
			want, _ := strconv.ParseUint(string(s), 10, 32)
			if got := digitsValue(x, k); uint64(got) != want {
				t.Fatalf("digitsValue(%q) = %d, want %d", s, got, want)
			}
		}
	}
}

// TestMethodOfWord agrees with methodByName on every method name, on their
// prefixes, case changes and extensions, and on random tokens.
func TestMethodOfWord(t *testing.T) {
	names := []string{"REGISTER", "INVITE", "ACK", "BYE", "CANCEL", "SUBSCRIBE", "NOTIFY", "REFER",
		"UPDATE", "OPTIONS", "PRACK", "MESSAGE", "INFO", "PUBLISH", "FOO", "invite", "A"}
	var cases []string
	for _, n := range names {
		for l := 1; l <= len(n); l++ {
			cases = append(cases, n[:l], n[:l]+"X", "X"+n[:l])
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 100000; n++ {
		b := make([]byte, 1+r.IntN(8))
		for i := range b {
			b[i] = "ABCEFGIKMNOPRSTUVY"[r.IntN(18)]
		}
		cases = append(cases, string(b))
	}
	for _, c := range cases {
		if len(c) > 8 {
			continue
		}
		pad := []byte(c + " sip:x SIP/2.0")
		if got, want := methodOfWord(le.Uint64(pad), len(c)), methodByName([]byte(c)); got != want {
			t.Fatalf("methodOfWord(%q) = %d, methodByName %d", c, got, want)
		}
	}
}
