package host

// This file pins the public API that adapters build on (hostadapters/...,
// examples/...). The bodies live in the other files of this package.
//
//	h, err := host.New(ctx, host.WithModuleFile("sipkeep.wasm"), host.WithActionHandler(fn))
//	res := h.Handle(ctx, host.Event{...})   // store-backed: records, timers, actions
//	res := h.Call(ctx, &ev, rec)            // store-less: the caller keeps the record (Kamailio htable)
//	err = h.SwapFile(ctx, path)             // hot swap; a bad module is refused, the old keeps serving
//	h.Close(ctx)

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
	// Sent: the message has already gone out as it is (a server's worker
	// applied the plugin's standing grant itself, StandingGrant). The
	// plugin still updates the flow's record and timer from it. Its edits
	// come back in Result.Edits and Text, to compare with what went out;
	// the host neither applies them nor checks what they would write, and
	// Result.Message is Message.
	Sent bool
	// Message is the raw message (SIP, STUN, or CRLF bytes). Not retained.
	Message []byte
	// Now overrides the host clock (tests); zero means the host's clock.
	Now time.Time
	// FlowID is the caller's own handle for the flow, passed to the plugin
	// and echoed in Action.FlowID (optional; Handle's actions also carry the Flow).
	FlowID uint64
}

// Result is what the plugin decided for one Event.
type Result struct {
	// Message is the message to send or process: Event.Message itself when
	// nothing changed (or on fail-open), otherwise the edited bytes (a new
	// slice; the Event's message is never written to).
	Message []byte
	// Edits, Text: the plugin's edits (semantic + byte offsets into
	// Event.Message) and the text area they refer to, for hosts that apply
	// them to a parsed message. The Result owns them (copies, not
	// views of the instance's memory): they stay valid after the next call.
	Edits []abi.Edit
	Text  []byte
	// Actions the plugin asked for; Handle has also handed them to the
	// ActionHandler (Call does not).
	Actions []abi.Action
	Reason  abi.Reason
	// Entered reports whether the guest was called (false on the fast path).
	Entered bool
	// FailedOpen reports that the call failed (trap, timeout, bad output, no
	// instance, disabled plugin) and Message is unchanged. Err says why.
	FailedOpen bool
	Err        error
	// Deadline is when on_timer must run for the flow, set when the call
	// changed the flow's record (zero: no timer, or the old one stands).
	// Handle has already scheduled it; Call's callers schedule it themselves.
	Deadline time.Time
}

// CallResult is Result plus the flow state, for Call's callers that keep
// records themselves.
type CallResult struct {
	Result
	// Record is the updated flow record when RecordChanged (a copy).
	Record        []byte
	RecordChanged bool
	// RecordDeleted: the flow has nothing left; drop its record and timer.
	RecordDeleted bool
}

// ActionHandler carries out an action on a flow (send a STUN request or a
// ping, close a failed flow, notify the application). It is called from the
// host's timer goroutine or from Handle's caller, never with a flow lock
// held; it must not block for long.
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

// Store keeps flow records. The default is an in-memory sharded map; a
// server with its own shared store (Kamailio's htable, through the C
// library) may supply another. Implementations must be safe for concurrent
// use; Lock serialises all calls on one flow (two messages of one flow never
// race).
type Store interface {
	// Lock takes the flow's lock and returns the function that releases it.
	Lock(f Flow) (unlock func())
	// Get appends the flow's record to dst and returns it; ok is false when
	// the flow has none. Called with the flow locked.
	Get(f Flow, dst []byte) (rec []byte, ok bool)
	// Put stores a copy of rec. Called with the flow locked.
	Put(f Flow, rec []byte)
	// Delete drops the flow's record. Called with the flow locked.
	Delete(f Flow)
	// Len reports how many flows have records.
	Len() int
}
