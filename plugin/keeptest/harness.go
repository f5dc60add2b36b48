// Package keeptest is the native test harness of the sipkeep plugin, in the
// spirit of proxy-wasm-go-sdk's proxytest: it plays the host — it keeps the
// flow records, the clock, the randomness and the timers — and drives any
// abi.Guest: the plugin logic called directly (keep.New()) or the built wasm
// module (NewWasmGuest). The conformance cases in this package run against
// both, so the logic is proven natively and in wasm with the same tests.
package keeptest

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/plugin/keep"
)

// T is what the harness needs of a test: *testing.T satisfies it, and so does
// the conformance command's recorder.
type T interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
}

// Guest is an abi.Guest that can also be configured, as every host does
// before the first call.
type Guest interface {
	abi.Guest
	Configure(keep.Policy) error
}

// Flow names a flow: its transport and the two addresses.
type Flow struct {
	Transport abi.Transport
	Local     netip.AddrPort
	Remote    netip.AddrPort
}

// UDP and TCP build flows between 127.0.0.1:5060 (us) and the given peer port.
func UDP(peerPort uint16) Flow { return flow(abi.TransportUDP, peerPort) }
func TCP(peerPort uint16) Flow { return flow(abi.TransportTCP, peerPort) }

func flow(tr abi.Transport, peer uint16) Flow {
	return Flow{Transport: tr, Local: netip.MustParseAddrPort("127.0.0.1:5060"),
		Remote: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), peer)}
}

// Out is one decoded plugin output.
type Out struct {
	Flow     Flow
	Message  string // the message with the edits applied ("" for timers)
	Edits    []abi.Edit
	Actions  []abi.Action
	Reason   abi.Reason
	Deadline int64
	Errno    abi.Errno
	// Skipped: the guest is a host that answered without calling the
	// plugin (see Skipper).
	Skipped bool
}

// Skipper is a Guest that can answer a call without running the plugin
// (host/hosttest's host.Host behind the ABI): Skipped reports whether the
// last call did.
type Skipper interface {
	Skipped() bool
}

// Has reports whether an action of kind k was returned.
func (o Out) Has(k abi.ActionKind) bool { return o.Action(k) != nil }

// Action returns the first action of kind k, or nil.
func (o Out) Action(k abi.ActionKind) *abi.Action {
	for i := range o.Actions {
		if o.Actions[i].Kind == k {
			return &o.Actions[i]
		}
	}
	return nil
}

// Harness plays the host for one guest.
type Harness struct {
	t     T
	g     Guest
	Now   time.Time
	seed  uint64
	Role  abi.Role
	rec   map[Flow][]byte
	due   map[Flow]int64
	flows map[Flow]uint64
}

// New returns a harness at a fixed start time with the default policy.
func New(t T, g Guest) *Harness {
	if err := g.Configure(keep.Policy{}); err != nil {
		t.Fatalf("configure default policy: %v", err)
	}
	return &Harness{t: t, g: g, Now: time.UnixMilli(1_700_000_000_000), seed: 1, Role: abi.RoleProxy,
		rec: map[Flow][]byte{}, due: map[Flow]int64{}, flows: map[Flow]uint64{}}
}

// Configure applies a policy (failing the test if it is refused).
func (h *Harness) Configure(p keep.Policy) {
	h.t.Helper()
	if err := h.g.Configure(p); err != nil {
		h.t.Fatalf("configure: %v", err)
	}
}

// Opt adjusts one call's input.
type Opt func(*abi.Input)

// InRouteSet sets FlagInRouteSet (a UA always; a proxy that record-routes).
func InRouteSet(in *abi.Input) { in.Flags |= abi.FlagInRouteSet }

// LocalReply sets FlagLocalReply.
func LocalReply(in *abi.Input) { in.Flags |= abi.FlagLocalReply }

// AsUA makes the call in the UA role.
func AsUA(in *abi.Input) { in.Role = abi.RoleUA }

