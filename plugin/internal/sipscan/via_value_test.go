package sipscan

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// checkViaValue compares viaValue (assembly in wasm) with viaValueGo for b
// from start i, v filled with garbage first (a field left unwritten would
// show), and returns the code for the tallies of the random test.
func checkViaValue(t *testing.T, b []byte, i int) int {
	t.Helper()
	junk := Via{-1, -2, -3, 0xee, 0xdeadbeef, -4, -5, -6}
	v, w := junk, junk
	st, next := viaValue(b, i, &v)
	wst, wnext := viaValueGo(b, i, &w)
	if st != wst || next != wnext || v != w {
		t.Fatalf("viaValue(%q, %d) = %d, %d, %+v;\nGo: %d, %d, %+v", b, i, st, next, v, wst, wnext, w)
	}
	return st
}

// viaValueBases are Via values (or lists) that reach every branch of the
// grammar: IPv4, IPv6, hostnames, ports with LWS, valueless and empty
// parameters, quoted values with escapes, every kind of keep, folds.
var viaValueBases = []string{
	"SIP/2.0/UDP 127.0.0.1:53788;branch=z9hG4bK-b1-1;keep",
	"SIP/2.0/TCP [2001:db8::1]:5060;keep=30;received=192.0.2.1;rport=5060",
	`SIP / 2.0 / UDP host.example.com : 5060 ; KEEP = 1 ; x = "a\"b,c" , SIP/2.0/TLS h;keep;keep=2`,
	" \t SIP/2.0/WSS my_host.;keep=;lr;x=\"\\\\\";keep=99999999999, SIP/2.0/UDP [::1]",
	"SIP/2.0/UDP h;keep=\"30\";Keep\r\n ;branch=z9hG4bKabcdefghijklmnopqrstuvwxyz0123456789,x",
	"SIP/2.0/\r\n UDP a\n ;keep\r\n =\r\n 30\r\n ;rport , SIP/2.0/UDP b;keep=7 \t",
	"SIP/2.0/UDP h;received=2001:db8::9;x=\xc3\xa9/@=;keep=abc;keep-x;kee;xkeep",
}

// TestViaValueEquivalence runs the assembly against the Go version (in
// wasm; natively both are the Go version): every truncation of the bases
// from every start, every byte value in every position (cut there and
// whole), then values from a generator that follows the grammar and
// breaks it now and then.
func TestViaValueEquivalence(t *testing.T) {
	for _, base := range viaValueBases {
		// The bytes past a cut stay in the backing array: an assembly
		// that reads past len(b) would differ from the Go version.
		buf := []byte(base)
		for l := 0; l <= len(buf); l++ {
			for i := 0; i <= l; i++ {
				checkViaValue(t, buf[:l], i)
			}
		}
		starts := []int{0}
		if c := strings.IndexByte(base, ','); c >= 0 {
			starts = append(starts, c+1)
		}
		for p := 0; p < len(buf); p++ {
			orig := buf[p]
			for v := 0; v < 256; v++ {
				buf[p] = byte(v)
				for _, i := range starts {
					checkViaValue(t, buf, i)
					checkViaValue(t, buf[:p+1], i)
				}
			}
			buf[p] = orig
		}
	}

	r, n := randomRounds(t, 3, 4, 300000, 30000)
	var codes [viaTrunc + 1]int
	var keeps [KeepDuplicate + 1]int
	for k := 0; k < n; k++ {
		b := randomVia(r)
		codes[checkViaValue(t, b, 0)]++
		var v Via
		viaValueGo(b, 0, &v)
		keeps[v.Keep]++
		if len(b) > 0 {
			checkViaValue(t, b[:r.IntN(len(b))], 0)
		}
	}
	t.Logf("random values: %d last, %d more, %d junk, %d empty, %d bad, %d truncated; keep %v",
		codes[viaLast], codes[viaMore], codes[viaJunk], codes[viaEmpty], codes[viaBad], codes[viaTrunc], keeps)
}

