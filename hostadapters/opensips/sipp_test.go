package opensips

import (
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/hostadapters/internal/siptest"
)

// runSipp runs the REGISTER scenario against s and returns the wall time;
// it fails the test when sipp reports a failed call (non-zero exit).
func runSipp(t testing.TB, s *osips, r siptest.SippRun) time.Duration {
	t.Helper()
	siptest.NeedSipp(t)
	took, err := sipp(t.TempDir(), s, r)
	if err != nil {
		t.Fatal(err)
	}
	return took
}

// sipp runs the scenario; safe to call from any goroutine.
func sipp(dir string, s *osips, r siptest.SippRun) (time.Duration, error) {
	took, _, err := siptest.Sipp(dir, s.Addr(), r)
	return took, err
}
