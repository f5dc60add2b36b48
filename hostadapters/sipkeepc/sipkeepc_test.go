package sipkeepc

import (
	"strings"
	"testing"

	"github.com/sipkeep/sipkeep/abi"
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
