package netkeep

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/pion/stun/v3"
)

const (
	stunHeaderSize  = 20
	stunMagicCookie = 0x2112A442

	stunClassMask    = 0x0110
	stunClassRequest = 0x0000
	stunClassIndic   = 0x0010
	stunMethodMask   = 0x3EEF
	stunMethodBind   = 0x0001
)

// stunHeader describes a datagram that looks like STUN: the first two bits
// zero, a length field that matches the datagram, a 4-byte aligned body. Both
// RFC 5389 (magic cookie) and classic RFC 3489 (no cookie) messages pass; SIP
// cannot (its first byte is printable ASCII, 0x20 or above), nor can a CRLF
// keep-alive (shorter than a STUN header).
type stunHeader struct {
	typ     uint16
	cookie  bool // RFC 5389 magic cookie present
	isReq   bool
	bind    bool
	classic bool
}

func parseSTUNHeader(b []byte) (h stunHeader, ok bool) {
	if len(b) < stunHeaderSize || b[0]&0xC0 != 0 {
		return h, false
	}
	n := int(binary.BigEndian.Uint16(b[2:4]))
	if n%4 != 0 || stunHeaderSize+n != len(b) {
		return h, false
	}
	h.typ = binary.BigEndian.Uint16(b[0:2])
	h.cookie = binary.BigEndian.Uint32(b[4:8]) == stunMagicCookie
	h.classic = !h.cookie
	h.isReq = h.typ&stunClassMask == stunClassRequest
	h.bind = h.typ&stunMethodMask == stunMethodBind
	return h, true
}

func (h stunHeader) indication() bool { return h.typ&stunClassMask == stunClassIndic }

// bindingResponse answers a Binding request from src, received on local:
// XOR-MAPPED-ADDRESS for RFC 5389 (with FINGERPRINT when the request had
// one), MAPPED-ADDRESS plus SOURCE-ADDRESS and CHANGED-ADDRESS for RFC 3489,
// whose 16-byte transaction id is echoed whole.
func bindingResponse(req []byte, h stunHeader, src, local netip.AddrPort) ([]byte, error) {
	var tx [stun.TransactionIDSize]byte
	copy(tx[:], req[8:20])
	ip := src.Addr().AsSlice()
	port := int(src.Port())
	if h.cookie {
		in := &stun.Message{Raw: append([]byte(nil), req...)}
		if err := in.Decode(); err != nil {
			return nil, fmt.Errorf("decode binding request: %w", err)
		}
		setters := []stun.Setter{
			stun.NewTransactionIDSetter(tx), stun.BindingSuccess,
			&stun.XORMappedAddress{IP: ip, Port: port},
			stun.NewSoftware("sipkeep"),
		}
		if in.Contains(stun.AttrFingerprint) {
			setters = append(setters, stun.Fingerprint)
		}
		m, err := stun.Build(setters...)
		if err != nil {
			return nil, fmt.Errorf("build binding response: %w", err)
		}
		return m.Raw, nil
	}
	lip := local.Addr().AsSlice()
	m, err := stun.Build(stun.NewTransactionIDSetter(tx), stun.BindingSuccess,
		&stun.MappedAddress{IP: ip, Port: port},
		addrAs{stun.MappedAddress{IP: lip, Port: int(local.Port())}, stun.AttrSourceAddress},
		addrAs{stun.MappedAddress{IP: lip, Port: int(local.Port())}, stun.AttrChangedAddress},
	)
	if err != nil {
		return nil, fmt.Errorf("build classic binding response: %w", err)
	}
	out := m.Raw
	copy(out[4:8], req[4:8]) // the classic transaction id's first 4 bytes
	return out, nil
}

// addrAs adds an address attribute under another type (RFC 3489 attributes).
type addrAs struct {
	a stun.MappedAddress
	t stun.AttrType
}

func (s addrAs) AddTo(m *stun.Message) error { return s.a.AddToAs(m, s.t) }

// bindingRequest is our keep-alive: a Binding request with the plugin's
// transaction id (retransmissions reuse it) and a FINGERPRINT.
func bindingRequest(tx [12]byte) ([]byte, error) {
	m, err := stun.Build(stun.NewTransactionIDSetter(tx), stun.BindingRequest, stun.Fingerprint)
	if err != nil {
		return nil, fmt.Errorf("build binding request: %w", err)
	}
	return m.Raw, nil
}
