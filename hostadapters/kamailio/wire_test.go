package kamailio

import (
	"testing"

	"github.com/sipkeep/sipkeep/hostadapters/wiretest"
)

// The wire-level kit every adapter runs, against Kamailio with the sipkeep
// module and its registrar (Flow-Timer and keep 3). Kamailio's stun module
// answers STUN; it does not return FINGERPRINT.
func TestWireKit(t *testing.T) {
	k := startKamailio(t, kamOptions{FlowTimer: 3})
	wiretest.Run(t, wiretest.Target{UDP: k.Addr(), TCP: k.Addr(), Domain: k.Addr(), Keep: 3, NoFingerprint: true})
}
