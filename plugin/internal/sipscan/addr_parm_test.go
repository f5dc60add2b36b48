package sipscan

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// addrWants are the names nextAddr is asked for: the callers' three, and
// a few that reach the name compare with other lengths and bytes.
var addrWants = []string{"tag", "expires", "", "lr", "+sip.instance", "x", "z", "reg-id", "ta"}

// checkAddr compares nextAddr (assembly in wasm) with nextAddrGo for
// b[i:end] and want, and returns the Go version's st (for the tallies of
// the random test). b[:end] keeps the bytes past end in the backing array:
// an assembly that read past len(b) would differ. (No t.Helper: it runs
// millions of times.)
func checkAddr(t *testing.T, b []byte, i, end int, want string) int {
	st, vs, ve, next, us, ue := nextAddr(b[:end], i, want)
	wst, wvs, wve, wnext, wus, wue := nextAddrGo(b[:end], i, want)
	if st != wst || vs != wvs || ve != wve || next != wnext || us != wus || ue != wue {
		t.Fatalf("nextAddr(%q, %d, %q) = %#x, %d, %d, %d, %d, %d; Go: %#x, %d, %d, %d, %d, %d",
			b[:end], i, want, st, vs, ve, next, us, ue, wst, wvs, wve, wnext, wus, wue)
	}
	return wst
}

// addrBases are From/To/Contact/Record-Route values (or lists) that reach
// every branch: quoted and token display names, '<...>' with parameters
// inside, bare URIs, quoted values with escapes, SWS around ';' and '=',
// duplicates, empty names, junk before a comma, '*'.
var addrBases = []string{
	"<sip:a@b>;tag=x",
	`"Alice <A;,>" <sip:alice@a.example.com;tag=uri>;tag=1928301774`,
	"Bob <sip:bob@b>",
	"sip:a@b;tag=x",
	`<sip:a>;tag="q\"u,o;te\\";expires="3\\"`,
	"<sip:a@192.0.2.10:5060;transport=tcp;ob>;expires=3600",
	"<sip:a> ;EXPIRES = 60 ; TAG\r\n = abcdefghijklmnopqrstuvwxyz-0123456789;z=Z;Z=z",
	"<sip:a>;tag=1;tag=2;Tag=3;expires=5;expires=6",
	"<sip:a>;;tag= ;lr;x=\xc3\xa9/@=, <sip:b>;tag=b",
	"<sip:a> junk \"q,\" <x,y> ;tag=j, sip:c;expires=7",
	"*, *x <sip:d>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\";reg-id=1",
	" \"\\\\\" <sip:e>\t;\tlr\t;\tx\t=\t\"\"\t,\t",
	"<sip:a@b;tag=in>;x=\"unclosed;tag=1",
	"\"unclosed <sip:a>;tag=1",
	"Carol <sip:c@c;lr;tag=in ,<sip:no-close",
}

// TestNextAddrEquivalence runs the assembly against the Go version (in
// wasm; natively both are the Go version): every truncation of the bases
// from every start, every byte value in every position (cut there and
// whole), then values from a generator that follows the grammar and
// breaks it now and then.
func TestNextAddrEquivalence(t *testing.T) {
	for _, base := range addrBases {
		buf := []byte(base)
		for l := 0; l <= len(buf); l++ {
			for i := 0; i <= l; i++ {
				for _, want := range addrWants {
					checkAddr(t, buf, i, l, want)
				}
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
				for k, i := range starts {
					for _, want := range addrWants {
						checkAddr(t, buf, i, len(buf), want)
					}
					checkAddr(t, buf, i, p+1, addrWants[(p+v+k)%len(addrWants)])
				}
			}
			buf[p] = orig
		}
	}

	r, n := randomRounds(t, 5, 6, 300000, 30000)
	var found, more, trunc int
	for k := 0; k < n; k++ {
		b := randomAddr(r)
		want := addrWants[k%len(addrWants)]
		st := checkAddr(t, b, 0, len(b), want)
		if st&addrFound != 0 {
			found++
		}
		if st&addrMore != 0 {
			more++
		}
		if st&addrTrunc != 0 {
			trunc++
		}
		if len(b) > 0 {
			checkAddr(t, b, 0, r.IntN(len(b)), want)
			checkAddr(t, b, r.IntN(len(b)), len(b), want)
		}
	}
	t.Logf("random values: %d found, %d with a comma after, %d truncated", found, more, trunc)
}

// TestNextAddrMessages: whole messages through Scan against the reference
// scanner (sipscanref), as FuzzScanMatchesReference does, but inside wasm
// where Scan reads these headers with the assembly (go test cannot fuzz in
// wasm): generated values in From, To, Contact and Record-Route headers,
// one to three of them, in compact form now and then.
func TestNextAddrMessages(t *testing.T) {
	r, n := randomRounds(t, 7, 8, 5000, 1000) // sameAsReference is slow in wasm (reflection)
	for k := 0; k < n; k++ {
		var sb strings.Builder
		for h, nh := 0, 1+r.IntN(3); h < nh; h++ {
			names := []string{"From", "To", "Contact", "Record-Route", "f", "t", "m"}
			sb.WriteString(names[r.IntN(len(names))] + ": ")
			sb.Write(randomAddr(r))
			sb.WriteString("\r\n")
		}
		msg := []byte(hdrMsg(sb.String()))
		if d := sameAsReference(msg); d != "" {
			t.Fatalf("%q: %s", msg, d)
		}
	}
}

