package sipscan

import (
	"bytes"
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

// TestMentionsKeep: "keep" in any case at every position of values of
// every length, and near misses, against a byte-by-byte search.
func TestMentionsKeep(t *testing.T) {
	words := []string{"keep", "KEEP", "kEeP", "kee", "eep", "k", "kkeep", "keek", "Kep", "kee\x00p", "+eep", "k\xe5ep"}
	r := rand.New(rand.NewPCG(5, 6))
	for n := 0; n < 50000; n++ {
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = "abk;=, ep\"KE"[r.IntN(12)]
		}
		if len(b) > 0 && n%2 == 0 {
			w := words[r.IntN(len(words))]
			p := r.IntN(len(b))
			b = append(b[:p], append([]byte(w), b[p:]...)...)
		}
		i := 0
		if len(b) > 0 {
			i = r.IntN(len(b))
		}
		end := i + r.IntN(len(b)-i+1)
		want := false
		for p := i; p+4 <= end; p++ {
			if string(bytes.ToLower(b[p:p+4])) == "keep" {
				want = true
			}
		}
		if got := mentionsKeep(b, i, end); got != want {
			t.Fatalf("mentionsKeep(%q, %d, %d) = %v, want %v", b, i, end, got, want)
		}
	}
}

// TestLowerKeeps: with NeedLowerKeeps a keep in any Via below the top is
// found however many Via lines and values come before it (more than the
// noted ranges hold too), and without one the rest is not read.
func TestLowerKeeps(t *testing.T) {
	for lines := 0; lines <= 12; lines++ {
		for at := -1; at < lines; at++ {
			msg := "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP top;branch=z9hG4bK1, SIP/2.0/TCP second;rport\r\n"
			for k := 0; k < lines; k++ {
				p := ";branch=z9hG4bK" + strconv.Itoa(k)
				if k == at {
					p += ";KeeP=5"
				}
				msg += "Via: SIP/2.0/UDP h" + strconv.Itoa(k) + p + ", SIP/2.0/UDP x\r\n"
			}
			msg += "CSeq: 1 INVITE\r\n\r\n"
			var m, lean Message
			err := Scan([]byte(msg), &m)
			if err != nil {
				t.Fatal(err)
			}
			if d := sameAsScan([]byte(msg), &m, err, NeedLowerKeeps); d != "" {
				t.Fatalf("%d lines, keep in %d: %s", lines, at, d)
			}
			ScanFor([]byte(msg), &lean, NeedLowerKeeps)
			// (The rest of the top line and seven more lines are only noted;
			// past that, every Via is read.)
			if want := 1; at < 0 && lines < 8 && lean.NVias != want {
				t.Fatalf("%d lines, no keep: %d Vias read, want %d", lines, lean.NVias, want)
			}
			if want := 2 + 2*lines; at >= 0 && (lean.NVias != want || lean.Vias[2+2*at].Keep != KeepValue) ||
				lines >= 8 && lean.NVias != want {
				t.Fatalf("%d lines, keep in %d: %d Vias read, want %d, and the keep", lines, at, lean.NVias, want)
			}
		}
	}
}
