package opensips

import (
	"encoding/json"
	"strings"
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

// The kit's stream checks over TLS (proto_tls): the module sees the
// decrypted messages in OpenSIPS's raw hooks, a CRLFCRLF ping is answered
// with a CRLF pong, and the plugin service keeps the registration's flow
// as a TLS flow. The module turns on proto_tls's tls_crlf_drop, as it does
// proto_tcp's (TestK6_OpenSIPSSenderTCPPongKeepsTheConnection).
func TestWireKitTLS(t *testing.T) {
	s := start(t, options{TLS: true})
	wiretest.Run(t, wiretest.Target{TLS: s.TLSAddr(), Domain: s.Addr(), Keep: 3})
	if !s.logContains("set proto_tls's tls_crlf_drop to 1") {
		t.Error("the module did not turn on proto_tls's tls_crlf_drop")
	}
	flows, err := s.mi(t, "sipkeep_flows", nil)
	if err != nil {
		t.Fatalf("sipkeep_flows: %v", err)
	}
	var f struct{ Flows []string }
	if err := json.Unmarshal(flows, &f); err != nil {
		t.Fatalf("sipkeep_flows: %s: %v", flows, err)
	}
	for _, fl := range f.Flows {
		if strings.Contains(strings.ToLower(fl), "tls") && strings.Contains(fl, "receiver") {
			return
		}
	}
	t.Errorf("sipkeep_flows: no receiver flow over TLS after the REGISTER: %q", f.Flows)
}

// The kit over a WebSocket (proto_ws, RFC 7118) and a secure one
// (proto_wss). OpenSIPS does not answer a CRLFCRLF keep-alive on a
// WebSocket (proto_ws hands it to the SIP parser, which refuses it), so the
// module grants nothing there: a REGISTER over WS or WSS gets its bare keep
// back, unlike one over TCP on the same OpenSIPS (TestWireKit).
func TestWireKitWS(t *testing.T) {
	s := start(t, options{WS: true, TLS: true})
	wiretest.Run(t, wiretest.Target{WS: s.WSAddr(), WSS: s.WSSAddr(), WSNoGrant: true, Domain: s.Addr()})
}

// The kit over IPv6 ([::1]): the module's STUN responder answers with an
// IPv6 XOR-MAPPED-ADDRESS, and REGISTER over UDP and TCP gets keep=3.
func TestWireKitIPv6(t *testing.T) {
	s := start(t, options{IPv6: true})
	wiretest.Run(t, wiretest.Target{UDP: s.Addr6(), TCP: s.Addr6(), Domain: s.Addr(), Keep: 3})
}