// TestViaValueMessages: whole messages through Scan against the reference
// scanner (sipscanref), like FuzzScanMatchesReference, but here inside wasm
// where Scan reads Vias with the assembly (go test cannot fuzz in wasm):
// the reference seeds with a few bytes replaced, inserted or deleted, and
// requests carrying generated Via values.
func TestViaValueMessages(t *testing.T) {
	seeds := referenceSeeds()
	r, n := randomRounds(t, 5, 6, 10000, 1000) // sameAsReference is slow in wasm (reflection)
	const alphabet = "aK9-.!_:;,=\"\\[]/ \t\r\n\x00\x80"
	for k := 0; k < n; k++ {
		var msg []byte
		if k%2 == 0 {
			msg = []byte(seeds[r.IntN(len(seeds))])
			msg = mutate(r, msg, alphabet, false)
		} else {
			msg = []byte(wrapVia("Via: " + string(randomVia(r))))
		}
		if d := sameAsReference(msg); d != "" {
			t.Fatalf("%q: %s", msg, d)
		}
	}
}

// randomVia builds a Via value (sometimes a list) from the grammar's
// pieces, with LWS and folds in every place SWS allows them, then
// replaces, inserts or deletes a few bytes in one value out of four.
func randomVia(r *rand.Rand) []byte {
	pick := func(s ...string) string { return s[r.IntN(len(s))] }
	sws := func() string {
		if r.IntN(3) > 0 {
			return ""
		}
		return pick(" ", "\t", "  ", "\r\n ", "\n\t", " \r\n  ")
	}
	var sb strings.Builder
	for v, nv := 0, 1+r.IntN(3)/2; v < nv; v++ {
		if v > 0 {
			sb.WriteString(sws() + "," + sws())
		}
		sb.WriteString(sws())
		sb.WriteString(pick("SIP", "sip", "X-1"))
		sb.WriteString(sws() + "/" + sws() + pick("2.0", "3") + sws() + "/" + sws())
		sb.WriteString(pick("UDP", "TCP", "TLS", "WSS", "SCTP"))
		sb.WriteString(pick(" ", "\t", "\r\n ", "  "))
		sb.WriteString(pick("127.0.0.1", "host.example.com", "h", "my_host.", "[2001:db8::1]", "[::1]", "[::ffff:192.0.2.1]", "a-b.c"))
		if r.IntN(2) == 0 {
			sb.WriteString(sws() + ":" + sws() + pick("5060", "1", "65535", "0"))
		}
		for p, np := 0, r.IntN(5); p < np; p++ {
			sb.WriteString(sws() + ";" + sws())
			sb.WriteString(pick("keep", "KEEP", "Keep", "kEeP", "branch", "received", "rport", "lr", "x", "kee", "keepa", "keep-", "k!%*_+`'~"))
			if r.IntN(3) == 0 {
				continue
			}
			sb.WriteString(sws() + "=" + sws())
			switch r.IntN(6) {
			case 0:
				sb.WriteString(pick("", "0", "30", "0030", "4294967295", "4294967296", "99999999999999999999"))
			case 1:
				sb.WriteString(pick("z9hG4bK-b1-1", "z9hG4bK776asdhds", "192.0.2.1", "2001:db8::9", "abc", "-1"))
			case 2:
				sb.WriteString("z9hG4bK")
				for k, nk := 0, r.IntN(40); k < nk; k++ {
					sb.WriteByte(pick("a", "Z", "9", "-", ".", "/", "@", "=", "\xc3", "\xa9")[0])
				}
			default:
				sb.WriteByte('"')
				for k, nk := 0, r.IntN(12); k < nk; k++ {
					sb.WriteString(pick("a", " ", ",", ";", "\\\"", "\\\\", "\\", "\r\n ", "=", "\xff"))
				}
				if r.IntN(8) > 0 {
					sb.WriteByte('"')
				}
			}
		}
	}
	sb.WriteString(sws())
	b := []byte(sb.String())
	if r.IntN(4) == 0 {
		const alphabet = "aZ9-.!_:;,=\"\\[]/ \t\r\n\x00\x7f\x80\xff"
		b = mutate(r, b, alphabet, true)
	}
	return b
}

// BenchmarkViaValue: one typical Via value, the assembly (in wasm) and the
// Go version side by side.
func BenchmarkViaValue(b *testing.B) {
	via := []byte("SIP/2.0/UDP 127.0.0.1:53788;branch=z9hG4bK-b1-1;keep=30")
	var v Via
	b.Run("asm", func(b *testing.B) {
		for b.Loop() {
			viaValue(via, 0, &v)
		}
	})
	b.Run("Go", func(b *testing.B) {
		for b.Loop() {
			viaValueGo(via, 0, &v)
		}
	})
	b.Run("scanVia", func(b *testing.B) {
		var m Message
		for b.Loop() {
			m.NVias = 0
			scanVia(via, 0, len(via), &m)
		}
	})
}
