package keep

import "encoding/binary"

// The flow record is everything the plugin knows about one flow. The host
// stores it and passes it back with the next call on the flow, so the plugin
// itself keeps nothing between calls (any instance, of any generation, can
// serve any call). It is a fixed-size struct decoded from and encoded to a
// small versioned byte string (at most abi.MaxRecord bytes).
type record struct {
	send sendState
	recv recvState
	n    int // bindings in use
	// raw holds the n bindings exactly as the record stores them (bview).
	// They are never decoded into structs: a flow can carry 48 of them
	// (a PBX registering its lines over one connection), and in wasm every
	// pass over them costs ~1 µs, so a call reads only the fields it needs
	// and the record is copied in and out whole (BenchmarkRegistrarManyAORs).
	raw [maxBindings * bindingSize]byte
	// rawChanged: a binding was added, changed or removed since decode (so
	// the record changed); false, the bindings are the ones passed in.
	rawChanged bool
}

// sendState is the sender side (RFC 6223 §4.3, RFC 5626 §4.4): we send
// keep-alives on this flow.
type sendState struct {
	flags    uint8
	nextSend int64 // Unix ms of the next keep-alive (when active and idle)
	sentAt   int64 // when the outstanding keep-alive was first sent
	// STUN transaction in progress (sfSTUNOutstanding).
	txID      [12]byte
	txAttempt uint8
	txRTO     uint32 // ms until the next retransmission
	txNext    int64  // Unix ms of the next retransmission, or of the timeout
	// CRLF ping in progress (sfPingOutstanding).
	pongDeadline int64
	// Last XOR-MAPPED-ADDRESS seen (sfHaveMapped): 16-byte address + port.
	mapped [18]byte
}

const (
	sfFailed          uint8 = 1 << iota // keep-alives failed; stopped until a registration re-negotiates (R18)
	sfSTUNOutstanding                   // a Binding request is awaiting its response
	sfPingOutstanding                   // a CRLFCRLF ping is awaiting its pong
	sfHaveMapped                        // mapped holds the last XOR-MAPPED-ADDRESS
	sfActive                            // keep-alives are running (announced with keepalive-started)
)

// recvState is the receiver side (§4.4): we granted keep=N on this flow and
// watch for the peer's keep-alives.
type recvState struct {
	flags    uint8
	lastSeen int64 // Unix ms of the last thing received on the flow
}

const (
	rfDeadReported uint8 = 1 << iota // flow-dead already reported since lastSeen
	rfActive                         // receive-started announced
)

// bview is one binding, in place in record.raw: it ties the flow's
// keep-alives to one registration or dialog. Its fields, at their offsets:
//
//	key     uint64 (0)  FNV-1a of the AOR (registrations: registrationKey) or of the Call-ID (dialogs)
//	kind    uint8  (8)  bkRegistration, bkDialog or bkSubscription
//	side    uint8  (9)  sideSender or sideReceiver
//	keep    uint32 (10) negotiated (sender) or granted (receiver) keep value, seconds; 0 = RFC 5626 defaults
//	cseq    uint32 (14) CSeq number of the request that negotiated it (R6, R11)
//	expires int64  (18) Unix ms: registration expiry, or the dialog safety net
type bview []byte

func (b bview) key() uint64    { return le.Uint64(b) }
func (b bview) kind() uint8    { return b[8] }
func (b bview) side() uint8    { return b[9] }
func (b bview) keep() uint32   { return le.Uint32(b[10:]) }
func (b bview) cseq() uint32   { return le.Uint32(b[14:]) }
func (b bview) expires() int64 { return int64(le.Uint64(b[18:])) }

// at is binding i (i < r.n), sliced to its exact length: one bounds check
// covers every field read through it.
func (r *record) at(i int) bview { return r.raw[i*bindingSize:][:bindingSize] }

const (
	bkRegistration uint8 = 1
	bkDialog       uint8 = 2 // the INVITE usage of a dialog
	bkSubscription uint8 = 3 // a subscription usage (SUBSCRIBE, REFER); record version 2

	sideSender   uint8 = 1
	sideReceiver uint8 = 2
)

const (
	maxBindings = 48
	bindingSize = 26

	// Version 2 layout (little-endian), the same as version 1's; version 2
	// adds binding kind 3 and keys registrations by AOR, where version 1
	// keyed them by Call-ID:
	//   0  1 version (1 or 2)
	//   1  1 send.flags
	//   2  1 recv.flags
	//   3  1 binding count
	//   4  8 send.nextSend
	//  12  8 send.sentAt
	//  20 12 send.txID
	//  32  1 send.txAttempt
	//  33  3 reserved
	//  36  4 send.txRTO
	//  40  8 send.txNext
	//  48  8 send.pongDeadline
	//  56 18 send.mapped
	//  74  2 reserved
	//  76  8 recv.lastSeen
	//  84  26×n bindings: key 8, kind 1, side 1, keep 4, cseq 4, expires 8
	recordHeaderV1 = 84
)