// randomAddr builds a name-addr or addr-spec list from the grammar's
// pieces, with LWS and folds wherever SWS allows them, then replaces,
// inserts or deletes a few bytes in one value out of four.
func randomAddr(r *rand.Rand) []byte {
	pick := func(s ...string) string { return s[r.IntN(len(s))] }
	sws := func() string {
		if r.IntN(3) > 0 {
			return ""
		}
		return pick(" ", "\t", "  ", "\r\n ", "\n\t", " \r\n  ")
	}
	quoted := func() string {
		var sb strings.Builder
		sb.WriteByte('"')
		for k, nk := 0, r.IntN(12); k < nk; k++ {
			sb.WriteString(pick("a", "Alice", " ", ",", ";", "<", ">", "\\\"", "\\\\", "\\", "\r\n ", "=", "\xff"))
		}
		if r.IntN(10) > 0 {
			sb.WriteByte('"')
		}
		return sb.String()
	}
	uri := func() string {
		s := pick("sip:a@b", "sip:alice@192.0.2.10:5060", "sips:bob@[2001:db8::1]", "tel:+1-555", "sip:p1", "urn:x")
		for p, np := 0, r.IntN(3); p < np; p++ {
			s += ";" + pick("lr", "tag=in", "transport=tcp", "expires=1", "ob", "x=\"a,b\"")
		}
		return s
	}
	var sb strings.Builder
	for v, nv := 0, 1+r.IntN(4)/2; v < nv; v++ {
		if v > 0 {
			sb.WriteString(sws() + "," + sws())
		}
		sb.WriteString(sws())
		switch r.IntN(8) {
		case 0:
			sb.WriteString(uri()) // addr-spec: its ';' starts the header's parameters
		case 1:
			sb.WriteString("*")
		default:
			switch r.IntN(3) {
			case 0:
				sb.WriteString(quoted() + sws())
			case 1:
				sb.WriteString(pick("Bob", "*x", "A B", "~!") + sws())
			}
			sb.WriteString("<" + uri())
			if r.IntN(12) > 0 {
				sb.WriteString(">")
			}
		}
		for p, np := 0, r.IntN(5); p < np; p++ {
			sb.WriteString(sws() + ";" + sws())
			sb.WriteString(pick("tag", "TAG", "Tag", "expires", "EXPIRES", "eXpIrEs", "lr", "x", "X", "ta", "tagx",
				"expire", "expiresx", "+sip.instance", "+SIP.Instance", "reg-id", "q", "", "t_g", "tAg~",
				// a token byte after a word's letters, and names past eight bytes
				"tag+x", "expires.x", "ta+g", "tag%", "expires-and-more", "x-abcdefgh+ij"))
			if r.IntN(3) == 0 {
				continue
			}
			sb.WriteString(sws() + "=" + sws())
			switch r.IntN(5) {
			case 0:
				sb.WriteString(pick("", "0", "3600", "60", "4294967296", "x"))
			case 1:
				sb.WriteString(pick("1928301774", "9f8e7d6c", "a-b.c", "0.5", "\xc3\xa9/@=:[]"))
			case 2:
				for k, nk := 0, r.IntN(30); k < nk; k++ {
					sb.WriteByte(pick("a", "Z", "9", "-", ".", "/", "@", "=", "<", ">", "\xc3", "\xa9")[0])
				}
			default:
				sb.WriteString(quoted())
			}
		}
		if r.IntN(8) == 0 {
			sb.WriteString(sws() + pick("junk", "\"q,\"", "<x,y>", "=", ";", ";;tag=j", "?"))
		}
	}
	sb.WriteString(sws())
	b := []byte(sb.String())
	if r.IntN(4) == 0 {
		const alphabet = "aZ9-.!_:;,=\"\\<>*/ \t\r\n\x00\x7f\x80\xff"
		b = mutate(r, b, alphabet, true)
	}
	return b
}

// BenchmarkNextAddr reads the From and Contact values of registerMsg and a
// Record-Route value with nextAddr (assembly in wasm) and nextAddrGo.
func BenchmarkNextAddr(b *testing.B) {
	for _, bc := range []struct{ name, value, want string }{
		{"From", `"Alice Example" <sip:alice@example.com>;tag=9f8e7d6c`, "tag"},
		{"Contact", `"Alice Example" <sip:alice@192.0.2.10:5060;transport=tcp;ob>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>";expires=3600`, "expires"},
		{"RR", "<sip:p1.example.com;lr>", ""},
	} {
		v := []byte(bc.value)
		b.Run(bc.name+"/asm", func(b *testing.B) {
			for b.Loop() {
				nextAddr(v, 0, bc.want)
			}
		})
		b.Run(bc.name+"/Go", func(b *testing.B) {
			for b.Loop() {
				nextAddrGo(v, 0, bc.want)
			}
		})
	}
}
