package sipkeepc

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/internal/asciifold"
)

func standingSeeds() []string {
	base := "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h:5062;branch=z9hG4bK1;keep\r\nVia: SIP/2.0/UDP p\r\n" +
		"CSeq: 7 REGISTER\r\nCall-ID: c\r\nContent-Length: 0\r\n\r\n"
	return []string{
		base, abi.StandingGrantProbe,
		strings.Replace(base, ";keep", ";keep=30", 1),
		strings.Replace(base, ";keep", ";keep ,x", 1),
		strings.Replace(base, "Via:", "v :", 1),
		strings.Replace(base, "7 REGISTER", "7 INVITE", 1),
		strings.Replace(base, "Call-ID", "CSeq: 8 REGISTER\r\nCall-ID", 1),
		strings.Replace(base, "Call-ID", "flow-timer: 1\r\nCall-ID", 1),
		strings.Replace(base, "\r\nCall-ID", "\nCall-ID", 1),
		strings.Replace(base, ";branch", ";x=\"a\";branch", 1),
		strings.Replace(base, "Call-ID: c", "Call-ID: KEEP", 1),
		strings.Replace(base, ";keep", "\r\n ;keep", 1),
	}
}

// TestStandingSiteAgrees: the C core's skc_standing_site gives the site
// abi.StandingGrantSite gives, on covered and uncovered responses.
func TestStandingSiteAgrees(t *testing.T) {
	covered := 0
	for _, m := range standingSeeds() {
		at, ok := abi.StandingGrantSite([]byte(m))
		if !ok {
			at = 0
		} else {
			covered++
		}
		if got := StandingSite([]byte(m)); got != at {
			t.Errorf("skc_standing_site = %d, abi.StandingGrantSite = %d (%v) for %q", got, at, ok, m)
		}
	}
	if covered < 3 {
		t.Fatalf("only %d seeds covered: the test would not see a disagreement", covered)
	}
}

func FuzzStandingSiteAgrees(f *testing.F) {
	for _, m := range standingSeeds() {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, m string) {
		at, ok := abi.StandingGrantSite([]byte(m))
		if !ok {
			at = 0
		}
		if got := StandingSite([]byte(m)); got != at {
			t.Fatalf("skc_standing_site = %d, abi.StandingGrantSite = %d for %q", got, at, m)
		}
	})
}

// The Go service decodes skc_req at fixed offsets.
func TestRequestFrameSize(t *testing.T) {
	if ReqSize != 80 {
		t.Fatalf("sizeof(skc_req) = %d, want 80", ReqSize)
	}
}

// TestSharedLayout: skc_shared is where sipkeepc.h says; the service reads
// it at these offsets (hostadapters/capi/ring.go).
func TestSharedLayout(t *testing.T) {
	if SharedHeadOff != 64 || SharedTailOff != 128 || SharedSlotsOff != 192 || RingSlotSize != 2048 ||
		SharedSize != 192+1024*2048 {
		t.Fatalf("skc_shared: head %d tail %d slots %d slot %d size %d", SharedHeadOff, SharedTailOff,
			SharedSlotsOff, RingSlotSize, SharedSize)
	}
}

// TestFastPathRegisterIn: a received REGISTER crosses only when it may
// de-register (a '*', an expires of 0 as header or parameter, any case).
func TestFastPathRegisterIn(t *testing.T) {
	reg := "REGISTER sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h;keep\r\nCSeq: 1 REGISTER\r\n%s\r\n\r\n"
	for _, c := range []struct {
		hdr   string
		cross bool
	}{
		{"Contact: <sip:a@h>;expires=3600", false},
		{"Contact: <sip:a@h>\r\nExpires: 600", false},
		{"Contact: <sip:a@h>;expires=0", true},
		{"Contact: <sip:a@h>;EXPIRES = 00", true},
		{"Contact: <sip:a@h>\r\nexpires:0", true},
		{"Contact: <sip:a@h>\r\nExpires: 10", false},
		{"Contact: *\r\nExpires: 0", true},
		{"Contact: <sip:expires@h>;expires=30", false},
		{"Contact: <sip:expires@h>;x=1;ExPiReS=0", true},
	} {
		got := FastPath(DirIn, []byte(strings.Replace(reg, "%s", c.hdr, 1))) == KindRequest
		if got != c.cross {
			t.Errorf("%q: crosses %v, want %v", c.hdr, got, c.cross)
		}
	}
}

