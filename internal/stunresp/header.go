package stunresp

import "encoding/binary"

// HeaderSize is the length of a STUN header (both RFC 5389 and RFC 3489).
const HeaderSize = 20

// MagicCookie marks an RFC 5389 message; RFC 3489 messages lack it.
const MagicCookie = 0x2112A442

const (
	classMask    = 0x0110
	methodMask   = 0x3EEF
	methodBind   = 0x0001
	classReq     = 0x0000
	classIndic   = 0x0010
	classSuccess = 0x0100
	classError   = 0x0110
)

// Class is a STUN message class (RFC 5389 §6).
type Class uint8

// The four classes.
const (
	ClassRequest Class = iota + 1
	ClassIndication
	ClassSuccess
	ClassError
)

// Header is what Parse learns from the first 20 bytes.
type Header struct {
	Type   uint16 // message type: method and class bits
	Cookie bool   // RFC 5389 magic cookie present (false: RFC 3489)
}

// Class returns the message class.
func (h Header) Class() Class {
	switch h.Type & classMask {
	case classReq:
		return ClassRequest
	case classIndic:
		return ClassIndication
	case classSuccess:
		return ClassSuccess
	default:
		return ClassError
	}
}

// Binding reports whether the method is Binding.
func (h Header) Binding() bool { return h.Type&methodMask == methodBind }

// BindingRequest reports whether the message is a Binding request.
func (h Header) BindingRequest() bool { return h.Binding() && h.Class() == ClassRequest }

// Parse reports whether b is one whole STUN message of either flavour: the
// first two bits zero, a 4-byte aligned length that matches b. SIP cannot
// pass (its first byte is printable ASCII, 0x20 or above), nor can a CRLF
// keep-alive (shorter than a header).
func Parse(b []byte) (Header, bool) {
	if len(b) < HeaderSize || b[0]&0xC0 != 0 {
		return Header{}, false
	}
	n := int(binary.BigEndian.Uint16(b[2:4]))
	if n%4 != 0 || HeaderSize+n != len(b) {
		return Header{}, false
	}
	return Header{
		Type:   binary.BigEndian.Uint16(b[0:2]),
		Cookie: binary.BigEndian.Uint32(b[4:8]) == MagicCookie,
	}, true
}
