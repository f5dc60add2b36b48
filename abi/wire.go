package abi

import (
	"encoding/binary"
	"net/netip"
)

var le = binary.LittleEndian

// Input is the decoded input header. Record and Message alias the buffer.
type Input struct {
	Kind      Kind
	Dir       Direction
	Transport Transport
	Role      Role
	Flags     uint16
	Now       int64 // Unix ms
	Random    uint64
	FlowID    uint64
	Remote    netip.AddrPort
	Local     netip.AddrPort
	Record    []byte
	Message   []byte
}

// InRouteSet reports FlagInRouteSet.
func (in *Input) InRouteSet() bool { return in.Flags&FlagInRouteSet != 0 }

// LocalReply reports FlagLocalReply.
func (in *Input) LocalReply() bool { return in.Flags&FlagLocalReply != 0 }

// EncodeInput writes in (header, record, message) into buf and returns the
// length written, or -1 if buf is too small or a length exceeds its limit.
// It does not allocate.
func EncodeInput(buf []byte, in *Input) int {
	n := InputHeaderSize + len(in.Record) + len(in.Message)
	if n > len(buf) || len(in.Record) > MaxRecord || len(in.Message) > MaxMessage {
		return -1
	}
	PutInputHeader(buf, in, len(in.Record), len(in.Message))
	copy(buf[InputHeaderSize:], in.Record)
	copy(buf[InputHeaderSize+len(in.Record):], in.Message)
	return n
}

// PutInputHeader writes only the 80-byte header, for hosts that copy the
// record and message into guest memory themselves.
func PutInputHeader(b []byte, in *Input, recordLen, msgLen int) {
	_ = b[InputHeaderSize-1]
	b[inKind] = byte(in.Kind)
	b[inDir] = byte(in.Dir)
	b[inTransport] = byte(in.Transport)
	b[inRole] = byte(in.Role)
	le.PutUint16(b[inFlags:], in.Flags)
	le.PutUint16(b[inRecordLen:], uint16(recordLen))
	le.PutUint32(b[inMsgLen:], uint32(msgLen))
	le.PutUint32(b[12:], 0)
	le.PutUint64(b[inNow:], uint64(in.Now))
	le.PutUint64(b[inRandom:], in.Random)
	le.PutUint64(b[inFlowID:], in.FlowID)
	putAddr(b[inRemote:inRemote+addrSize], in.Remote)
	putAddr(b[inLocal:inLocal+addrSize], in.Local)
}

// DecodeInput parses the first n bytes of buf into in. Record and Message
// alias buf. It does not allocate.
func DecodeInput(buf []byte, in *Input) Errno {
	errno := decodeInput(buf, in)
	if len(buf) >= InputHeaderSize {
		in.Remote = getAddr(buf[inRemote : inRemote+addrSize])
		in.Local = getAddr(buf[inLocal : inLocal+addrSize])
	}
	return errno
}

// DecodeInputNoAddrs is DecodeInput for a guest that never reads the two
// addresses: the same checks and the same errno, but Remote and Local are
// left as they were (the zero AddrPort in a guest that never sets them).
// In wasm, building two netip.AddrPort values (and copying them, a
// memory.copy that wazero runs as a call to memmove) is a good part of the
// fixed cost of a call.
func DecodeInputNoAddrs(buf []byte, in *Input) Errno {
	return decodeInput(buf, in)
}