// FuzzFastPathResponses: a response crosses exactly when its header block
// mentions keep in any case, and skc_header_end finds the header block's
// end as bytes.Index does.
func FuzzFastPathResponses(f *testing.F) {
	for _, m := range standingSeeds() {
		f.Add(m)
	}
	f.Add("SIP/2.0 200 OK\r\nX: kEeP\r\n\r\n")
	f.Add("SIP/2.0 200 OK\r\nX: kee\r\n\r\nkeep")
	f.Fuzz(func(t *testing.T, m string) {
		b := []byte(m)
		he := len(b)
		if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
			he = i + 4
		}
		if got := HeaderEnd(b); got != he {
			t.Fatalf("skc_header_end = %d, want %d for %q", got, he, m)
		}
		if len(b) < 8 || !strings.HasPrefix(m, "SIP/2.0 ") {
			return
		}
		want := 0
		if asciifold.Contains(b[:he], "keep") {
			want = KindResponse
		}
		if got := FastPath(DirOut, b); got != want {
			t.Fatalf("skc_fast_path = %d, want %d for %q", got, want, m)
		}
	})
}

// FuzzFastPathRegisterIn: a received REGISTER crosses exactly when its
// header block holds a '*' or an expires of 0, as header or parameter, in
// any case (mayDeregister, the Go statement of the rule).
func FuzzFastPathRegisterIn(f *testing.F) {
	f.Add("Contact: <sip:a@h>;expires=0")
	f.Add("Contact: <sip:a@h>\r\nExpires: 600")
	f.Add("Contact: <sip:expires@h>;x=1;ExPiReS = 00;y")
	f.Add("X: eXpires:0expires=00x")
	f.Fuzz(func(t *testing.T, hdr string) {
		m := []byte("REGISTER sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h;keep\r\n" + hdr + "\r\n\r\n")
		want := 0
		if mayDeregister(m[:HeaderEnd(m)]) {
			want = KindRequest
		}
		if got := FastPath(DirIn, m); got != want {
			t.Fatalf("skc_fast_path = %d, want %d for %q", got, want, hdr)
		}
	})
}

var deregExpires = regexp.MustCompile(`(?i)expires[ \t]*[:=][ \t]*0+([^0-9]|$)`)

// mayDeregister: a '*' (a wildcard Contact), or an expires of 0.
func mayDeregister(h []byte) bool {
	return bytes.IndexByte(h, '*') >= 0 || deregExpires.Match(h)
}

// TestStandingFollowsTheGrant: skc_standing applies the grant published at
// the moment, each time (its "=N" is formatted once per grant, not per
// message), and nothing while none is published.
func TestStandingFollowsTheGrant(t *testing.T) {
	msg := []byte(abi.StandingGrantProbe)
	got := Standing(msg, []uint32{30, 30, 45, 0, 45, 4294967295})
	want := []string{"=30", "=30", "=45", "", "=45", "=4294967295"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("skc_standing under grants 30,30,45,0,45,max: %q, want %q", got, want)
		}
	}
}

