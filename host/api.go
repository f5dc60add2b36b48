package host

// This file pins the public API that adapters build on. The bodies live in
// the other files of this package.

import (
	"net/netip"
	"time"

	"github.com/sipkeep/sipkeep/abi"
)

// Flow is one transport flow: a UDP 5-tuple or a stream connection. It is the
// key of flow records and timers, and what actions are addressed to.
type Flow struct {
	Transport abi.Transport
	Local     netip.AddrPort
	Remote    netip.AddrPort
}

// Event is one message for the plugin.
type Event struct {
	Kind abi.Kind      // KindSIPRequest, KindSIPResponse, KindSTUN, KindPing, KindPong
	Dir  abi.Direction // DirIn: received on Flow; DirOut: about to be sent on Flow
	Flow Flow
	Role abi.Role // RoleUA or RoleProxy
	// InRouteSet: a UA always; a proxy when it record-routes this dialog.
	InRouteSet bool
	// LocalReply: a response generated here rather than forwarded.
	LocalReply bool
	// Message is the raw message (SIP, STUN, or CRLF bytes). Not retained.
	Message []byte
	// Now overrides the host clock (tests); zero means the host's clock.
	Now time.Time
}

// Result is what the plugin decided for one Event.
type Result struct {
	// Message is the message to send or process: Event.Message itself when
	// nothing changed (or on fail-open), otherwise the edited bytes.
	Message []byte
	// Edits, Text: the plugin's edits (semantic + byte offsets into
	// Event.Message) and the text area they refer to, for hosts that apply
	// them to a parsed message.
	Edits []abi.Edit
	Text  []byte
	// Actions the plugin asked for; they were also handed to the action handler.
	Actions []abi.Action
	Reason  abi.Reason
	// Entered reports whether the guest was called (false on the fast path).
	Entered bool
	// FailedOpen reports that the call failed (trap, timeout, bad output, no
	// instance) and Message is unchanged. Err says why.
	FailedOpen bool
	Err        error
}

// ActionHandler carries out an action on a flow (send a STUN request or a
// ping, close a failed flow, notify the application). It is called from the
// host's timer goroutine or from Handle's caller; it must not block for long.
type ActionHandler func(flow Flow, a abi.Action)

// FailurePolicy decides what happens to calls once a plugin keeps failing.
type FailurePolicy int

const (
	// FailOpen: a failed call passes the message unchanged; when the crash
	// budget is spent, stop calling the plugin until a new module is loaded.
	FailOpen FailurePolicy = iota
	// FailClosed: a failed call passes unchanged, but once the crash budget
	// is spent Handle reports ErrPluginDisabled so the adapter may reject.
	FailClosed
	// FailReload: like FailOpen, but when the budget is spent the module is
	// reloaded from its source (file) with backoff.
	FailReload
)
