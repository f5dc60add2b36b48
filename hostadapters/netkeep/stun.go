package netkeep

import (
	"net/netip"

	"github.com/sipkeep/sipkeep/internal/stunresp"
)

// stunMagicCookie marks RFC 5389 messages (tests patch it into classic ones).
const stunMagicCookie = stunresp.MagicCookie

// parseSTUNHeader reports whether a datagram is STUN of either flavour
// (RFC 5389 or classic RFC 3489); internal/stunresp decides for every adapter.
func parseSTUNHeader(b []byte) (stunresp.Header, bool) { return stunresp.Parse(b) }

// bindingResponse answers a Binding request from src, received on local.
func bindingResponse(req []byte, src, local netip.AddrPort) ([]byte, error) {
	return stunresp.Answer(req, src, local)
}

// bindingRequest is our keep-alive: a Binding request with the plugin's
// transaction id (retransmissions reuse it) and a FINGERPRINT.
func bindingRequest(tx [12]byte) ([]byte, error) { return stunresp.Request(tx, true) }