// TestFastPathFindsKeepAtEveryOffset: the scan for "keep" looks a window
// at a time; a keep (in any case) found at every offset across several
// windows, straddling their edges too, and none in a header of near misses.
func TestFastPathFindsKeepAtEveryOffset(t *testing.T) {
	pad := strings.Repeat("kEe", 200) // candidates everywhere, no match
	for _, word := range []string{"keep", "KEEP", "kEeP"} {
		for at := 0; at < 520; at++ {
			m := "SIP/2.0 200 OK\r\nX: " + pad[:at] + word + pad[:100] + "\r\n\r\n"
			if got := FastPath(DirOut, []byte(m)); got != KindResponse {
				t.Fatalf("%q at offset %d of the header: not found", word, at)
			}
		}
	}
	if got := FastPath(DirOut, []byte("SIP/2.0 200 OK\r\nX: "+pad+"\r\n\r\n")); got != 0 {
		t.Fatalf("found keep in a header of near misses")
	}
}

// TestFastPathFindsExpiresAtEveryOffset: "expires" is looked for by its
// 'x', a window at a time; an expires of 0 (in any case) found at every
// offset across several windows, straddling their edges too, and a
// header of near misses around every 'x' that does not cross.
func TestFastPathFindsExpiresAtEveryOffset(t *testing.T) {
	pad := strings.Repeat("eXpire", 100) // an anchor every 6 bytes, no match
	reg := "REGISTER sip:x SIP/2.0\r\nX: %s\r\n\r\n"
	for _, word := range []string{"expires=0", "EXPIRES=0", "eXpIrEs:0"} {
		for at := 0; at < 520; at++ {
			m := strings.Replace(reg, "%s", pad[:at]+word+";"+pad[:100], 1)
			if got := FastPath(DirIn, []byte(m)); got != KindRequest {
				t.Fatalf("%q at offset %d of the header: not found", word, at)
			}
		}
	}
	for _, hdr := range []string{pad, pad + "expires=1", "xpires=0" + pad, pad + "expire=0"} {
		if got := FastPath(DirIn, []byte(strings.Replace(reg, "%s", hdr, 1))); got != 0 {
			t.Fatalf("crossed on a header of near misses: %q", hdr[max(0, len(hdr)-20):])
		}
	}
}

// BenchmarkFastPathManyExpires is the incoming fast path on a REGISTER
// whose header repeats "expires=1;" to the given size: hostile input for
// the scan, which must stay linear (ns/byte flat as the size grows).
func BenchmarkFastPathManyExpires(b *testing.B) {
	for _, size := range []int{4 << 10, 64<<10 - 512} {
		m := "REGISTER sip:x SIP/2.0\r\nX: " + strings.Repeat("expires=1;", size/10) + "\r\n\r\n"
		b.Run(fmt.Sprintf("%dB", len(m)), func(b *testing.B) {
			b.SetBytes(int64(len(m)))
			for b.Loop() {
				if FastPath(DirIn, []byte(m)) != 0 {
					b.Fatal("crossed")
				}
			}
		})
	}
}

// sippRegister is the REGISTER the module benchmarks' sipp sends.
const sippRegister = "REGISTER sip:127.0.0.1:5060 SIP/2.0\r\n" +
	"Via: SIP/2.0/TCP 127.0.0.1:5061;branch=z9hG4bK-12345-1-0;keep\r\n" +
	"Max-Forwards: 70\r\n" +
	"From: <sip:load1@127.0.0.1:5060>;tag=12345SIPpTag001\r\n" +
	"To: <sip:load1@127.0.0.1:5060>\r\n" +
	"Call-ID: 1-12345@127.0.0.1\r\n" +
	"CSeq: 1 REGISTER\r\n" +
	"Contact: <sip:load1@127.0.0.1:5061>\r\n" +
	"Expires: 300\r\n" +
	"Content-Length: 0\r\n\r\n"

// BenchmarkFastPathRegister is the incoming fast path on sipp's REGISTER
// (it passes: nothing may de-register), the scan every REGISTER costs a
// worker, timed in C.
func BenchmarkFastPathRegister(b *testing.B) {
	m := []byte(sippRegister)
	const inner = 1000
	b.SetBytes(int64(len(m)) * inner)
	for b.Loop() {
		if FastPathTimes(DirIn, m, inner) != 0 {
			b.Fatal("crossed")
		}
	}
}