// decodeInput is DecodeInput but for Remote and Local.
func decodeInput(buf []byte, in *Input) Errno {
	if len(buf) < InputHeaderSize {
		return ErrnoShortInput
	}
	in.Kind = Kind(buf[inKind])
	in.Dir = Direction(buf[inDir])
	in.Transport = Transport(buf[inTransport])
	in.Role = Role(buf[inRole])
	in.Flags = le.Uint16(buf[inFlags:])
	rl := int(le.Uint16(buf[inRecordLen:]))
	ml := int(le.Uint32(buf[inMsgLen:]))
	in.Now = int64(le.Uint64(buf[inNow:]))
	in.Random = le.Uint64(buf[inRandom:])
	in.FlowID = le.Uint64(buf[inFlowID:])
	if rl > MaxRecord || ml > MaxMessage || InputHeaderSize+rl+ml > len(buf) {
		return ErrnoShortInput
	}
	in.Record = buf[InputHeaderSize : InputHeaderSize+rl]
	in.Message = buf[InputHeaderSize+rl : InputHeaderSize+rl+ml]
	if in.Dir != DirIn && in.Dir != DirOut && in.Kind != KindNone {
		return ErrnoBadHeader
	}
	if in.Transport < TransportUDP || in.Transport > TransportWSS {
		return ErrnoBadHeader
	}
	return ErrnoNone
}

func putAddr(b []byte, ap netip.AddrPort) {
	a16 := ap.Addr().As16() // IPv4 becomes ::ffff:a.b.c.d; the zero Addr becomes ::
	copy(b[:16], a16[:])
	le.PutUint16(b[16:], ap.Port())
	b[18], b[19] = 0, 0
}

func getAddr(b []byte) netip.AddrPort {
	var a16 [16]byte
	copy(a16[:], b[:16])
	a := netip.AddrFrom16(a16).Unmap()
	return netip.AddrPortFrom(a, le.Uint16(b[16:]))
}

// OutputHeader is the decoded output header.
type OutputHeader struct {
	Reason    Reason
	Flags     uint16
	Edits     int
	Actions   int
	RecordLen int
	TextLen   int
	Deadline  int64 // Unix ms, 0 = none
}

// PutOutputHeader writes h at the start of b.
func PutOutputHeader(b []byte, h *OutputHeader) {
	_ = b[OutputHeaderSize-1]
	le.PutUint16(b[outReason:], uint16(h.Reason))
	le.PutUint16(b[outFlags:], h.Flags)
	le.PutUint16(b[outEdits:], uint16(h.Edits))
	le.PutUint16(b[outActions:], uint16(h.Actions))
	le.PutUint16(b[outRecordLen:], uint16(h.RecordLen))
	le.PutUint16(b[outTextLen:], uint16(h.TextLen))
	le.PutUint32(b[12:], 0)
	le.PutUint64(b[outDeadline:], uint64(h.Deadline))
	le.PutUint64(b[24:], 0)
}

// Output is a decoded output. Text and Record alias the buffer; Edits and
// Actions are appended to the caller's slices so a host can reuse them.
type Output struct {
	OutputHeader
	EditList   []Edit
	ActionList []Action
	Text       []byte
	Record     []byte
}

// OutputSize returns the total encoded size implied by h.
func OutputSize(h *OutputHeader) int {
	return OutputHeaderSize + h.Edits*EditSize + h.Actions*ActionSize + h.TextLen + h.RecordLen
}

// DecodeOutput parses buf (exactly the bytes the guest reported) into out,
// validating every count, offset and length against the buffer and against
// msgLen (the length of the message the edits refer to). A guest that returns
// anything inconsistent is treated as broken by the host.
func DecodeOutput(buf []byte, msgLen int, out *Output) error {
	if len(buf) < OutputHeaderSize {
		return errOutput("shorter than its header")
	}
	h := &out.OutputHeader
	h.Reason = Reason(le.Uint16(buf[outReason:]))
	h.Flags = le.Uint16(buf[outFlags:])
	h.Edits = int(le.Uint16(buf[outEdits:]))
	h.Actions = int(le.Uint16(buf[outActions:]))
	h.RecordLen = int(le.Uint16(buf[outRecordLen:]))
	h.TextLen = int(le.Uint16(buf[outTextLen:]))
	h.Deadline = int64(le.Uint64(buf[outDeadline:]))
	if h.Edits > MaxEdits || h.Actions > MaxActions || h.RecordLen > MaxRecord {
		return errOutput("counts exceed the ABI limits")
	}
	if OutputSize(h) != len(buf) {
		return errOutput("declared sizes do not add up to its length")
	}
	off := OutputHeaderSize
	textStart := off + h.Edits*EditSize + h.Actions*ActionSize
	out.Text = buf[textStart : textStart+h.TextLen]
	out.Record = buf[textStart+h.TextLen : textStart+h.TextLen+h.RecordLen]
	out.EditList = out.EditList[:0]
	prevEnd := uint32(0)
	for i := 0; i < h.Edits; i++ {
		e := GetEdit(buf[off:])
		off += EditSize
		if e.Start > e.End || int(e.End) > msgLen || e.Start < prevEnd {
			return errOutput("edit span out of order or outside the message")
		}
		if uint64(e.TextOff)+uint64(e.TextLen) > uint64(h.TextLen) {
			return errOutput("edit text outside the text area")
		}
		prevEnd = e.End
		out.EditList = append(out.EditList, e)
	}
	out.ActionList = out.ActionList[:0]
	for i := 0; i < h.Actions; i++ {
		out.ActionList = append(out.ActionList, GetAction(buf[off:]))
		off += ActionSize
	}
	return nil
}

