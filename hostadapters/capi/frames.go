package main

import (
	"encoding/binary"
	"net/netip"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/host"
)

// The frames of hostadapters/sipkeepc/sipkeepc.h (skc_req, skc_resp,
// skc_splice, skc_action): fixed little-endian layouts, so a worker's request
// is one SOCK_SEQPACKET datagram read into a reused buffer and decoded
// without allocating.
const (
	skcMagic      = 0x534b4331
	reqSize       = 80
	respSize      = 24
	spliceSize    = 16
	actionSize    = 80
	maxFrameReply = 64 * 1024
)

// Request ops (skc_op).
const (
	opCall   = 1
	opReload = 2
	opStats  = 3
	opFlows  = 4
	opPolicy = 5
	// opDeferred: a response the worker already sent with the standing
	// grant applied (sentMs, granted); shown to the plugin for the record,
	// never answered.
	opDeferred = 6
)

// Reply status and flags (SKC_OK, SKC_E_*, SKC_R_*).
const (
	statusOK     = 0
	statusProto  = -1
	statusFailed = -2

	rChanged    = 0x0001
	rFailedOpen = 0x0002
	rEntered    = 0x0004

	fInRouteSet = 0x0001
)

// request is a decoded skc_req; payload is a view into the frame.
type request struct {
	seq     uint32
	op      uint8
	kind    abi.Kind
	dir     abi.Direction
	tr      abi.Transport
	role    abi.Role
	flags   uint16
	connID  int32
	local   netip.AddrPort
	remote  netip.AddrPort
	sentMs  int64  // opDeferred: when the worker sent it (Unix ms)
	granted uint32 // opDeferred: the keep value it applied
	payload []byte
}

// decodeRequest reads one frame; ok is false for a frame that is short,
// has the wrong magic, or whose length field disagrees with its size.
func decodeRequest(b []byte) (r request, ok bool) {
	le := binary.LittleEndian
	if len(b) < reqSize || le.Uint32(b) != skcMagic {
		return r, false
	}
	n := le.Uint32(b[20:])
	if int(n) != len(b)-reqSize {
		return r, false
	}
	r.seq = le.Uint32(b[4:])
	r.op = b[8]
	r.kind, r.dir, r.tr, r.role = abi.Kind(b[9]), abi.Direction(b[10]), abi.Transport(b[11]), abi.Role(b[12])
	r.flags = le.Uint16(b[14:])
	r.connID = int32(le.Uint32(b[16:]))
	r.local = decodeAddr(b[24:44])
	r.remote = decodeAddr(b[44:64])
	r.sentMs = int64(le.Uint64(b[64:]))
	r.granted = le.Uint32(b[72:])
	r.payload = b[reqSize:]
	return r, true
}

func decodeAddr(b []byte) netip.AddrPort {
	port := binary.LittleEndian.Uint16(b[2:])
	switch b[0] {
	case 4:
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[4:8])), port)
	case 6:
		return netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[4:20])).Unmap(), port)
	}
	return netip.AddrPort{}
}

func encodeAddr(b []byte, a netip.AddrPort) {
	clear(b[:20])
	binary.LittleEndian.PutUint16(b[2:], a.Port())
	if ip := a.Addr(); ip.Is4() {
		b[0] = 4
		v := ip.As4()
		copy(b[4:], v[:])
	} else if ip.IsValid() {
		b[0] = 6
		v := ip.As16()
		copy(b[4:], v[:])
	}
}

// putReplyHeader writes an skc_resp header.
func putReplyHeader(out []byte, seq uint32, status int32, flags uint16, nSplices int, textLen int) {
	le := binary.LittleEndian
	le.PutUint32(out[0:], skcMagic)
	le.PutUint32(out[4:], seq)
	le.PutUint32(out[8:], uint32(status))
	le.PutUint16(out[12:], flags)
	le.PutUint16(out[14:], uint16(nSplices))
	le.PutUint32(out[16:], uint32(textLen))
	le.PutUint32(out[20:], 0)
}

// encodeCallReply writes the reply to a CALL: the plugin's edits as byte
// splices into the message the worker sent (sorted by offset), their text
// after them. Returns the frame length; -1 when it does not fit.
func encodeCallReply(out []byte, seq uint32, res *host.Result) int {
	var flags uint16
	if res.Entered {
		flags |= rEntered
	}
	if res.FailedOpen {
		putReplyHeader(out, seq, statusOK, flags|rFailedOpen, 0, 0)
		return respSize
	}
	edits := res.Edits
	sortEdits(edits)
	off := respSize + len(edits)*spliceSize
	if off > len(out) {
		return -1
	}
	le := binary.LittleEndian
	text := 0
	for i, e := range edits {
		if int(e.TextOff)+int(e.TextLen) > len(res.Text) || e.End < e.Start {
			putReplyHeader(out, seq, statusOK, flags|rFailedOpen, 0, 0)
			return respSize
		}
		s := out[respSize+i*spliceSize:]
		le.PutUint32(s[0:], e.Start)
		le.PutUint32(s[4:], e.End-e.Start)
		le.PutUint32(s[8:], uint32(text))
		le.PutUint32(s[12:], e.TextLen)
		if off+text+int(e.TextLen) > len(out) {
			return -1
		}
		text += copy(out[off+text:], res.Text[e.TextOff:e.TextOff+e.TextLen])
	}
	if len(edits) > 0 {
		flags |= rChanged
	}
	putReplyHeader(out, seq, statusOK, flags, len(edits), text)
	return off + text
}

// sortEdits orders edits by Start (insertion sort: a handful of Via edits,
// no allocation).
func sortEdits(e []abi.Edit) {
	for i := 1; i < len(e); i++ {
		for j := i; j > 0 && e[j].Start < e[j-1].Start; j-- {
			e[j], e[j-1] = e[j-1], e[j]
		}
	}
}

// encodeTextReply writes a control reply.
func encodeTextReply(out []byte, seq uint32, status int32, text string) int {
	n := copy(out[respSize:], text)
	putReplyHeader(out, seq, status, 0, 0, n)
	return respSize + n
}

// encodeAction writes one skc_action.
func encodeAction(b []byte, f host.Flow, a abi.Action, connID int32) {
	le := binary.LittleEndian
	clear(b[:actionSize])
	b[0] = byte(a.Kind)
	b[1] = byte(f.Transport)
	le.PutUint16(b[2:], uint16(a.Reason))
	le.PutUint16(b[4:], a.Attempt)
	le.PutUint32(b[8:], a.Value)
	le.PutUint32(b[12:], uint32(connID))
	copy(b[16:28], a.TxID[:])
	encodeAddr(b[28:48], f.Local)
	encodeAddr(b[48:68], f.Remote)
}
