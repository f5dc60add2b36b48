package sipscan

import (
	"testing"
)

// kindTables are the tables nextHeader is run with: ScanFor's, one
// that skips every well-formed line, and two that name a header for every
// length and letter, so that the name comparison runs on every name
// (against a name of another length too).
var kindTables = func() []*kindTable {
	var none, via, callID kindTable
	for l := range via {
		for c := range via[l] {
			via[l][c] = hVia
			callID[l][c] = hCallID
		}
	}
	t := []*kindTable{&none, &via, &callID}
	for k := range kindsBySkip {
		t = append(t, &kindsBySkip[k])
	}
	return t
}()

// checkNextHeader compares nextHeader (assembly in wasm) with nextHeaderGo
// from start index i of b. (No t.Helper in these helpers: it walks the
// stack, and they run millions of times.)
func checkNextHeader(t *testing.T, b []byte, i int, kinds *kindTable) {
	start, e, next, ne, c, h := nextHeader(b, i, kinds)
	wstart, we, wnext, wne, wc, wh := nextHeaderGo(b, i, kinds)
	if start != wstart || e != we || next != wnext || ne != wne || c != wc || h != wh {
		t.Fatalf("nextHeader(%q, %d, table %d) = %d, %d, %d, %d, %d, %d; Go: %d, %d, %d, %d, %d, %d",
			b, i, tableIndex(kinds), start, e, next, ne, c, h, wstart, we, wnext, wne, wc, wh)
	}
}

func tableIndex(kinds *kindTable) int {
	for k, t := range kindTables {
		if t == kinds {
			return k
		}
	}
	return -1
}

// checkStarts runs checkNextHeader from every start index of b, up to and
// including len(b), with the tables in turn (every table from index 0).
func checkStarts(t *testing.T, b []byte, rot int) {
	for _, kinds := range kindTables {
		checkNextHeader(t, b, 0, kinds)
	}
	for i := 1; i <= len(b); i++ {
		checkNextHeader(t, b, i, kindTables[(i+rot)%len(kindTables)])
	}
}

// TestNextHeaderEquivalence runs the assembly against the Go version (in
// wasm; natively both are the Go version): every byte value in every
// position of every prefix of a few header blocks, random header blocks
// drawn from the bytes that matter (names, LWS, CR, LF, ':'), and every
// message the reference test uses, from every start index and cut at
// every length.
func TestNextHeaderEquivalence(t *testing.T) {
	bases := []string{
		"Via: SIP/2.0/UDP h;branch=z9hG4bK\r\n x\r\n\tY\r\nZ",
		"Content-Length:0\n\n",
		"abcdefghijklmnopqrstuvwxyz-0123456789ABCDEFG:",
		"Allow: x\r\nMax-Forwards:70\nTo:a\r\nAccept-Language: b\r\n\r\n",
		"Require: a\r\nk:b\n1x: c\r\nSupported :\r\n\td\r\nv:",
		"Subscription-State: terminated\r\nsubscription-statE:a\r\n",
		// Non-ASCII bytes, which the 32-byte newline search flags
		// and must tell from a '\n' in the same or the next word.
		"X-N: \xc3\xa9tait\x80\xff0123456789abcdef\xfe\x8a!\r\nTo:a\r\n",
	}
	t.Run("mutations", func(t *testing.T) {
		for _, base := range bases {
			for l := 0; l <= len(base); l++ {
				b := []byte(base[:l])
				checkStarts(t, b, 0)
				for p := 0; p < l; p++ {
					orig := b[p]
					for v := 0; v < 256; v++ {
						b[p] = byte(v)
						checkStarts(t, b, p+v)
					}
					b[p] = orig
				}
			}
		}
	})
	t.Run("random", func(t *testing.T) {
		const alphabet = "aZ9-.!_:;, \t\r\n\r\n\r\n\x00\x80\xff\"<>vTkCcxyz"
		r, n := randomRounds(t, 1, 2, 200000, 20000)
		for k := 0; k < n; k++ {
			b := make([]byte, r.IntN(120))
			for j := range b {
				if r.IntN(8) == 0 {
					b[j] = byte(r.IntN(256))
				} else {
					b[j] = alphabet[r.IntN(len(alphabet))]
				}
			}
			checkStarts(t, b, k)
		}
	})
	t.Run("names", func(t *testing.T) {
		// Header blocks of real and near-miss names in random case.
		names := []string{"Via", "v", "CSeq", "Call-ID", "i", "From", "f", "To", "t",
			"Contact", "m", "Expires", "Flow-Timer", "Record-Route", "Require",
			"Subscription-State", "Subscription-Stat", "Subscription-Statex", "Subscriptionxstate",
			"Supported", "k", "Allow", "Max-Forwards", "Content-Length", "Vias",
			"Call-IE", "Callid", "Contacts", "Coontact", "Flow_Timer", "Record-Routes"}
		seps := []string{":", ": ", " :", "\t: ", ";", ""}
		ends := []string{"\r\n", "\n", "\r\n ", "\n\t", "\r", ""}
		r, n := randomRounds(t, 3, 4, 100000, 10000)
		for k := 0; k < n; k++ {
			var b []byte
			for range 1 + r.IntN(6) {
				for _, c := range []byte(names[r.IntN(len(names))]) {
					if r.IntN(2) == 0 {
						c ^= 0x20 // either case; '-' becomes CR, '_' DEL
					}
					b = append(b, c)
				}
				b = append(b, seps[r.IntN(len(seps))]...)
				b = append(b, "x y"[:r.IntN(4)]...)
				b = append(b, ends[r.IntN(len(ends))]...)
			}
			checkStarts(t, b, k)
		}
	})
	t.Run("messages", func(t *testing.T) {
		for k, s := range referenceSeeds() {
			b := []byte(s)
			checkStarts(t, b, k)
			for l := 0; l <= len(b); l++ {
				for _, kinds := range kindTables {
					checkNextHeader(t, b[:l], 0, kinds)
				}
			}
		}
	})
}

// TestNextHeaderBounds: the assembly must never read outside b[:len(b)],
// even at the end of a larger buffer whose tail holds a '\n' or a ':'.
func TestNextHeaderBounds(t *testing.T) {
	buf := []byte("Name-Of-Header: value value value value\r\nAllow:\r\nX\r\n:\r\n\r\n")
	for n := 0; n <= len(buf); n++ {
		checkStarts(t, buf[:n], n)
	}
}
