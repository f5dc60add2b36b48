package wiretest

import (
	"crypto/tls"
	"net"
	"testing"
	"time"
)

// Target names the sockets of a SIP server under sipkeep.
type Target struct {
	UDP string // "ip:port" of its UDP SIP socket; "" skips the UDP checks
	TCP string // "ip:port" of its TCP SIP listener; "" skips the TCP checks
	// TLS is "ip:port" of its TLS SIP listener; "" skips the TLS checks.
	// The kit checks SIP over TLS, not the certificate: it does not verify
	// it unless TLSConfig says otherwise.
	TLS       string
	TLSConfig *tls.Config
	// WS is "ip:port" of its SIP WebSocket listener (RFC 7118, ws://, path
	// "/"), WSS of its secure one (wss://, TLS as for TLS); "" skips them.
	WS, WSS string
	// WSPing: the target answers a CRLFCRLF WebSocket message with a CRLF
	// one (K1 over WebSocket: netkeep and Kamailio do), checked before and
	// after the connection carries a registration.
	WSPing bool
	// WSNoGrant: the target does not grant keep on WebSocket flows, WS or
	// WSS (it cannot answer their keep-alives); the WebSocket REGISTER check
	// then wants the top Via's keep back without a value (R10).
	WSNoGrant bool
	// Domain is the Request-URI host of the REGISTERs (default 127.0.0.1).
	Domain string
	// Keep, when > 0, is the keep value the target must grant.
	Keep int
	// NoFingerprint: the target's STUN responder does not return
	// FINGERPRINT when the request had one (Kamailio's and OpenSIPS's own
	// stun modules); the RFC 5389 check then wants the answer without it.
	// sipkeep's responder (internal/stunresp) returns it.
	NoFingerprint bool
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

// tlsConfig is the client config for a TLS connection to addr: TLSConfig,
// verifying the certificate for the address dialled, or none verified.
func (tg Target) tlsConfig(addr string) *tls.Config {
	if tg.TLSConfig == nil {
		return &tls.Config{InsecureSkipVerify: true} // the kit checks SIP, not PKI
	}
	cfg := tg.TLSConfig.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName, _, _ = net.SplitHostPort(addr)
	}
	return cfg
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
	if tg.UDP == "" && tg.TCP == "" && tg.TLS == "" && tg.WS == "" && tg.WSS == "" {
		t.Fatal("wiretest: the target has no UDP, TCP, TLS or WebSocket address")
	}
	if tg.UDP != "" {
		t.Run("K3_STUN5389", func(t *testing.T) { checkSTUN5389(t, tg, true) })
		t.Run("K3_STUN5389NoFingerprint", func(t *testing.T) { checkSTUN5389(t, tg, false) })
		t.Run("K3_STUN3489", func(t *testing.T) { checkSTUN3489(t, tg) })
		t.Run("R10_R17_RegisterUDP", func(t *testing.T) { checkRegisterUDP(t, tg) })
	}
	if tg.TCP != "" {
		t.Run("K1_PingPong", func(t *testing.T) { checkPingPong(t, tg, "TCP") })
		t.Run("R10_R17_RegisterTCP", func(t *testing.T) { checkRegisterStream(t, tg, "TCP") })
	}
	if tg.TLS != "" {
		t.Run("K1_PingPongTLS", func(t *testing.T) { checkPingPong(t, tg, "TLS") })
		t.Run("R10_R17_RegisterTLS", func(t *testing.T) { checkRegisterStream(t, tg, "TLS") })
	}
	for _, ws := range []struct {
		addr   string
		secure bool
		name   string
	}{{tg.WS, false, "WS"}, {tg.WSS, true, "WSS"}} {
		if ws.addr == "" {
			continue
		}
		if tg.WSPing {
			t.Run("K1_PingPong"+ws.name, func(t *testing.T) { pingWS(t, tg, dialWS(t, tg, ws.secure)) })
		}
		name := "R10_R17_Register" + ws.name
		if tg.WSNoGrant {
			name = "R10_Register" + ws.name + "NotGranted"
		}
		t.Run(name, func(t *testing.T) { checkRegisterWS(t, tg, ws.secure) })
	}
}
