// Package wiretest is the wire-level conformance kit every sipkeep adapter's
// tests run: it talks to a SIP server under sipkeep over real sockets on
// loopback and checks what a peer on the wire sees:
//
//   - K3: a STUN Binding request on the UDP SIP port is answered, in both
//     flavours abi/ABI.md promises: RFC 5389 (XOR-MAPPED-ADDRESS = our
//     address, transaction id echoed, FINGERPRINT back when we sent one
//     unless Target.NoFingerprint) and
//     classic RFC 3489 (MAPPED-ADDRESS, the whole 16-byte id echoed).
//   - K1: a CRLFCRLF ping on a TCP or TLS connection gets a CRLF pong,
//     before and after the connection carries a registration; on a
//     WebSocket (RFC 7118) too, in WebSocket messages, when Target.WSPing.
//   - R10: a REGISTER whose top Via offers ";keep" gets a response whose
//     top Via carries keep=N (N > 0; exactly Target.Keep when set), over
//     each transport the target names: UDP, TCP, TLS, WS, WSS. A target
//     that cannot answer keep-alives on WebSocket says so
//     (Target.WSNoGrant), and its WebSocket responses must then carry no
//     value.
//   - R17: a lower Via that arrived with a value (keep=5) does not carry
//     it back in the response.
//
// The target is a registrar, or a proxy with a registrar behind it, that
// answers REGISTER with 200 OK and has sipkeep's receiver role on; the test
// starts it and passes its addresses:
//
//	wiretest.Run(t, wiretest.Target{UDP: "127.0.0.1:5060", TCP: "127.0.0.1:5060"})
//
// Addresses may be IPv6 ("[::1]:5060"). TLS and WSS are checked with
// Target.TLSConfig, or without verifying the certificate when it is nil:
// the kit checks SIP, not PKI.
//
// netkeep's and sipgokeep's tests run it against Go servers; a test for the
// Kamailio or OpenSIPS module starts the server with its configuration
// (internal/testnet.FreePort for the port), waits until it listens, and
// makes the same call, from a Go test in its package
// (hostadapters/kamailio, hostadapters/opensips). Nothing here depends on
// the server's language: only the bytes on the wire are checked.
package wiretest
