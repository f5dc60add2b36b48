package opensips

import (
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/hostadapters/internal/siptest"
)

// TestOpenSIPSStandingGrant: a REGISTER 200 carrying the client's bare
// ;keep gets the module's standing grant without waiting for the plugin
// service (abi.FeatureStandingGrant); every one still reaches the plugin
// afterwards for the flow's record, and the plugin agrees with each.
func TestOpenSIPSStandingGrant(t *testing.T) {
	s := start(t, options{Policy: "receiver_keep_seconds=20"})
	runSipp(t, s, siptest.SippRun{Calls: 400, Rate: 400, Limit: 50, CheckKeep: true})
	mod, svc := s.stats(t)
	granted := num(mod, "standing_grants")
	if granted < 300 {
		t.Fatalf("standing_grants = %v after 400 REGISTERs, want most of them: %v", granted, mod)
	}
	for end := time.Now().Add(10 * time.Second); num(svc, "deferred") < granted && time.Now().Before(end); {
		time.Sleep(50 * time.Millisecond)
		_, svc = s.stats(t)
	}
	if num(svc, "deferred") != granted || num(svc, "standing_grant") != 20 || num(svc, "standing_mismatch") != 0 {
		t.Errorf("want deferred = standing_grants = %v, standing_grant 20, no mismatch: %v", granted, svc)
	}
}
