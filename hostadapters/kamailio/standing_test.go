package kamailio

import (
	"strings"
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/hostadapters/internal/siptest"
)

// TestKamailioStandingGrant: a REGISTER 200 carrying the client's bare
// ;keep is answered with the module's standing grant without waiting for
// the plugin service (abi.FeatureStandingGrant), every one still reaches
// the plugin afterwards for the flow's record, and the plugin agrees with
// every grant that went out. A 200 the rule does not cover (a Flow-Timer:
// R15) still waits for the plugin and gets its value.
func TestKamailioStandingGrant(t *testing.T) {
	siptest.NeedSipp(t)
	k := startKamailio(t, kamOptions{FlowTimer: 20})
	if _, err := sipp(t.TempDir(), k, siptest.SippRun{Calls: 400, Rate: 400, Limit: 50, CheckKeep: true}); err != nil {
		t.Fatalf("sipp: %v", err)
	}
	granted := k.kstat(t, "standing_grants")
	if granted < 300 {
		t.Fatalf("sipkeep:standing_grants = %d after 400 REGISTERs, want most of them", granted)
	}
	var stats string
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		stats = k.kamcmd(t, "sipkeep.stats")
		if lineValue(stats, "deferred") >= granted || time.Now().After(end) {
			break
		}
	}
	if d := lineValue(stats, "deferred"); d != granted {
		t.Errorf("the plugin saw %d of the %d responses sent with the standing grant:\n%s", d, granted, stats)
	}
	if lineValue(stats, "standing_grant") != 20 || lineValue(stats, "standing_mismatch") != 0 {
		t.Errorf("want standing_grant 20 and no mismatch:\n%s", stats)
	}
	if flows := k.kamcmd(t, "sipkeep.flows"); !strings.Contains(flows, "role=receiver interval=20s") {
		t.Errorf("the sipp flow's record is not the receiver's with 20 s:\n%s", flows)
	}
}
