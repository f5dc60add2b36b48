package kamailio

import (
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/hostadapters/internal/siptest"
)

// runSippCount runs the scenario and returns the wall time and sipp's
// successful and failed call counts, without failing on failed calls (on a
// loaded machine sipp times some out, plain or not: benchmarks count them).
func runSippCount(t testing.TB, k *kam, r siptest.SippRun) (took time.Duration, ok, failed int) {
	t.Helper()
	siptest.NeedSipp(t)
	took, out, err := siptest.Sipp(t.TempDir(), k.Addr(), r)
	ok, failed = siptest.SippCounts(out)
	if err != nil && ok == 0 {
		t.Fatal(err)
	}
	return took, ok, failed
}

// sipp runs the scenario; safe to call from any goroutine.
func sipp(dir string, k *kam, r siptest.SippRun) (time.Duration, error) {
	took, _, err := siptest.Sipp(dir, k.Addr(), r)
	return took, err
}
