package main

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/pion/stun/v3"
)

// stunRequest encodes a Binding request with the given transaction id.
func stunRequest(txid [stun.TransactionIDSize]byte) []byte {
	m := &stun.Message{Type: stun.BindingRequest, TransactionID: txid}
	m.WriteHeader()
	return m.Raw
}

// stunClass is sipkeep_stun_parse's result: 0 not STUN, else 1 + the class.
func stunClass(c stun.MessageClass) int32 {
	switch c {
	case stun.ClassRequest:
		return 1
	case stun.ClassIndication:
		return 2
	case stun.ClassSuccessResponse:
		return 3
	case stun.ClassErrorResponse:
		return 4
	}
	return 0
}

// parseSTUN decodes b; mapped is the (XOR-)MAPPED-ADDRESS when present.
func parseSTUN(b []byte) (class int32, txid [stun.TransactionIDSize]byte, mapped string) {
	if !stun.IsMessage(b) {
		return 0, txid, ""
	}
	m := &stun.Message{Raw: append([]byte(nil), b...)}
	if err := m.Decode(); err != nil {
		return 0, txid, ""
	}
	var xa stun.XORMappedAddress
	if err := xa.GetFrom(m); err == nil {
		mapped = net.JoinHostPort(xa.IP.String(), fmt.Sprint(xa.Port))
	} else {
		var ma stun.MappedAddress
		if err := ma.GetFrom(m); err == nil {
			mapped = net.JoinHostPort(ma.IP.String(), fmt.Sprint(ma.Port))
		}
	}
	return stunClass(m.Type.Class), m.TransactionID, mapped
}

// stunResponse builds the Binding success response to req, reporting mapped.
func stunResponse(req []byte, mapped string) ([]byte, error) {
	m := &stun.Message{Raw: append([]byte(nil), req...)}
	if err := m.Decode(); err != nil {
		return nil, fmt.Errorf("decode STUN request: %w", err)
	}
	if m.Type != stun.BindingRequest {
		return nil, fmt.Errorf("not a Binding request: %s", m.Type)
	}
	ap, err := netip.ParseAddrPort(mapped)
	if err != nil {
		return nil, fmt.Errorf("mapped address: %w", err)
	}
	resp, err := stun.Build(
		stun.NewTransactionIDSetter(m.TransactionID),
		stun.BindingSuccess,
		&stun.XORMappedAddress{IP: ap.Addr().Unmap().AsSlice(), Port: int(ap.Port())},
		stun.Fingerprint,
	)
	if err != nil {
		return nil, fmt.Errorf("build STUN response: %w", err)
	}
	return resp.Raw, nil
}
