// Package stunresp is the one STUN Binding responder the host adapters
// share (netkeep, the C API behind the Kamailio and OpenSIPS modules).
//
// abi/ABI.md promises that hosts answer Binding requests themselves in both
// flavours a SIP peer may send as a keep-alive:
//
//   - RFC 5389 (the magic cookie 0x2112A442 in bytes 4..8): the answer carries
//     XOR-MAPPED-ADDRESS and SOFTWARE, and FINGERPRINT when the request had
//     one (RFC 5389 §15.5: a client that uses FINGERPRINT expects it back;
//     one that does not may not understand it).
//   - RFC 3489 (no cookie; the 16-byte transaction id is bytes 4..20): the
//     answer echoes the whole id and carries MAPPED-ADDRESS, and, when the
//     responder knows the address it received on, SOURCE-ADDRESS and
//     CHANGED-ADDRESS (RFC 3489 §11.2.1; we cannot change address or port,
//     so CHANGED-ADDRESS is our own).
//
// pion/stun builds the attributes; it needs the cookie to decode, so a
// classic message is built with pion and its id patched in afterwards.
// Every function is bounded by the length of its input: a header check,
// then at most one pass over the attributes.
package stunresp