var le = binary.LittleEndian

// copyByHand: fewer bindings than this are copied word by word. copy is a
// memory.copy in wasm, which wazero runs as a call out of the guest, and
// for one binding that call costs more than the words (make icount,
// RegistrarOK: ~170 instructions a copy).
const copyByHand = 8

// empty reports whether the record holds nothing worth storing.
func (r *record) empty() bool {
	return r.n == 0 && r.send.flags&(sfSTUNOutstanding|sfPingOutstanding) == 0
}

// decode reads a stored record. It reports false for a record it cannot
// read (unknown version, bad length); the caller then starts afresh.
func (r *record) decode(b []byte) bool {
	// Bindings past n are never read: clearing them (1.3 KB) on every
	// call would cost more than the rest of a timer call in wasm.
	r.clear()
	if len(b) == 0 {
		return true
	}
	v := b[0]
	if (v != 1 && v != RecordVersion) || len(b) < recordHeaderV1 {
		return false
	}
	n := int(b[3])
	if n > maxBindings || len(b) != recordHeaderV1+n*bindingSize {
		return false
	}
	s := &r.send
	s.flags = b[1]
	r.recv.flags = b[2]
	s.nextSend = int64(le.Uint64(b[4:]))
	s.sentAt = int64(le.Uint64(b[12:]))
	// The arrays are read and written as words: copying or zeroing them
	// is a memory.copy or memory.fill, which wazero runs as a call out of
	// the guest.
	le.PutUint64(s.txID[:], le.Uint64(b[20:]))
	le.PutUint32(s.txID[8:], le.Uint32(b[28:]))
	s.txAttempt = b[32]
	s.txRTO = le.Uint32(b[36:])
	s.txNext = int64(le.Uint64(b[40:]))
	s.pongDeadline = int64(le.Uint64(b[48:]))
	le.PutUint64(s.mapped[:], le.Uint64(b[56:]))
	le.PutUint64(s.mapped[8:], le.Uint64(b[64:]))
	le.PutUint16(s.mapped[16:], le.Uint16(b[72:]))
	r.recv.lastSeen = int64(le.Uint64(b[76:]))
	if n >= copyByHand {
		copy(r.raw[:n*bindingSize], b[recordHeaderV1:])
	}
	for i := 0; i < n; i++ {
		p := r.at(i)
		if n < copyByHand {
			q := b[recordHeaderV1+i*bindingSize:][:bindingSize]
			le.PutUint64(p, le.Uint64(q))
			le.PutUint64(p[8:], le.Uint64(q[8:]))
			le.PutUint64(p[16:], le.Uint64(q[16:]))
			le.PutUint16(p[24:], le.Uint16(q[24:]))
		}
		kind, side := p[8], p[9]
		if (kind != bkRegistration && kind != bkDialog && (kind != bkSubscription || v == 1)) ||
			(side != sideSender && side != sideReceiver) {
			return false
		}
		if v == 1 && kind == bkRegistration {
			le.PutUint64(p, keyUnknownAOR) // version 1 keyed it by Call-ID
			r.rawChanged = true
		}
	}
	r.n = n
	return true
}

// clear empties the record (the bindings past n are never read).
func (r *record) clear() {
	r.send.reset()
	r.recv, r.n, r.rawChanged = recvState{}, 0, false
}

// reset sets s to sendState{} field by field: assigning the zero struct
// (88 bytes) is a memory.fill in wasm, which wazero runs as calls to
// memmove, on every call.
func (s *sendState) reset() {
	s.flags, s.nextSend, s.sentAt = 0, 0, 0
	s.txAttempt, s.txRTO, s.txNext, s.pongDeadline = 0, 0, 0, 0
	// The arrays as words: even a small array's zero value is a
	// memory.copy.
	le.PutUint64(s.txID[:], 0)
	le.PutUint32(s.txID[8:], 0)
	le.PutUint64(s.mapped[:], 0)
	le.PutUint64(s.mapped[8:], 0)
	le.PutUint16(s.mapped[16:], 0)
}

// size is the encoded length.
func (r *record) size() int { return recordHeaderV1 + r.n*bindingSize }

