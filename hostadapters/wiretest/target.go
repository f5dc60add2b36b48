package wiretest

import (
	"testing"
	"time"
)

// Target names the sockets of a SIP server under sipkeep.
type Target struct {
	UDP string // "ip:port" of its UDP SIP socket; "" skips the UDP checks
	TCP string // "ip:port" of its TCP SIP listener; "" skips the TCP checks
	// Domain is the Request-URI host of the REGISTERs (default 127.0.0.1).
	Domain string
	// Keep, when > 0, is the keep value the target must grant.
	Keep int
	// Wait bounds each read (default 5 s): a bound on a hang, not a speed
	// requirement.
	Wait time.Duration
}

func (tg Target) wait() time.Duration {
	if tg.Wait > 0 {
		return tg.Wait
	}
	return 5 * time.Second
}

func (tg Target) domain() string {
	if tg.Domain != "" {
		return tg.Domain
	}
	return "127.0.0.1"
}

// Run runs every check that applies to the target's transports, each as a
// subtest named by requirement id.
func Run(t *testing.T, tg Target) {
	t.Helper()
	if tg.UDP == "" && tg.TCP == "" {
		t.Fatal("wiretest: the target has no UDP or TCP address")
	}
	if tg.UDP != "" {
		t.Run("K3_STUN5389", func(t *testing.T) { checkSTUN5389(t, tg, true) })
		t.Run("K3_STUN5389NoFingerprint", func(t *testing.T) { checkSTUN5389(t, tg, false) })
		t.Run("K3_STUN3489", func(t *testing.T) { checkSTUN3489(t, tg) })
		t.Run("R10_R17_RegisterUDP", func(t *testing.T) { checkRegisterUDP(t, tg) })
	}
	if tg.TCP != "" {
		t.Run("K1_PingPong", func(t *testing.T) { checkPingPong(t, tg) })
		t.Run("R10_R17_RegisterTCP", func(t *testing.T) { checkRegisterTCP(t, tg) })
	}
}
