package keep

// A STUN response, read just far enough for keep-alives: its class, its
// transaction id and the mapped address (RFC 5389 §6, §15.1, §15.2). The
// host owns the full STUN codec (pion/stun); the guest only needs these
// fields and must not pull a STUN library into the wasm module.

const (
	stunHeaderSize   = 20
	stunMagicCookie  = 0x2112A442
	stunBindingOK    = 0x0101
	stunBindingError = 0x0111

	stunAttrMappedAddress    = 0x0001
	stunAttrXORMappedAddress = 0x0020

	stunClassSuccess = 1
	stunClassError   = 2
)

type stunMessage struct {
	class     uint8
	txID      [12]byte
	hasMapped bool
	mapped    [18]byte // 16-byte address (IPv4 mapped into IPv6) + port, big-endian
}

// parse reads a Binding success or error response. It reports false for
// anything else or for a message whose lengths do not add up.
func (m *stunMessage) parse(b []byte) bool {
	*m = stunMessage{}
	if len(b) < stunHeaderSize || b[0]&0xC0 != 0 {
		return false
	}
	typ := uint16(b[0])<<8 | uint16(b[1])
	n := int(b[2])<<8 | int(b[3])
	if n%4 != 0 || stunHeaderSize+n > len(b) {
		return false
	}
	switch typ {
	case stunBindingOK:
		m.class = stunClassSuccess
	case stunBindingError:
		m.class = stunClassError
	default:
		return false
	}
	cookie := uint32(b[4])<<24 | uint32(b[5])<<16 | uint32(b[6])<<8 | uint32(b[7])
	copy(m.txID[:], b[8:20])
	attrs := b[stunHeaderSize : stunHeaderSize+n]
	var plain [18]byte
	havePlain := false
	for len(attrs) >= 4 {
		at := uint16(attrs[0])<<8 | uint16(attrs[1])
		al := int(attrs[2])<<8 | int(attrs[3])
		if 4+al > len(attrs) {
			return false
		}
		v := attrs[4 : 4+al]
		switch at {
		case stunAttrXORMappedAddress:
			if cookie == stunMagicCookie && m.readAddress(v, b[4:20], true, &m.mapped) {
				m.hasMapped = true
			}
		case stunAttrMappedAddress:
			havePlain = m.readAddress(v, nil, false, &plain)
		}
		adv := 4 + (al+3)&^3
		if adv > len(attrs) {
			break
		}
		attrs = attrs[adv:]
	}
	if !m.hasMapped && havePlain {
		m.mapped, m.hasMapped = plain, true
	}
	return true
}

// readAddress decodes a (XOR-)MAPPED-ADDRESS value into dst: family 1 is
// IPv4 (stored as ::ffff:a.b.c.d), family 2 IPv6. For XOR, the port is XORed
// with the cookie's top half and the address with cookie+transaction id.
func (m *stunMessage) readAddress(v, cookieTx []byte, xor bool, dst *[18]byte) bool {
	if len(v) < 4 {
		return false
	}
	family := v[1]
	port := [2]byte{v[2], v[3]}
	var addr [16]byte
	switch {
	case family == 1 && len(v) >= 8:
		addr[10], addr[11] = 0xff, 0xff
		copy(addr[12:], v[4:8])
		if xor {
			for i := 0; i < 4; i++ {
				addr[12+i] ^= cookieTx[i]
			}
		}
	case family == 2 && len(v) >= 20:
		copy(addr[:], v[4:20])
		if xor {
			for i := 0; i < 16; i++ {
				addr[i] ^= cookieTx[i]
			}
		}
	default:
		return false
	}
	if xor {
		port[0] ^= cookieTx[0]
		port[1] ^= cookieTx[1]
	}
	copy(dst[:16], addr[:])
	dst[16], dst[17] = port[0], port[1]
	return true
}
