package stunresp

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/pion/stun/v3"
)

// Software is the SOFTWARE attribute of RFC 5389 answers.
const Software = "sipkeep"

// ErrNotBindingRequest is returned by Answer for any other message.
var ErrNotBindingRequest = errors.New("not a STUN Binding request")

// Answer builds the Binding success response to req, received from src.
// local is the address req arrived on; when valid, RFC 3489 answers carry it
// as SOURCE-ADDRESS and CHANGED-ADDRESS (RFC 5389 answers do not use it).
func Answer(req []byte, src, local netip.AddrPort) ([]byte, error) {
	h, ok := Parse(req)
	if !ok || !h.BindingRequest() {
		return nil, ErrNotBindingRequest
	}
	if !src.IsValid() {
		return nil, fmt.Errorf("answer STUN: no source address")
	}
	if h.Cookie {
		return answer5389(req, src)
	}
	return answer3489(req, src, local)
}

func answer5389(req []byte, src netip.AddrPort) ([]byte, error) {
	in := &stun.Message{Raw: append([]byte(nil), req...)}
	if err := in.Decode(); err != nil {
		return nil, fmt.Errorf("decode STUN Binding request: %w", err)
	}
	setters := []stun.Setter{
		stun.NewTransactionIDSetter(in.TransactionID), stun.BindingSuccess,
		&stun.XORMappedAddress{IP: src.Addr().Unmap().AsSlice(), Port: int(src.Port())},
		stun.NewSoftware(Software),
	}
	if in.Contains(stun.AttrFingerprint) {
		setters = append(setters, stun.Fingerprint)
	}
	m, err := stun.Build(setters...)
	if err != nil {
		return nil, fmt.Errorf("build STUN Binding response: %w", err)
	}
	return m.Raw, nil
}

func answer3489(req []byte, src, local netip.AddrPort) ([]byte, error) {
	var tx [stun.TransactionIDSize]byte
	copy(tx[:], req[8:20])
	setters := []stun.Setter{
		stun.NewTransactionIDSetter(tx), stun.BindingSuccess,
		&stun.MappedAddress{IP: src.Addr().Unmap().AsSlice(), Port: int(src.Port())},
	}
	if local.IsValid() && !local.Addr().IsUnspecified() {
		l := stun.MappedAddress{IP: local.Addr().Unmap().AsSlice(), Port: int(local.Port())}
		setters = append(setters, addrAs{l, stun.AttrSourceAddress}, addrAs{l, stun.AttrChangedAddress})
	}
	m, err := stun.Build(setters...)
	if err != nil {
		return nil, fmt.Errorf("build classic STUN Binding response: %w", err)
	}
	out := m.Raw
	copy(out[4:8], req[4:8]) // the classic id's first 4 bytes, where pion put the cookie
	return out, nil
}

// addrAs adds an address attribute under another type (RFC 3489's
// SOURCE-ADDRESS and CHANGED-ADDRESS share MAPPED-ADDRESS's encoding).
type addrAs struct {
	a stun.MappedAddress
	t stun.AttrType
}

func (s addrAs) AddTo(m *stun.Message) error { return s.a.AddToAs(m, s.t) }
