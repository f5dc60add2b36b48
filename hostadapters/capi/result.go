package main

import (
	"encoding/binary"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/host"
)

// The result layout of sipkeep.h (sipkeep_result, sipkeep_edit, sipkeep_action).
const (
	resultHeaderSize = 40
	resultEditSize   = 8
	resultActionSize = 24
	maxErrText       = 256
)

// Result flags (SIPKEEP_R_*).
const (
	resRecordChanged  = 1 << 0
	resRecordDeleted  = 1 << 1
	resMessageChanged = 1 << 2
	resFailedOpen     = 1 << 3
	resEntered        = 1 << 4
)

// Call flags for this library (the low byte goes to the plugin).
const (
	flagDropTopVia = 0x0100
	flagNoMessage  = 0x0200
)

// encodeResult writes r in the sipkeep.h layout into out and returns the
// length, or -1 when out is too small. viaShift is added to every edit's Via
// index; msgChanged says whether r.Message differs from the input.
func encodeResult(out []byte, r *host.CallResult, gen uint64, viaShift int, msgChanged, withMsg bool) int {
	var flags uint16
	if r.RecordChanged {
		flags |= resRecordChanged
	}
	if r.RecordDeleted {
		flags |= resRecordDeleted
	}
	if r.FailedOpen {
		flags |= resFailedOpen
	}
	if r.Entered {
		flags |= resEntered
	}
	var msg []byte
	if msgChanged {
		flags |= resMessageChanged
		if withMsg {
			msg = r.Message
		}
	}
	var rec []byte
	if r.RecordChanged {
		rec = r.Record
	}
	var errText string
	if r.FailedOpen && r.Err != nil {
		errText = r.Err.Error()
		if len(errText) > maxErrText {
			errText = errText[:maxErrText]
		}
	}
	edits, actions := r.Edits, r.Actions
	if len(edits) > abi.MaxEdits {
		edits = edits[:abi.MaxEdits]
	}
	if len(actions) > abi.MaxActions {
		actions = actions[:abi.MaxActions]
	}
	n := resultHeaderSize + len(edits)*resultEditSize + len(actions)*resultActionSize +
		len(msg) + len(rec) + len(errText)
	if n > len(out) {
		return -1
	}
	le := binary.LittleEndian
	b := out[:resultHeaderSize]
	le.PutUint16(b[0:], flags)
	le.PutUint16(b[2:], uint16(r.Reason))
	le.PutUint16(b[4:], uint16(len(edits)))
	le.PutUint16(b[6:], uint16(len(actions)))
	le.PutUint32(b[8:], uint32(len(msg)))
	le.PutUint32(b[12:], uint32(len(rec)))
	var deadline int64
	if r.RecordChanged && !r.Deadline.IsZero() {
		deadline = r.Deadline.UnixMilli()
	}
	le.PutUint64(b[16:], uint64(deadline))
	le.PutUint64(b[24:], gen)
	le.PutUint32(b[32:], uint32(len(errText)))
	le.PutUint32(b[36:], 0)
	off := resultHeaderSize
	for _, e := range edits {
		b := out[off : off+resultEditSize]
		b[0] = byte(e.Op)
		b[1] = byte(int(e.Via) + viaShift)
		le.PutUint16(b[2:], 0)
		le.PutUint32(b[4:], e.Value)
		off += resultEditSize
	}
	for _, a := range actions {
		b := out[off : off+resultActionSize]
		b[0], b[1] = byte(a.Kind), 0
		le.PutUint16(b[2:], uint16(a.Reason))
		le.PutUint16(b[4:], a.Attempt)
		le.PutUint16(b[6:], 0)
		le.PutUint32(b[8:], a.Value)
		copy(b[12:24], a.TxID[:])
		off += resultActionSize
	}
	off += copy(out[off:], msg)
	off += copy(out[off:], rec)
	off += copy(out[off:], errText)
	return off
}