// SIP passes a SIP message (request or response, told by its start line).
// LF line endings in msg are turned into CRLF.
func (h *Harness) SIP(f Flow, dir abi.Direction, msg string, opts ...Opt) Out {
	h.t.Helper()
	msg = CRLF(msg)
	kind, entry := abi.KindSIPRequest, h.g.OnRequest
	if strings.HasPrefix(msg, "SIP/") {
		kind, entry = abi.KindSIPResponse, h.g.OnResponse
	}
	return h.call(f, kind, dir, []byte(msg), entry, opts)
}

// STUNRequest: a Binding request received on f (the host answered it).
func (h *Harness) STUNRequest(f Flow) Out {
	req := make([]byte, 20)
	req[1] = 1
	return h.call(f, abi.KindSTUN, abi.DirIn, req, h.g.OnRequest, nil)
}

// STUNResponse: a Binding response received on f.
func (h *Harness) STUNResponse(f Flow, msg []byte) Out {
	return h.call(f, abi.KindSTUN, abi.DirIn, msg, h.g.OnResponse, nil)
}

// Ping: a CRLFCRLF ping received on stream f (the host answered it).
func (h *Harness) Ping(f Flow) Out {
	return h.call(f, abi.KindPing, abi.DirIn, []byte("\r\n\r\n"), h.g.OnRequest, nil)
}

// Pong: a CRLF pong received on stream f.
func (h *Harness) Pong(f Flow) Out {
	return h.call(f, abi.KindPong, abi.DirIn, []byte("\r\n"), h.g.OnResponse, nil)
}

// Deadline reports the pending timer of f (Unix ms, 0 = none).
func (h *Harness) Deadline(f Flow) int64 { return h.due[f] }

// Record is a copy of the flow record the host holds for f (nil if none).
func (h *Harness) Record(f Flow) []byte { return append([]byte(nil), h.rec[f]...) }

// SetRecord replaces the record the host holds for f, as a host does that
// kept a record written by another build of the plugin.
func (h *Harness) SetRecord(f Flow, rec []byte) { h.rec[f] = append([]byte(nil), rec...) }

// HasRecord reports whether the flow has a stored record.
func (h *Harness) HasRecord(f Flow) bool { return len(h.rec[f]) > 0 }

// Advance moves the clock forward by d, running every timer that falls due
// on the way, in order, and returns their outputs.
func (h *Harness) Advance(d time.Duration) []Out {
	h.t.Helper()
	end := h.Now.Add(d).UnixMilli()
	var outs []Out
	for {
		f, at, ok := h.nextDue(end)
		if !ok {
			break
		}
		if at > h.Now.UnixMilli() {
			h.Now = time.UnixMilli(at)
		}
		delete(h.due, f)
		outs = append(outs, h.call(f, abi.KindNone, 0, nil, h.g.OnTimer, nil))
	}
	h.Now = time.UnixMilli(end)
	return outs
}

// AdvanceAnswered is Advance with a peer that answers every keep-alive at
// once: each STUN request gets a success response (mapped to Mapped), each
// ping a pong.
func (h *Harness) AdvanceAnswered(d time.Duration) []Out {
	h.t.Helper()
	end := h.Now.Add(d)
	var outs []Out
	for {
		f, at, ok := h.nextDue(end.UnixMilli())
		if !ok {
			break
		}
		o := h.Advance(time.Duration(at-h.Now.UnixMilli()) * time.Millisecond)
		outs = append(outs, o...)
		for _, x := range o {
			for _, a := range x.Actions {
				switch a.Kind {
				case abi.ActSendSTUN:
					h.STUNResponse(x.Flow, STUNSuccess(a.TxID, Mapped))
				case abi.ActSendPing:
					h.Pong(x.Flow)
				}
			}
		}
		_ = f
	}
	h.Now = end
	return outs
}

// Mapped is the address the harness's STUN peer reports.
var Mapped = netip.MustParseAddrPort("203.0.113.7:40000")

// On keeps the outputs of flow f.
func On(f Flow, outs []Out) []Out {
	var r []Out
	for _, o := range outs {
		if o.Flow == f {
			r = append(r, o)
		}
	}
	return r
}

