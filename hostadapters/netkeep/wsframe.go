package netkeep

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// WebSocket opcodes (RFC 6455 §5.2).
const (
	wsOpCont   = 0x0
	wsOpText   = 0x1
	wsOpBinary = 0x2
	wsOpClose  = 0x8
	wsOpPing   = 0x9
	wsOpPong   = 0xA
)

// WebSocket close codes (RFC 6455 §7.4.1) netkeep sends.
const (
	wsCloseNormal      = 1000
	wsCloseProtocol    = 1002
	wsCloseUnsupported = 1003
	wsCloseTooBig      = 1009
)

// ErrWebSocket reports a WebSocket stream that broke the protocol (RFC 6455)
// or carried something that is not SIP over WebSocket (RFC 7118): the
// connection is closed with the matching close code.
var ErrWebSocket = errors.New("netkeep: WebSocket protocol error")

// wsFrame is one parsed frame header and its payload (unmasked).
type wsFrame struct {
	fin     bool
	op      byte
	payload []byte
}

// wsError is a protocol error with the close code to send.
type wsError struct {
	code   uint16
	reason string
}

func (e *wsError) Error() string {
	return fmt.Sprintf("%v: %s (close %d)", ErrWebSocket, e.reason, e.code)
}
func (e *wsError) Unwrap() error { return ErrWebSocket }

// parseWSFrame takes one frame off the head of b. It returns n == 0 when b
// holds less than a whole frame. A frame whose declared length exceeds max
// is refused from its header alone, before its payload is buffered. The
// payload is unmasked in place (b is the caller's buffer).
//
// wantMasked: frames from a client must be masked and frames from a server
// must not (RFC 6455 §5.1); either mistake ends the connection.
func parseWSFrame(b []byte, wantMasked bool, max int) (f wsFrame, n int, err error) {
	if len(b) < 2 {
		return f, 0, nil
	}
	f.fin = b[0]&0x80 != 0
	if b[0]&0x70 != 0 {
		return f, 0, &wsError{wsCloseProtocol, "reserved bits set (no extension was negotiated)"}
	}
	f.op = b[0] & 0x0F
	masked := b[1]&0x80 != 0
	if masked != wantMasked {
		return f, 0, &wsError{wsCloseProtocol, "frame masking does not match the peer's role"}
	}
	ln := uint64(b[1] & 0x7F)
	hl := 2
	switch ln {
	case 126:
		if len(b) < 4 {
			return f, 0, nil
		}
		ln, hl = uint64(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return f, 0, nil
		}
		ln, hl = binary.BigEndian.Uint64(b[2:]), 10
	}
	if f.op >= 0x8 {
		if !f.fin || ln > 125 {
			return f, 0, &wsError{wsCloseProtocol, "fragmented or oversized control frame"}
		}
	} else if f.op > wsOpBinary {
		return f, 0, &wsError{wsCloseProtocol, fmt.Sprintf("reserved opcode %#x", f.op)}
	}
	if ln > uint64(max) {
		return f, 0, &wsError{wsCloseTooBig, fmt.Sprintf("frame of %d bytes exceeds %d", ln, max)}
	}
	var mask [4]byte
	if masked {
		if len(b) < hl+4 {
			return f, 0, nil
		}
		copy(mask[:], b[hl:hl+4])
		hl += 4
	}
	total := hl + int(ln)
	if len(b) < total {
		return f, 0, nil
	}
	f.payload = b[hl:total]
	if masked {
		for i := range f.payload {
			f.payload[i] ^= mask[i&3]
		}
	}
	return f, total, nil
}

// appendWSFrame appends one whole (fin) frame to dst. With mask set the
// payload is masked with it (frames a client sends).
func appendWSFrame(dst []byte, op byte, payload []byte, mask *[4]byte) []byte {
	dst = append(dst, 0x80|op)
	mbit := byte(0)
	if mask != nil {
		mbit = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		dst = append(dst, mbit|byte(n))
	case n <= 0xFFFF:
		dst = append(dst, mbit|126, byte(n>>8), byte(n))
	default:
		dst = append(dst, mbit|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	if mask == nil {
		return append(dst, payload...)
	}
	dst = append(dst, mask[:]...)
	start := len(dst)
	dst = append(dst, payload...)
	for i := range dst[start:] {
		dst[start+i] ^= mask[i&3]
	}
	return dst
}

// closePayload is a close frame's body: the code and a short reason.
func closePayload(code uint16, reason string) []byte {
	if len(reason) > 120 {
		reason = reason[:120]
	}
	return append(binary.BigEndian.AppendUint16(nil, code), reason...)
}
