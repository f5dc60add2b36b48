package keeptest

import (
	"encoding/binary"
	"net/netip"
)

// STUNSuccess builds a Binding success response for txID carrying
// XOR-MAPPED-ADDRESS addr (RFC 5389 §15.2), as a peer would send it.
func STUNSuccess(txID [12]byte, addr netip.AddrPort) []byte {
	a := addr.Addr()
	fam, ip := byte(1), a.AsSlice()
	if a.Is6() && !a.Is4In6() {
		fam = 2
	} else {
		v4 := a.Unmap().As4()
		ip = v4[:]
	}
	val := make([]byte, 4+len(ip))
	val[1] = fam
	binary.BigEndian.PutUint16(val[2:], addr.Port()^0x2112)
	ct := make([]byte, 16)
	binary.BigEndian.PutUint32(ct, 0x2112A442)
	copy(ct[4:], txID[:])
	for i := range ip {
		val[4+i] = ip[i] ^ ct[i]
	}
	msg := make([]byte, 20, 20+4+len(val))
	binary.BigEndian.PutUint16(msg[0:], 0x0101)
	binary.BigEndian.PutUint16(msg[2:], uint16(4+len(val)))
	copy(msg[4:], ct[:4])
	copy(msg[8:], txID[:])
	msg = binary.BigEndian.AppendUint16(msg, 0x0020)
	msg = binary.BigEndian.AppendUint16(msg, uint16(len(val)))
	return append(msg, val...)
}