type errOutput string

func (e errOutput) Error() string { return "sipkeep guest output: " + string(e) }

// PutEdit encodes e at the start of b.
func PutEdit(b []byte, e *Edit) {
	_ = b[EditSize-1]
	b[0] = byte(e.Op)
	b[1] = e.Via
	b[2], b[3] = 0, 0
	le.PutUint32(b[4:], e.Value)
	le.PutUint32(b[8:], e.Start)
	le.PutUint32(b[12:], e.End)
	le.PutUint32(b[16:], e.TextOff)
	le.PutUint32(b[20:], e.TextLen)
}

// GetEdit decodes an Edit from the start of b.
func GetEdit(b []byte) Edit {
	_ = b[EditSize-1]
	return Edit{
		Op:      EditOp(b[0]),
		Via:     b[1],
		Value:   le.Uint32(b[4:]),
		Start:   le.Uint32(b[8:]),
		End:     le.Uint32(b[12:]),
		TextOff: le.Uint32(b[16:]),
		TextLen: le.Uint32(b[20:]),
	}
}

// PutAction encodes a at the start of b.
func PutAction(b []byte, a *Action) {
	_ = b[ActionSize-1]
	b[0] = byte(a.Kind)
	b[1] = 0
	le.PutUint16(b[2:], uint16(a.Reason))
	le.PutUint16(b[4:], a.Attempt)
	le.PutUint16(b[6:], 0)
	le.PutUint32(b[8:], a.Value)
	le.PutUint32(b[12:], 0)
	le.PutUint64(b[16:], a.FlowID)
	// TxID as words: in a wasm guest, copy calls memmove, a call out of
	// the guest in wazero.
	le.PutUint64(b[24:], le.Uint64(a.TxID[:]))
	le.PutUint32(b[32:], le.Uint32(a.TxID[8:]))
	le.PutUint32(b[36:], 0)
}

// GetAction decodes an Action from the start of b.
func GetAction(b []byte) Action {
	_ = b[ActionSize-1]
	a := Action{
		Kind:    ActionKind(b[0]),
		Reason:  Reason(le.Uint16(b[2:])),
		Attempt: le.Uint16(b[4:]),
		Value:   le.Uint32(b[8:]),
		FlowID:  le.Uint64(b[16:]),
	}
	copy(a.TxID[:], b[24:36])
	return a
}

// ApplyEdits appends to dst the message msg with edits applied (they must be
// sorted and non-overlapping, as DecodeOutput guarantees) and returns it.
// text is the output's text area.
func ApplyEdits(dst, msg []byte, edits []Edit, text []byte) []byte {
	prev := uint32(0)
	for i := range edits {
		e := &edits[i]
		dst = append(dst, msg[prev:e.Start]...)
		dst = append(dst, text[e.TextOff:e.TextOff+e.TextLen]...)
		prev = e.End
	}
	return append(dst, msg[prev:]...)
}