// encode writes the record into b (len(b) >= r.size()) and returns its length.
func (r *record) encode(b []byte) int {
	n := r.size()
	b = b[:n]
	// Field by field, small ones packed into words with the reserved
	// bytes after them (33..35, 74..75) as zeros: clearing the header
	// first would be a memory.fill in wasm, which wazero runs as a call to
	// memmove, and each store there carries a bounds check.
	_ = b[recordHeaderV1-1] // one bounds check for the header's fields
	s := &r.send
	le.PutUint32(b, uint32(RecordVersion)|uint32(s.flags)<<8|uint32(r.recv.flags)<<16|uint32(byte(r.n))<<24)
	le.PutUint64(b[4:], uint64(s.nextSend))
	le.PutUint64(b[12:], uint64(s.sentAt))
	// The arrays as words (see decode).
	le.PutUint64(b[20:], le.Uint64(s.txID[:]))
	le.PutUint32(b[28:], le.Uint32(s.txID[8:]))
	le.PutUint32(b[32:], uint32(s.txAttempt))
	le.PutUint32(b[36:], s.txRTO)
	le.PutUint64(b[40:], uint64(s.txNext))
	le.PutUint64(b[48:], uint64(s.pongDeadline))
	le.PutUint64(b[56:], le.Uint64(s.mapped[:]))
	le.PutUint64(b[64:], le.Uint64(s.mapped[8:]))
	le.PutUint32(b[72:], uint32(le.Uint16(s.mapped[16:])))
	le.PutUint64(b[76:], uint64(r.recv.lastSeen))
	if r.n >= copyByHand {
		copy(b[recordHeaderV1:], r.raw[:r.n*bindingSize])
	} else {
		for i := 0; i < r.n; i++ {
			p, q := b[recordHeaderV1+i*bindingSize:][:bindingSize], r.at(i)
			le.PutUint64(p, le.Uint64(q))
			le.PutUint64(p[8:], le.Uint64(q[8:]))
			le.PutUint64(p[16:], le.Uint64(q[16:]))
			le.PutUint16(p[24:], le.Uint16(q[24:]))
		}
	}
	return n
}

// find returns the index of the binding (key, kind, side), or -1. A
// registration binding read from a version 1 record (keyUnknownAOR) is
// found by the first registration of its side that has no binding of its
// own: the first refresh or de-registration after an upgrade adopts it.
func (r *record) find(key uint64, kind, side uint8) int {
	legacy := -1
	for i := 0; i < r.n; i++ {
		if b := r.at(i); b.kind() == kind && b.side() == side {
			if k := b.key(); k == key {
				return i
			} else if kind == bkRegistration && k == keyUnknownAOR && legacy < 0 {
				legacy = i
			}
		}
	}
	return legacy
}

// keyUnknownAOR marks a registration binding whose AOR is not known (only
// version 1 records have them; a real AOR's FNV-1a is never 0 in practice,
// and adopting the wrong one only moves an expiry).
const keyUnknownAOR = 0

// put adds or replaces the binding (key, kind, side) with keep, cseq and
// expires. When the record is full, the binding that expires first makes
// room (a flow with 48 live registrations and dialogs is already far
// beyond a real UA or trunk).
func (r *record) put(key uint64, kind, side uint8, keep, cseq uint32, expires int64) {
	// find, and the first binding to expire in the same pass (a full
	// record is 48 bindings).
	i, legacy, first, n0 := -1, -1, 0, r.n
	firstExp := int64(0)
	for k := 0; k < r.n; k++ {
		b := r.at(k)
		if b.kind() == kind && b.side() == side {
			if bk := b.key(); bk == key {
				i = k
				break
			} else if kind == bkRegistration && bk == keyUnknownAOR && legacy < 0 {
				legacy = k
			}
		}
		if e := b.expires(); k == 0 || e < firstExp {
			first, firstExp = k, e
		}
	}
	if i < 0 {
		i = legacy
	}
	switch {
	case i >= 0:
	case r.n < maxBindings:
		i = r.n
		r.n++
	default:
		i = first
	}
	b := r.at(i)
	if i < n0 && b.key() == key && b.kind() == kind && b.side() == side && b.keep() == keep &&
		b.cseq() == cseq && b.expires() == expires {
		return // the same binding again (a retransmission): the record has not changed
	}
	le.PutUint64(b, key)
	b[8], b[9] = kind, side
	le.PutUint32(b[10:], keep)
	le.PutUint32(b[14:], cseq)
	le.PutUint64(b[18:], uint64(expires))
	r.rawChanged = true
}

// setExpires moves binding i's expiry.
func (r *record) setExpires(i int, t int64) {
	if b := r.at(i); b.expires() != t {
		le.PutUint64(b[18:], uint64(t))
		r.rawChanged = true
	}
}

// remove deletes binding i, keeping the others in order.
func (r *record) remove(i int) {
	copy(r.raw[i*bindingSize:r.n*bindingSize], r.raw[(i+1)*bindingSize:r.n*bindingSize])
	r.n--
	r.rawChanged = true
}
