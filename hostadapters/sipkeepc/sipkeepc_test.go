package sipkeepc

import (
	"bytes"
	"fmt"
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
