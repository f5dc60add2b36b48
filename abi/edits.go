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

// Edit is one change to the message. Its encoding (EditSize bytes, PutEdit)
// is ABI.md's "Edits" table; TestABIMarkdownEditLayout holds the two
// together. Via is the index of the Via value, 0 = topmost, counting values
// across header lines and comma lists in message order.
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

// Action is one thing for the host to do. Its encoding (ActionSize bytes,
// PutAction) is ABI.md's "Actions" table; TestABIMarkdownActionLayout holds
// the two together.
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
