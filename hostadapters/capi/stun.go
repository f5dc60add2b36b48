package main

import (
	"fmt"
	"net/netip"

	"github.com/sipkeep/sipkeep/internal/stunresp"
)

// The STUN helpers are internal/stunresp, the responder every adapter
// shares; these only adapt it to the C calling convention.

// stunRequest encodes a Binding request with the given transaction id
// (header only: sipkeep.h promises 20 bytes).
func stunRequest(txid [12]byte) []byte {
	b, err := stunresp.Request(txid, false)
	if err != nil { // cannot happen: no attributes to fail on
		panic(err)
	}
	return b
}

// stunClass is sipkeep_stun_parse's result: 0 not STUN, else 1 + the class.
func stunClass(c stunresp.Class) int32 { return int32(c) }

// parseSTUN decodes b (RFC 5389 or RFC 3489); mapped is the
// (XOR-)MAPPED-ADDRESS when present.
func parseSTUN(b []byte) (class int32, txid [12]byte, mapped string) {
	m, ok := stunresp.Decode(b)
	if !ok {
		return 0, txid, ""
	}
	if m.Mapped.IsValid() {
		mapped = m.Mapped.String()
	}
	return stunClass(m.Class()), m.TxID, mapped
}

// stunResponse builds the Binding success response to req (either
// flavour), reporting mapped.
func stunResponse(req []byte, mapped string) ([]byte, error) {
	ap, err := netip.ParseAddrPort(mapped)
	if err != nil {
		return nil, fmt.Errorf("mapped address: %w", err)
	}
	return stunresp.Answer(req, ap, netip.AddrPort{})
}