// Keepalives counts the keep-alives started in outs: first STUN requests
// (not retransmissions) and pings.
func Keepalives(outs []Out) int {
	n := 0
	for _, o := range outs {
		for _, a := range o.Actions {
			if a.Kind == abi.ActSendPing || (a.Kind == abi.ActSendSTUN && a.Attempt == 1) {
				n++
			}
		}
	}
	return n
}

// ToDeadline advances the clock exactly to f's pending deadline.
func (h *Harness) ToDeadline(f Flow) []Out {
	h.t.Helper()
	at := h.due[f]
	if at == 0 {
		h.t.Fatalf("flow has no deadline")
	}
	return h.Advance(time.Duration(at-h.Now.UnixMilli()) * time.Millisecond)
}

func (h *Harness) nextDue(end int64) (Flow, int64, bool) {
	var best Flow
	var at int64
	found := false
	keys := make([]Flow, 0, len(h.due))
	for f := range h.due {
		keys = append(keys, f)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Remote.Port() < keys[j].Remote.Port() })
	for _, f := range keys {
		if d := h.due[f]; d <= end && (!found || d < at) {
			best, at, found = f, d, true
		}
	}
	return best, at, found
}

func (h *Harness) call(f Flow, kind abi.Kind, dir abi.Direction, msg []byte, entry func(int32) int32, opts []Opt) Out {
	h.t.Helper()
	id, ok := h.flows[f]
	if !ok {
		id = uint64(len(h.flows) + 1)
		h.flows[f] = id
	}
	h.seed = h.seed*6364136223846793005 + 1442695040888963407
	in := abi.Input{Kind: kind, Dir: dir, Transport: f.Transport, Role: h.Role, Now: h.Now.UnixMilli(),
		Random: h.seed, FlowID: id, Remote: f.Remote, Local: f.Local, Record: h.rec[f], Message: msg}
	if h.Role == abi.RoleUA {
		in.Flags |= abi.FlagInRouteSet
	}
	for _, o := range opts {
		o(&in)
	}
	if kind == abi.KindNone {
		in.Dir = abi.DirIn
	}
	n := abi.EncodeInput(h.g.InputBuffer(), &in)
	if n < 0 {
		h.t.Fatalf("input does not fit the guest's buffer")
	}
	r := entry(int32(n))
	out := Out{Flow: f, Message: string(msg)}
	if sk, ok := h.g.(Skipper); ok {
		out.Skipped = sk.Skipped()
	}
	if r < 0 {
		out.Errno = abi.Errno(-r)
		return out
	}
	var o abi.Output
	if err := abi.DecodeOutput(h.g.OutputBuffer()[:r], len(msg), &o); err != nil {
		h.t.Fatalf("guest output: %v", err)
	}
	out.Edits = append(out.Edits, o.EditList...)
	out.Actions = append(out.Actions, o.ActionList...)
	out.Reason = o.Reason
	out.Deadline = o.Deadline
	if len(o.EditList) > 0 {
		out.Message = string(abi.ApplyEdits(nil, msg, o.EditList, o.Text))
	}
	switch {
	case o.Flags&abi.OutRecordDelete != 0:
		delete(h.rec, f)
		delete(h.due, f)
	case o.Flags&abi.OutRecordChanged != 0:
		h.rec[f] = append([]byte(nil), o.Record...)
	}
	if _, has := h.rec[f]; has {
		if o.Deadline > 0 {
			h.due[f] = o.Deadline
		} else {
			delete(h.due, f)
		}
	}
	return out
}

// CRLF turns LF line endings into CRLF (test messages are written with LF).
func CRLF(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\n", "\r\n")
}

// String renders an output for failure messages.
func (o Out) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "reason=%v deadline=%d", o.Reason, o.Deadline)
	for _, e := range o.Edits {
		fmt.Fprintf(&b, " edit{%v via=%d value=%d [%d,%d)}", e.Op, e.Via, e.Value, e.Start, e.End)
	}
	for _, a := range o.Actions {
		fmt.Fprintf(&b, " action{%v reason=%v value=%d attempt=%d}", a.Kind, a.Reason, a.Value, a.Attempt)
	}
	return b.String()
}
