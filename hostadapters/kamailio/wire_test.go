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

// The kit's stream checks over TLS (Kamailio's tls module, the example's
// WITH_TLS): the module sees the decrypted messages in Kamailio's raw
// hooks, and Kamailio's core answers a CRLFCRLF ping with a CRLF pong.
func TestWireKitTLS(t *testing.T) {
	k := startKamailio(t, kamOptions{FlowTimer: 3, TLS: true})
	wiretest.Run(t, wiretest.Target{TLS: k.TLSAddr(), Domain: k.Addr(), Keep: 3})
}

// The kit over a WebSocket (the example's WITH_WEBSOCKET, Kamailio's
// websocket module): the module sees the message Kamailio took out of its
// WebSocket frame and its edit goes back framed, and Kamailio answers a
// CRLFCRLF message with a CRLF one.
func TestWireKitWS(t *testing.T) {
	k := startKamailio(t, kamOptions{FlowTimer: 3, WS: true})
	wiretest.Run(t, wiretest.Target{WS: k.WSAddr(), WSPing: true, Domain: k.Addr(), Keep: 3})
}

// The kit over IPv6 (the example's WITH_IPV6): STUN answered with an IPv6
// XOR-MAPPED-ADDRESS, REGISTER over UDP and TCP on [::1] gets keep=3.
func TestWireKitIPv6(t *testing.T) {
	k := startKamailio(t, kamOptions{FlowTimer: 3, IPv6: true})
	wiretest.Run(t, wiretest.Target{UDP: k.Addr6(), TCP: k.Addr6(), Domain: k.Addr(), Keep: 3, NoFingerprint: true})
}

// The kit over a secure WebSocket: WITH_TLS and WITH_WEBSOCKET together
// take WebSocket upgrades on the TLS listener.
func TestWireKitWSS(t *testing.T) {
	k := startKamailio(t, kamOptions{FlowTimer: 3, TLS: true, WS: true})
	wiretest.Run(t, wiretest.Target{WSS: k.TLSAddr(), WSPing: true, Domain: k.Addr(), Keep: 3})
}
