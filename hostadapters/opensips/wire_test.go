package opensips

import (
	"testing"

	"github.com/sipkeep/sipkeep/hostadapters/wiretest"
)

// The wire-level kit every adapter runs, against OpenSIPS with the sipkeep
// module as registrar (local replies, keep 3). The module answers STUN on
// the SIP port itself, with the shared responder.
func TestWireKit(t *testing.T) {
	s := start(t, options{})
	wiretest.Run(t, wiretest.Target{UDP: s.Addr(), TCP: s.Addr(), Domain: s.Addr(), Keep: 3})
}
