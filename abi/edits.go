package abi

// EditOp is what an edit does, stated semantically so that hosts holding a
// parsed message (sipgo, Kamailio's textopsx) can apply it without the byte
// offsets, and hosts holding raw bytes can apply Start/End/text directly.
type EditOp uint8

const (
	// EditSetKeep sets keep=Value on Via #Via (adds the parameter or replaces
	// its value). Bytes: replace [Start,End) with the text (";keep=N", or "=N"
	// after an existing bare keep).
	EditSetKeep EditOp = 1
	// EditAddKeep adds a bare ;keep to Via #Via (sender offer, R4). Bytes:
	// insert the text (";keep") at Start (Start == End).
	EditAddKeep EditOp = 2
	// EditStripKeepValue removes the value of keep on Via #Via, leaving a bare
	// keep (R16, R17). Bytes: delete [Start,End) (the "=N" part; empty text).
	EditStripKeepValue EditOp = 3
)

func (o EditOp) String() string {
	switch o {
	case EditSetKeep:
		return "set-keep"
	case EditAddKeep:
		return "add-keep"
	case EditStripKeepValue:
		return "strip-keep-value"
	}
	return "unknown-edit"
}

// Edit is one change to the message.
//
//	off size field
//	  0   1  Op
//	  1   1  Via: index of the Via value, 0 = topmost, counting values across
//	         header lines and comma lists in message order
//	  2   2  reserved
//	  4   4  Value (EditSetKeep: the keep value in seconds)
//	  8   4  Start: byte offset in the message
//	 12   4  End: byte offset, >= Start
//	 16   4  text offset into the output's text area
//	 20   4  text length
type Edit struct {
	Op      EditOp
	Via     uint8
	Value   uint32
	Start   uint32
	End     uint32
	TextOff uint32
	TextLen uint32
}

// EditSize is the encoded size of an Edit.
const EditSize = 24

// ActionKind is what the host must do (or may record) for a flow.
type ActionKind uint8

const (
	// ActSendSTUN: send a STUN Binding request with TxID on the flow, from the
	// flow's own local socket (same 5-tuple as the SIP traffic). Attempt counts
	// retransmissions (1 = first request). Value: the RTO in ms until the next one.
	ActSendSTUN ActionKind = 1
	// ActSendPing: send CRLFCRLF on the stream. Value: pong deadline in ms.
	ActSendPing ActionKind = 2
	// ActFlowFailed: our keep-alives on this flow failed (Reason says how). The
	// plugin has stopped them; the host should act (close the stream, tell the
	// application, which may re-register).
	ActFlowFailed ActionKind = 3
	// ActFlowDead: as a receiver, no keep-alive or message arrived on the flow for
	// the configured multiple of the negotiated interval.
	ActFlowDead ActionKind = 4
	// ActKeepaliveStarted: the flow now sends keep-alives; Value = interval in s.
	ActKeepaliveStarted ActionKind = 5
	// ActKeepaliveStopped: the flow no longer sends keep-alives (Reason says why).
	ActKeepaliveStopped ActionKind = 6
	// ActKeepaliveAnswered: a pong or a matching STUN success response arrived.
	ActKeepaliveAnswered ActionKind = 7
	// ActReceiveStarted: as a receiver, keep-alives are now expected on the flow;
	// Value = the granted interval in s.
	ActReceiveStarted ActionKind = 8
)

func (k ActionKind) String() string {
	switch k {
	case 0:
		return "none" // the zero Action: no action (e.g. a stream's close event)
	case ActSendSTUN:
		return "send-stun"
	case ActSendPing:
		return "send-ping"
	case ActFlowFailed:
		return "flow-failed"
	case ActFlowDead:
		return "flow-dead"
	case ActKeepaliveStarted:
		return "keepalive-started"
	case ActKeepaliveStopped:
		return "keepalive-stopped"
	case ActKeepaliveAnswered:
		return "keepalive-answered"
	case ActReceiveStarted:
		return "receive-started"
	}
	return "unknown-action"
}

// Action is one thing for the host to do.
//
//	off size field
//	  0   1  Kind
//	  1   1  reserved
//	  2   2  Reason (for failed/stopped/dead)
//	  4   2  Attempt (ActSendSTUN: 1..7)
//	  6   2  reserved
//	  8   4  Value (see the kind)
//	 12   4  reserved
//	 16   8  flow id (from the input)
//	 24  12  STUN transaction id (ActSendSTUN, ActKeepaliveAnswered on UDP)
//	 36   4  reserved
type Action struct {
	Kind    ActionKind
	Reason  Reason
	Attempt uint16
	Value   uint32
	FlowID  uint64
	TxID    [12]byte
}

// ActionSize is the encoded size of an Action.
const ActionSize = 40
