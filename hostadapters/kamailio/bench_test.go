package kamailio

import (
	"testing"
	"time"
)

// BenchmarkKamailioRegister measures Kamailio's REGISTER rate under sipp load
// (UDP, 100 outstanding, no rate cap), plain and with the sipkeep adapter,
// in one run. Each sub-benchmark starts its own Kamailio and runs a fixed
// load once; reg/s is the figure to read (ns/op is per REGISTER).
func BenchmarkKamailioRegister(b *testing.B) {
	const calls = 5000
	for _, c := range []struct {
		name  string
		plain bool
	}{{"plain", true}, {"sipkeep", false}} {
		b.Run(c.name, func(b *testing.B) {
			needSipp(b)
			k := startKamailio(b, kamOptions{Plain: c.plain})
			runSipp(b, k, sippRun{Calls: 300, Limit: 50}) // warm every worker
			b.ResetTimer()
			took := runSipp(b, k, sippRun{Calls: calls, Limit: 100, CheckKeep: !c.plain})
			b.StopTimer()
			rate := float64(calls) / took.Seconds()
			b.ReportMetric(rate, "reg/s")
			b.ReportMetric(float64(took.Nanoseconds())/calls, "ns/op")
			b.Logf("%s: %d REGISTERs in %s = %.0f reg/s (%s each)", c.name, calls, took.Round(time.Millisecond), rate,
				(took / calls).Round(time.Microsecond))
		})
	}
}
