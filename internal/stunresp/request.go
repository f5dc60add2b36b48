package stunresp

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/pion/stun/v3"
)

// Request builds an RFC 5389 Binding request with transaction id tx (a
// keep-alive's retransmissions reuse it), with FINGERPRINT when asked.
func Request(tx [stun.TransactionIDSize]byte, fingerprint bool) ([]byte, error) {
	setters := []stun.Setter{stun.NewTransactionIDSetter(tx), stun.BindingRequest}
	if fingerprint {
		setters = append(setters, stun.Fingerprint)
	}
	m, err := stun.Build(setters...)
	if err != nil {
		return nil, fmt.Errorf("build STUN Binding request: %w", err)
	}
	return m.Raw, nil
}

// Message is what Decode reads from a STUN message.
type Message struct {
	Header
	// TxID is the RFC 5389 transaction id; for an RFC 3489 message, the
	// last 12 bytes of its 16-byte id.
	TxID [stun.TransactionIDSize]byte
	// Mapped is XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS, when present.
	Mapped netip.AddrPort
}

// Decode reads a STUN message of either flavour. ok is false for anything
// that is not one (attributes that do not fit their message included).
func Decode(b []byte) (msg Message, ok bool) {
	h, ok := Parse(b)
	if !ok {
		return msg, false
	}
	msg.Header = h
	copy(msg.TxID[:], b[8:20])
	raw := append([]byte(nil), b...)
	if !h.Cookie {
		// pion decodes only with the cookie; RFC 3489 attributes have the
		// same layout, and XOR-MAPPED-ADDRESS does not exist there.
		binary.BigEndian.PutUint32(raw[4:8], MagicCookie)
	}
	m := &stun.Message{Raw: raw}
	if err := m.Decode(); err != nil {
		return msg, false
	}
	if h.Cookie {
		var xa stun.XORMappedAddress
		if xa.GetFrom(m) == nil {
			msg.Mapped = addrPort(xa.IP, xa.Port)
			return msg, true
		}
	}
	var ma stun.MappedAddress
	if ma.GetFrom(m) == nil {
		msg.Mapped = addrPort(ma.IP, ma.Port)
	}
	return msg, true
}

func addrPort(ip []byte, port int) netip.AddrPort {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(a.Unmap(), uint16(port))
}
