package keeptest

import (
	"encoding/binary"
	"hash/fnv"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/plugin/keep"
)

// Case is one conformance case: an id from abi/REQUIREMENTS.md (R1–R18,
// K1–K6, E7.x for RFC 6223 §7's example flows, and a few more;
// TestRequirementsHaveCases keeps the two in step), the Go test name it
// runs as, and its body. Cases run
// against a fresh Harness, with the native plugin and with the wasm module.
type Case struct {
	ID   string
	Name string
	Run  func(t T, h *Harness)
}

// Cases is the conformance suite, in requirement order.
var Cases = []Case{
	{"R1", "TestR1_RegistrationRefreshReNegotiates", testR1},
	{"R2", "TestR2_RefreshWithoutKeepOrExpiryStopsKeepalives", testR2},
	{"R3", "TestR3_DialogKeepalivesEndWithDialog", testR3},
	{"R4", "TestR4_SenderInsertsBareKeepInOwnVia", testR4},
	{"R5", "TestR5_KeepValueInResponseStartsKeepalives", testR5},
	{"R6", "TestR6_NegotiatedDialogNotReOffered", testR6},
	{"R7", "TestR7_NeverKeepOnACK", testR7},
	{"R8", "TestR8_NoDialogOfferOutsideRouteSet", testR8},
	{"R9", "TestR9_OneProvisionalWithValueNegotiates", testR9},
	{"R10", "TestR10_ReceiverAddsValueToUpstreamVia", testR10},
	{"R11", "TestR11_SameValueInEveryInviteResponse", testR11},
	{"R12", "TestR12_ReceiverRefusesDialogOutsideRouteSet", testR12},
	{"R13", "TestR13_IntervalsDrawnBetween80And100Percent", testR13},
	{"R14", "TestR14_KeepZeroUsesDefaults", testR14},
	{"R15", "TestR15_KeepEqualsFlowTimer", testR15},
	{"R16", "TestR16_ForwardedRequestTopViaHasNoValue", testR16},
	{"R17", "TestR17_LowerViaValuesStripped", testR17},
	{"R18", "TestR18_STUNTimeoutStopsKeepalives", testR18},
	{"K1", "TestK1_CRLFOnStreamsSTUNOnUDP", testK1},
	{"K2", "TestK2_NoPongIn10sFailsFlow", testK2},
	{"K3", "TestK3_STUNBindingOnSameFlow", testK3},
	{"K4", "TestK4_MappedAddressChangeFailsFlow", testK4},
	{"K5", "TestK5_DefaultIntervalsPerTransport", testK5},
	{"K6", "TestK6_UnsolicitedPongHarmless", testK6},
	{"E7.2", "TestE72_RegistrationUAProxy", testE72},
	{"E7.3", "TestE73_DialogUAProxy", testE73},
	{"E7.4", "TestE74_DialogUAUA", testE74},
	{"BAD", "TestBadKeepValuesNeverNegotiate", testBadKeep},
	{"DEAD", "TestReceiverReportsDeadFlow", testDeadFlow},
	{"REC", "TestRecordVersion1RegistrationsAdopted", testRecordV1},
}

var (
	out = abi.DirOut
	in  = abi.DirIn
)

// --- helpers ---------------------------------------------------------------

func wantMsg(t T, o Out, want string) {
	t.Helper()
	if want = CRLF(want); o.Message != want {
		t.Fatalf("message:\n got %q\nwant %q\n(%v)", o.Message, want, o)
	}
}

func wantTopVia(t T, o Out, want string) {
	t.Helper()
	if got := topVia(o.Message); got != want {
		t.Fatalf("top Via = %q, want %q (%v)", got, want, o)
	}
}

func topVia(msg string) string {
	for _, l := range strings.Split(msg, "\r\n") {
		if strings.HasPrefix(l, "Via: ") {
			return strings.TrimPrefix(l, "Via: ")
		}
	}
	return ""
}

func wantAction(t T, o Out, k abi.ActionKind) *abi.Action {
	t.Helper()
	a := o.Action(k)
	if a == nil {
		t.Fatalf("no %v action in %v", k, o)
	}
	return a
}

func wantNoAction(t T, o Out, k abi.ActionKind) {
	t.Helper()
	if o.Has(k) {
		t.Fatalf("unexpected %v action in %v", k, o)
	}
}

// wantReason checks the plugin's (informative) reason. A host that answered
// without calling the plugin (Out.Skipped: the fast path, a quiet refresh)
// has no reason to give; what it did — nothing — the case checks apart.
func wantReason(t T, o Out, r abi.Reason) {
	t.Helper()
	if o.Skipped && o.Reason == abi.ReasonNone && len(o.Edits) == 0 && len(o.Actions) == 0 {
		return
	}
	if o.Reason != r {
		t.Fatalf("reason = %v, want %v (%v)", o.Reason, r, o)
	}
}

// actions collects every action of kind k in outs.
func actions(outs []Out, k abi.ActionKind) []abi.Action {
	var as []abi.Action
	for _, o := range outs {
		for _, a := range o.Actions {
			if a.Kind == k {
				as = append(as, a)
			}
		}
	}
	return as
}

// uaRegistered: Alice (UA) registers on f and is granted keep=n.
func uaRegistered(t T, h *Harness, f Flow, n int) Out {
	t.Helper()
	h.Role = abi.RoleUA
	o := h.SIP(f, out, Register("reg-1", 1, "", 600))
	wantTopVia(t, o, "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-r1;keep")
	o = h.SIP(f, in, RegisterOK("reg-1", 1, ";keep="+strconv.Itoa(n), 600))
	wantAction(t, o, abi.ActKeepaliveStarted)
	return o
}

// answerSTUN answers every send-stun in outs with a success mapping to addr.
func answerSTUN(h *Harness, f Flow, outs []Out, addr netip.AddrPort) {
	for _, a := range actions(outs, abi.ActSendSTUN) {
		h.STUNResponse(f, STUNSuccess(a.TxID, addr))
	}
}

var mapped = Mapped

// --- RFC 6223 ----------------------------------------------------------------

func testR1(t T, h *Harness) {
	f := UDP(5070)
	uaRegistered(t, h, f, 30)
	o := h.SIP(f, out, Register("reg-1", 2, "", 600))
	wantTopVia(t, o, "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-r2;keep")
	o = h.SIP(f, in, RegisterOK("reg-1", 2, ";keep=30", 600))
	wantNoAction(t, o, abi.ActKeepaliveStopped)
}

func testR2(t T, h *Harness) {
	f := UDP(5070)
	uaRegistered(t, h, f, 30)
	// The refresh's 2xx carries no value: the registrar did not re-negotiate.
	o := h.SIP(f, in, RegisterOK("reg-1", 2, ";keep", 600))
	if a := wantAction(t, o, abi.ActKeepaliveStopped); a.Reason != abi.ReasonRegistrationEnded {
		t.Fatalf("stopped for %v", a.Reason)
	}
	if h.HasRecord(f) {
		t.Fatalf("record kept after the last binding ended")
	}
	// Expiry ends a registration too.
	g := UDP(5071)
	h.SIP(g, out, Register("reg-2", 1, "", 60))
	h.SIP(g, in, RegisterOK("reg-2", 1, ";keep=30", 60))
	outs := h.Advance(61 * time.Second)
	answerSTUN(h, g, outs, mapped)
	if len(actions(outs, abi.ActKeepaliveStopped)) == 0 {
		t.Fatalf("keep-alives did not stop at expiry: %v", outs)
	}
	if outs := h.Advance(5 * time.Minute); len(actions(outs, abi.ActSendSTUN)) != 0 {
		t.Fatalf("keep-alives after the registration expired")
	}
	// A de-registration (Expires: 0) ends it at once.
	k := UDP(5072)
	h.SIP(k, out, Register("reg-3", 1, "", 600))
	h.SIP(k, in, RegisterOK("reg-3", 1, ";keep=30", 600))
	o = h.SIP(k, out, Register("reg-3", 2, "", 0))
	wantAction(t, o, abi.ActKeepaliveStopped)
	if strings.Contains(topVia(o.Message), "keep") {
		t.Fatalf("keep offered on a de-registration: %q", topVia(o.Message))
	}
	// A registration is its AOR, not its Call-ID: a UA that restarted
	// de-registers with a new Call-ID, and that still ends it.
	r := UDP(5073)
	h.SIP(r, out, Register("reg-4", 1, "", 600))
	h.SIP(r, in, RegisterOK("reg-4", 1, ";keep=30", 600))
	o = h.SIP(r, out, Register("reg-4-after-reboot", 1, "", 0))
	if a := wantAction(t, o, abi.ActKeepaliveStopped); a.Reason != abi.ReasonRegistrationEnded {
		t.Fatalf("stopped for %v", a.Reason)
	}
	if h.HasRecord(r) {
		t.Fatalf("a de-registration with a new Call-ID left the binding")
	}
	// The receiver's side of R2: a refresh that no longer offers keep
	// stops the sender's keep-alives, so the receiver stops expecting
	// them (and never reports the flow dead for their absence).
	h.Role = abi.RoleProxy
	w := UDP(5074)
	h.SIP(w, out, RegisterOK("reg-5", 1, ";keep", 600))
	o = h.SIP(w, out, RegisterOK("reg-5-new-call-id", 2, "", 600))
	wantMsg(t, o, RegisterOK("reg-5-new-call-id", 2, "", 600))
	if h.HasRecord(w) {
		t.Fatalf("the receiver still watches a flow whose registration stopped offering keep")
	}
	if outs := h.Advance(5 * time.Minute); len(actions(outs, abi.ActFlowDead)) != 0 {
		t.Fatalf("flow reported dead after the sender was told to stop: %v", outs)
	}
}

func testR3(t T, h *Harness) {
	h.Role = abi.RoleUA
	f := UDP(5080)
	h.SIP(f, out, Invite("call-1", 1, "", ViaAlice))
	o := h.SIP(f, in, Response(180, "INVITE", "call-1", 1, "", ViaAlice+";keep=30"))
	wantAction(t, o, abi.ActKeepaliveStarted)
	h.SIP(f, in, Response(200, "INVITE", "call-1", 1, "", ViaAlice+";keep=30"))
	outs := h.AdvanceAnswered(10 * time.Minute) // the dialog lasts: keep-alives go on
	if n := Keepalives(outs); n < 20 || n > 25 {
		t.Fatalf("%d keep-alives in 10 min of dialog with keep=30", n)
	}
	o = h.SIP(f, out, Request("BYE", "call-1", 2, "b1", ViaAlice))
	if a := wantAction(t, o, abi.ActKeepaliveStopped); a.Reason != abi.ReasonDialogEnded {
		t.Fatalf("stopped for %v", a.Reason)
	}
	// A non-2xx final response to the initial INVITE ends it too.
	g := UDP(5081)
	h.SIP(g, out, Invite("call-2", 1, "", ViaAlice))
	h.SIP(g, in, Response(183, "INVITE", "call-2", 1, "", ViaAlice+";keep=30"))
	o = h.SIP(g, in, Response(486, "INVITE", "call-2", 1, "", ViaAlice))
	wantAction(t, o, abi.ActKeepaliveStopped)

	// A subscription is a dialog usage of its own (RFC 5057): it ends with
	// a NOTIFY whose Subscription-State is terminated, not with a BYE, and
	// that NOTIFY ends no call.
	s := UDP(5082)
	h.SIP(s, out, Request("SUBSCRIBE", "sub-1", 1, "", ViaAlice))
	o = h.SIP(s, in, Response(200, "SUBSCRIBE", "sub-1", 1, "", ViaAlice+";keep=30"))
	wantAction(t, o, abi.ActKeepaliveStarted)
	h.SIP(s, in, Notify("sub-1", 1, "active;expires=600", ViaP1))
	o = h.SIP(s, in, Request("BYE", "sub-1", 2, "b1", ViaP1))
	wantNoAction(t, o, abi.ActKeepaliveStopped)
	o = h.SIP(s, in, Notify("sub-1", 3, "Terminated;reason=timeout", ViaP1))
	if a := wantAction(t, o, abi.ActKeepaliveStopped); a.Reason != abi.ReasonDialogEnded {
		t.Fatalf("stopped for %v", a.Reason)
	}
	// A transfer's NOTIFY inside a call ends the REFER's subscription,
	// not the call's keep-alives.
	v := UDP(5083)
	h.SIP(v, out, Invite("call-3", 1, "", ViaAlice))
	h.SIP(v, in, Response(200, "INVITE", "call-3", 1, "", ViaAlice+";keep=30"))
	o = h.SIP(v, in, Notify("call-3", 7, "terminated;reason=noresource", ViaP1))
	wantNoAction(t, o, abi.ActKeepaliveStopped)
	if outs := h.AdvanceAnswered(2 * time.Minute); Keepalives(outs) < 4 {
		t.Fatalf("the call's keep-alives stopped after a NOTIFY: %v", outs)
	}
	// A non-2xx final response to the initial SUBSCRIBE ends it too.
	x := UDP(5084)
	h.SIP(x, out, Request("SUBSCRIBE", "sub-2", 1, "", ViaAlice))
	h.SIP(x, in, Response(180, "SUBSCRIBE", "sub-2", 1, "", ViaAlice+";keep=30"))
	o = h.SIP(x, in, Response(489, "SUBSCRIBE", "sub-2", 1, "", ViaAlice))
	wantAction(t, o, abi.ActKeepaliveStopped)
}

func testR4(t T, h *Harness) {
	h.Role = abi.RoleUA
	f := UDP(5060)
	o := h.SIP(f, out, Register("reg-1", 1, "", 600))
	wantMsg(t, o, strings.Replace(Register("reg-1", 1, "", 600), "z9hG4bK-r1", "z9hG4bK-r1;keep", 1))
	if len(o.Edits) != 1 || o.Edits[0].Op != abi.EditAddKeep || o.Edits[0].Via != 0 {
		t.Fatalf("want one add-keep edit on Via #0: %v", o)
	}
	o = h.SIP(f, out, Invite("call-1", 1, "", ViaAlice))
	wantTopVia(t, o, ViaAlice+";keep")
	// A proxy (record-routing) offers on the Via it added, never on the one below.
	h.Role = abi.RoleProxy
	o = h.SIP(UDP(5090), out, Invite("call-2", 1, "", ViaP1, ViaAlice+";keep"), InRouteSet)
	wantMsg(t, o, Invite("call-2", 1, "", ViaP1+";keep", ViaAlice+";keep"))
	// Not on methods that cannot negotiate.
	o = h.SIP(f, out, Request("OPTIONS", "o-1", 1, "", ViaAlice))
	wantReason(t, o, abi.ReasonMethodNotEligible)
}

func testR5(t T, h *Harness) {
	f := UDP(5060)
	uaRegistered(t, h, f, 30)
	d := h.Deadline(f) - h.Now.UnixMilli()
	if d < 24000 || d > 30000 {
		t.Fatalf("first keep-alive in %d ms, want within [24000, 30000]", d)
	}
	outs := h.ToDeadline(f)
	a := actions(outs, abi.ActSendSTUN)
	if len(a) != 1 || a[0].Attempt != 1 || outs[0].Flow != f {
		t.Fatalf("want one STUN request toward the registrar, got %v", outs)
	}
	// On a stream the same negotiation gives CRLF pings.
	g := TCP(5061)
	h.SIP(g, out, Register("reg-t", 1, "", 600))
	h.SIP(g, in, RegisterOK("reg-t", 1, ";keep=30", 600))
	if outs := On(g, h.Advance(30*time.Second)); len(actions(outs, abi.ActSendPing)) != 1 {
		t.Fatalf("want one ping on the TCP flow: %v", outs)
	}
}

func testR6(t T, h *Harness) {
	h.Role = abi.RoleUA
	f := UDP(5080)
	h.SIP(f, out, Invite("call-1", 1, "", ViaAlice))
	h.SIP(f, in, Response(200, "INVITE", "call-1", 1, "", ViaAlice+";keep=30"))
	o := h.SIP(f, out, Invite("call-1", 2, "b1", ViaAlice)) // re-INVITE
	wantReason(t, o, abi.ReasonAlreadyNegotiated)
	wantTopVia(t, o, ViaAlice)
	// Receiver side: a later request of a negotiated dialog gets no value.
	h.Role = abi.RoleProxy
	g := UDP(5070)
	o = h.SIP(g, out, Response(200, "INVITE", "call-9", 1, "", ViaAlice+";keep"), InRouteSet)
	wantTopVia(t, o, ViaAlice+";keep=30")
	o = h.SIP(g, out, Response(200, "INVITE", "call-9", 2, "", ViaAlice+";keep"), InRouteSet)
	wantReason(t, o, abi.ReasonAlreadyNegotiated)
	wantTopVia(t, o, ViaAlice+";keep")
}

func testR7(t T, h *Harness) {
	h.Role = abi.RoleUA
	f := UDP(5080)
	o := h.SIP(f, out, Request("ACK", "call-1", 1, "b1", ViaAlice))
	wantReason(t, o, abi.ReasonACK)
	wantTopVia(t, o, ViaAlice)
	o = h.SIP(f, in, Request("ACK", "call-1", 1, "b1", ViaAlice+";keep"))
	wantReason(t, o, abi.ReasonACK)
	if len(o.Edits) != 0 || len(o.Actions) != 0 || h.HasRecord(f) {
		t.Fatalf("a keep in an ACK was acted on: %v", o)
	}
}

func testR8(t T, h *Harness) {
	f := UDP(5090)
	o := h.SIP(f, out, Invite("call-1", 1, "", ViaP1, ViaAlice+";keep")) // proxy, not record-routing
	wantReason(t, o, abi.ReasonNotInRouteSet)
	wantTopVia(t, o, ViaP1)
	// A registration needs no route set.
	o = h.SIP(f, out, strings.Replace(Register("reg-1", 1, "", 600), "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-r1", "Via: "+ViaP1+"\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-r1", 1))
	wantTopVia(t, o, ViaP1+";keep")
}

func testR9(t T, h *Harness) {
	h.Role = abi.RoleUA
	f := UDP(5080)
	h.SIP(f, out, Invite("call-1", 1, "", ViaAlice))
	h.SIP(f, in, Response(100, "INVITE", "call-1", 1, "", ViaAlice+";keep"))
	o := h.SIP(f, in, Response(183, "INVITE", "call-1", 1, "", ViaAlice+";keep=30"))
	wantAction(t, o, abi.ActKeepaliveStarted)
	o = h.SIP(f, in, Response(200, "INVITE", "call-1", 1, "", ViaAlice+";keep"))
	wantNoAction(t, o, abi.ActKeepaliveStopped)
	if outs := h.Advance(31 * time.Second); Keepalives(outs) != 1 {
		t.Fatalf("no keep-alive after a provisional negotiated them")
	}
}

func testR10(t T, h *Harness) {
	f := UDP(5070)
	o := h.SIP(f, out, RegisterOK("reg-1", 1, ";keep", 600))
	wantMsg(t, o, RegisterOK("reg-1", 1, ";keep=30", 600))
	if len(o.Edits) != 1 || o.Edits[0].Op != abi.EditSetKeep || o.Edits[0].Value != 30 {
		t.Fatalf("want one set-keep=30 edit: %v", o)
	}
	wantAction(t, o, abi.ActReceiveStarted)
	// No keep in the request, no value in the response.
	o = h.SIP(UDP(5071), out, RegisterOK("reg-2", 1, "", 600))
	wantMsg(t, o, RegisterOK("reg-2", 1, "", 600))
	// The configured N.
	h.Configure(keep.Policy{ReceiverKeepSeconds: 45})
	o = h.SIP(UDP(5072), out, RegisterOK("reg-3", 1, ";keep", 600))
	wantMsg(t, o, RegisterOK("reg-3", 1, ";keep=45", 600))
}

func testR11(t T, h *Harness) {
	f := UDP(5070)
	o := h.SIP(f, out, Response(180, "INVITE", "call-1", 1, "", ViaAlice+";keep"), InRouteSet)
	wantTopVia(t, o, ViaAlice+";keep=30")
	h.Configure(keep.Policy{ReceiverKeepSeconds: 45}) // must not change the value mid-transaction
	o = h.SIP(f, out, Response(200, "INVITE", "call-1", 1, "", ViaAlice+";keep"), InRouteSet)
	wantTopVia(t, o, ViaAlice+";keep=30")
}

func testR12(t T, h *Harness) {
	o := h.SIP(UDP(5070), out, Response(200, "INVITE", "call-1", 1, "", ViaAlice+";keep"))
	wantReason(t, o, abi.ReasonNotInRouteSet)
	wantTopVia(t, o, ViaAlice+";keep")
	if len(o.Actions) != 0 {
		t.Fatalf("receiving keep-alives outside the route set: %v", o)
	}
}

func testR13(t T, h *Harness) {
	h.Role = abi.RoleUA
	g := UDP(5061)
	h.SIP(g, out, Register("reg-g", 1, "", 100000))
	h.SIP(g, in, RegisterOK("reg-g", 1, ";keep=30", 100000))
	minI, maxI, prev := int64(1<<62), int64(0), h.Now.UnixMilli()
	for i := 0; i < 300; i++ {
		at := h.Deadline(g)
		outs := h.ToDeadline(g)
		a := actions(outs, abi.ActSendSTUN)
		if len(a) != 1 {
			t.Fatalf("step %d: %v", i, outs)
		}
		iv := at - prev
		prev = at
		minI, maxI = min(minI, iv), max(maxI, iv)
		h.STUNResponse(g, STUNSuccess(a[0].TxID, mapped))
	}
	if minI < 24000 || maxI > 30000 {
		t.Fatalf("intervals in [%d, %d] ms, want within [24000, 30000]", minI, maxI)
	}
	if minI > 25000 || maxI < 29000 {
		t.Fatalf("intervals in [%d, %d] ms: not spread over [0.8N, N]", minI, maxI)
	}
	// A tampered keep=1 is held to the floor (10 s by default).
	k := UDP(5062)
	h.SIP(k, out, Register("reg-k", 1, "", 600))
	h.SIP(k, in, RegisterOK("reg-k", 1, ";keep=1", 600))
	if d := h.Deadline(k) - h.Now.UnixMilli(); d < 8000 {
		t.Fatalf("keep=1 scheduled a keep-alive in %d ms, below the floor", d)
	}
}

func testR14(t T, h *Harness) {
	f := UDP(5060)
	uaRegistered(t, h, f, 0)
	if d := h.Deadline(f) - h.Now.UnixMilli(); d < 24000 || d > 29000 {
		t.Fatalf("keep=0 on UDP: first keep-alive in %d ms, want [24000, 29000]", d)
	}
}

func testR15(t T, h *Harness) {
	o := h.SIP(UDP(5070), out, strings.Replace(RegisterOK("reg-1", 1, ";keep", 600), "Content-Length", "Flow-Timer: 45\nContent-Length", 1))
	wantTopVia(t, o, "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-r1;keep=45;received=127.0.0.1")
}

func testR16(t T, h *Harness) {
	o := h.SIP(UDP(5090), out, Invite("call-1", 1, "", ViaP1+";keep=30", ViaAlice+";keep"), InRouteSet)
	wantTopVia(t, o, ViaP1+";keep")
	o = h.SIP(UDP(5091), out, Invite("call-2", 1, "", ViaP1+";keep=30", ViaAlice+";keep"))
	if strings.Contains(topVia(o.Message), "keep=") {
		t.Fatalf("forwarded request's top Via kept a value: %q", topVia(o.Message))
	}
}

func testR17(t T, h *Harness) {
	// A downstream planted keep=5 on a lower Via, and on the caller's Via
	// that becomes topmost: the caller sees our value or none, never 5.
	o := h.SIP(UDP(5070), out, Response(200, "INVITE", "call-1", 1, "", ViaAlice+";keep=5", ViaP2+";keep=5"), InRouteSet)
	wantMsg(t, o, Response(200, "INVITE", "call-1", 1, "", ViaAlice+";keep=30", ViaP2+";keep"))
	o = h.SIP(UDP(5071), out, Response(200, "INVITE", "call-2", 1, "", ViaAlice+";keep=5", ViaP2))
	wantTopVia(t, o, ViaAlice+";keep") // not record-routing: no value at all
	o = h.SIP(UDP(5072), out, Response(200, "OPTIONS", "o-1", 1, "", ViaAlice+";keep=5"))
	wantTopVia(t, o, ViaAlice+";keep")
}

func testR18(t T, h *Harness) {
	f := UDP(5060)
	uaRegistered(t, h, f, 30)
	start := h.Deadline(f)
	outs := h.Advance(time.Duration(start-h.Now.UnixMilli()) * time.Millisecond)
	var at []int64
	for {
		for _, a := range actions(outs, abi.ActSendSTUN) {
			at = append(at, h.Now.UnixMilli()-start)
			if int(a.Attempt) != len(at) {
				t.Fatalf("attempt %d, want %d", a.Attempt, len(at))
			}
		}
		if fa := actions(outs, abi.ActFlowFailed); len(fa) > 0 {
			if fa[0].Reason != abi.ReasonSTUNTimeout {
				t.Fatalf("failed for %v", fa[0].Reason)
			}
			break
		}
		if h.Deadline(f) == 0 || h.Now.UnixMilli()-start > 60000 {
			t.Fatalf("no failure after %d ms: %v", h.Now.UnixMilli()-start, at)
		}
		outs = h.Advance(time.Duration(h.Deadline(f)-h.Now.UnixMilli()) * time.Millisecond)
	}
	want := []int64{0, 500, 1500, 3500, 7500, 15500, 31500}
	if len(at) != len(want) {
		t.Fatalf("requests at %v ms, want %v", at, want)
	}
	for i := range want {
		if at[i] != want[i] {
			t.Fatalf("requests at %v ms, want %v", at, want)
		}
	}
	if d := h.Now.UnixMilli() - start; d != 39500 {
		t.Fatalf("timeout after %d ms, want 39500", d)
	}
	if outs := h.Advance(10 * time.Minute); len(actions(outs, abi.ActSendSTUN)) != 0 {
		t.Fatalf("keep-alives after the STUN timeout")
	}
	// A registration refresh that re-negotiates starts them again.
	h.SIP(f, out, Register("reg-1", 2, "", 600))
	o := h.SIP(f, in, RegisterOK("reg-1", 2, ";keep=30", 600))
	wantAction(t, o, abi.ActKeepaliveStarted)
}

// --- RFC 5626 ----------------------------------------------------------------

func testK1(t T, h *Harness) {
	f := TCP(5060)
	uaRegistered(t, h, f, 30)
	outs := h.ToDeadline(f)
	if len(actions(outs, abi.ActSendPing)) != 1 || len(actions(outs, abi.ActSendSTUN)) != 0 {
		t.Fatalf("TCP keep-alive is not one CRLF ping: %v", outs)
	}
	o := h.Pong(f)
	wantAction(t, o, abi.ActKeepaliveAnswered)
	g := UDP(5061)
	h.SIP(g, out, Register("reg-u", 1, "", 600))
	h.SIP(g, in, RegisterOK("reg-u", 1, ";keep=30", 600))
	outs = On(g, h.ToDeadline(g))
	if len(actions(outs, abi.ActSendPing)) != 0 || len(actions(outs, abi.ActSendSTUN)) != 1 {
		t.Fatalf("UDP keep-alive is not one STUN request: %v", outs)
	}
}

func testK2(t T, h *Harness) {
	f := TCP(5060)
	uaRegistered(t, h, f, 30)
	outs := h.ToDeadline(f)
	p := actions(outs, abi.ActSendPing)
	if len(p) != 1 || p[0].Value != 10000 {
		t.Fatalf("want a ping with a 10 s pong deadline: %v", outs)
	}
	outs = h.Advance(9999 * time.Millisecond)
	if len(actions(outs, abi.ActFlowFailed)) != 0 {
		t.Fatalf("failed before 10 s")
	}
	outs = h.Advance(time.Millisecond)
	if fa := actions(outs, abi.ActFlowFailed); len(fa) != 1 || fa[0].Reason != abi.ReasonPongTimeout {
		t.Fatalf("want flow-failed pong-timeout at 10 s: %v", outs)
	}
}

func testK3(t T, h *Harness) {
	f := UDP(5060)
	uaRegistered(t, h, f, 30)
	outs := h.ToDeadline(f)
	a := actions(outs, abi.ActSendSTUN)
	if len(a) != 1 || outs[0].Flow != f || a[0].FlowID == 0 {
		t.Fatalf("want a STUN request on the registration's own flow: %v", outs)
	}
	o := h.STUNResponse(f, STUNSuccess([12]byte{9}, mapped)) // someone else's transaction
	wantReason(t, o, abi.ReasonNotOurs)
	o = h.STUNResponse(f, STUNSuccess(a[0].TxID, mapped))
	wantAction(t, o, abi.ActKeepaliveAnswered)
	// The receiver side notes the peer's Binding requests as liveness.
	if o := h.STUNRequest(UDP(5099)); o.Errno != 0 || len(o.Actions) != 0 {
		t.Fatalf("STUN request on an unknown flow: %v", o)
	}
}

func testK4(t T, h *Harness) {
	f := UDP(5060)
	uaRegistered(t, h, f, 30)
	answerSTUN(h, f, h.ToDeadline(f), mapped)
	outs := h.ToDeadline(f)
	a := actions(outs, abi.ActSendSTUN)
	if len(a) != 1 {
		t.Fatalf("no second keep-alive: %v", outs)
	}
	o := h.STUNResponse(f, STUNSuccess(a[0].TxID, netip.MustParseAddrPort("203.0.113.7:40001")))
	if fa := wantAction(t, o, abi.ActFlowFailed); fa.Reason != abi.ReasonMappedAddrChanged {
		t.Fatalf("failed for %v", fa.Reason)
	}
	if outs := h.Advance(5 * time.Minute); len(actions(outs, abi.ActSendSTUN)) != 0 {
		t.Fatalf("keep-alives continued on a failed flow")
	}
}

func testK5(t T, h *Harness) {
	f := TCP(5060)
	uaRegistered(t, h, f, 0)
	if d := h.Deadline(f) - h.Now.UnixMilli(); d < 95000 || d > 120000 {
		t.Fatalf("keep=0 on TCP: first ping in %d ms, want [95000, 120000]", d)
	}
	g := UDP(5061)
	h.SIP(g, out, Register("reg-u", 1, "", 600))
	h.SIP(g, in, RegisterOK("reg-u", 1, ";keep=0", 600))
	if d := h.Deadline(g) - h.Now.UnixMilli(); d < 24000 || d > 29000 {
		t.Fatalf("keep=0 on UDP: first STUN in %d ms, want [24000, 29000]", d)
	}
}

func testK6(t T, h *Harness) {
	f := TCP(5060)
	o := h.Pong(f)
	if o.Errno != 0 || len(o.Actions) != 0 || h.HasRecord(f) {
		t.Fatalf("unsolicited pong on an idle flow acted on: %v", o)
	}
	uaRegistered(t, h, f, 30)
	o = h.Pong(f)
	wantReason(t, o, abi.ReasonNotOurs)
	wantNoAction(t, o, abi.ActFlowFailed)
}

// --- RFC 6223 §7 examples -----------------------------------------------------

// E7.2: Alice registers through P1 (receiver), P1 grants 30, Alice sends STUN.
func testE72(t T, h *Harness) {
	f := UDP(5070) // P1's flow toward Alice
	// P1 forwards Alice's REGISTER (she offered keep) and, on the response, grants 30.
	o := h.SIP(f, in, Register("reg-1", 1, ";keep", 600))
	wantReason(t, o, abi.ReasonNoKeep)
	o = h.SIP(f, out, RegisterOK("reg-1", 1, ";keep", 600))
	wantTopVia(t, o, "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-r1;keep=30;received=127.0.0.1")
	wantAction(t, o, abi.ActReceiveStarted)
	// Alice's side, fed the response P1 produced.
	h.Role = abi.RoleUA
	a := UDP(5060)
	h.SIP(a, out, Register("reg-1", 1, "", 600))
	wantAction(t, h.SIP(a, in, o.Message), abi.ActKeepaliveStarted)
	if outs := h.ToDeadline(a); len(actions(outs, abi.ActSendSTUN)) != 1 {
		t.Fatalf("Alice sent no STUN keep-alive: %v", outs)
	}
	// P1 notes her keep-alive as liveness.
	if o := h.STUNRequest(f); o.Errno != 0 {
		t.Fatalf("STUN at P1: %v", o)
	}
}

// E7.3: INVITE through a record-routing P1: P1 grants 30 on the response.
func testE73(t T, h *Harness) {
	f := UDP(5070)
	h.SIP(f, in, Invite("call-1", 1, "", ViaAlice+";keep"), InRouteSet)
	o := h.SIP(f, out, Response(200, "INVITE", "call-1", 1, "Record-Route: <sip:127.0.0.1:5060;lr>\n", ViaAlice+";keep"), InRouteSet)
	wantTopVia(t, o, ViaAlice+";keep=30")
	h.Role = abi.RoleUA
	a := UDP(5060)
	h.SIP(a, out, Invite("call-1", 1, "", ViaAlice))
	wantAction(t, h.SIP(a, in, o.Message), abi.ActKeepaliveStarted)
	if outs := h.ToDeadline(a); len(actions(outs, abi.ActSendSTUN)) != 1 {
		t.Fatalf("no keep-alive during the dialog: %v", outs)
	}
}

// E7.4: P1 does not record-route, so it grants nothing; Alice offers again on
// a mid-dialog UPDATE and Bob (a UA) grants 30.
func testE74(t T, h *Harness) {
	p1 := UDP(5070)
	o := h.SIP(p1, out, Response(200, "INVITE", "call-1", 1, "", ViaAlice+";keep"))
	wantTopVia(t, o, ViaAlice+";keep")
	h.Role = abi.RoleUA
	a := UDP(5080)
	h.SIP(a, out, Invite("call-1", 1, "", ViaAlice))
	wantNoAction(t, h.SIP(a, in, o.Message), abi.ActKeepaliveStarted)
	o = h.SIP(a, out, Request("UPDATE", "call-1", 2, "b1", ViaAlice))
	wantTopVia(t, o, ViaAlice+";keep")
	// Bob, a UA (always in the route set), grants on the 200 to UPDATE.
	bob := UDP(5071)
	r := h.SIP(bob, out, Response(200, "UPDATE", "call-1", 2, "", ViaAlice+";keep"))
	wantTopVia(t, r, ViaAlice+";keep=30")
	wantAction(t, h.SIP(a, in, r.Message), abi.ActKeepaliveStarted)
	outs := On(a, h.ToDeadline(a))
	answerSTUN(h, a, outs, mapped)
	if len(actions(outs, abi.ActSendSTUN)) != 1 {
		t.Fatalf("no STUN toward Bob: %v", outs)
	}
	wantAction(t, h.SIP(a, out, Request("BYE", "call-1", 3, "b1", ViaAlice)), abi.ActKeepaliveStopped)
}

// --- bad input and liveness ----------------------------------------------------

func testBadKeep(t T, h *Harness) {
	h.Role = abi.RoleUA
	for i, v := range []string{";keep=", ";keep=abc", ";keep=-1", ";keep=99999999999999999999", ";keep=30;keep=30", `;keep="30"`} {
		f := UDP(uint16(6000 + i))
		h.SIP(f, out, Register("reg-b", 1, "", 600))
		o := h.SIP(f, in, RegisterOK("reg-b", 1, v, 600))
		if o.Has(abi.ActKeepaliveStarted) || o.Errno != 0 {
			t.Fatalf("%s negotiated keep-alives: %v", v, o)
		}
		if o.Reason != abi.ReasonBadKeepValue && o.Reason != abi.ReasonDuplicateKeep {
			t.Fatalf("%s: reason %v", v, o.Reason)
		}
	}
	for _, m := range []string{"", "garbage", "REGISTER sip:x SIP/2.0\n\n", "SIP/2.0 200 OK\nVia: \n\n", strings.Repeat("A", 60000)} {
		o := h.SIP(UDP(6100), in, m)
		if len(o.Edits) != 0 {
			t.Fatalf("edits on malformed input %.20q: %v", m, o)
		}
	}
	// A corrupt record is replaced, never fatal.
	f := UDP(6200)
	h.rec[f] = []byte{99, 1, 2, 3}
	o := h.SIP(f, out, RegisterOK("reg-c", 1, ";keep", 600))
	wantTopVia(t, o, "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-r1;keep=30;received=127.0.0.1")
}

func testDeadFlow(t T, h *Harness) {
	f := UDP(5070)
	h.SIP(f, out, RegisterOK("reg-1", 1, ";keep", 600))
	for i := 0; i < 5; i++ { // keep-alives every 25 s: alive
		outs := h.Advance(25 * time.Second)
		if len(actions(outs, abi.ActFlowDead)) != 0 {
			t.Fatalf("flow reported dead while keep-alives arrive")
		}
		h.STUNRequest(f)
	}
	outs := h.Advance(89 * time.Second)
	if len(actions(outs, abi.ActFlowDead)) != 0 {
		t.Fatalf("dead before 3×30 s of silence")
	}
	outs = h.Advance(2 * time.Second)
	if d := actions(outs, abi.ActFlowDead); len(d) != 1 || d[0].Reason != abi.ReasonNoKeepalives {
		t.Fatalf("want flow-dead after 90 s of silence: %v", outs)
	}
	// A response sent on the flow answers a request received on it: a sign
	// of life (hosts skip the refresh itself: abi.FeatureQuietRefresh).
	g := UDP(5071)
	h.SIP(g, out, RegisterOK("reg-2", 1, ";keep", 600))
	h.Advance(80 * time.Second)
	h.SIP(g, out, Response(200, "OPTIONS", "opt-1", 1, "", ViaAlice))
	if outs := h.Advance(80 * time.Second); len(actions(outs, abi.ActFlowDead)) != 0 {
		t.Fatalf("flow reported dead 80 s after a response was sent on it")
	}
	if outs := h.Advance(11 * time.Second); len(actions(outs, abi.ActFlowDead)) != 1 {
		t.Fatalf("want flow-dead 91 s after the response: %v", outs)
	}
}

// testRecordV1: a record written by a version 1 plugin (registrations
// keyed by Call-ID) still works after an upgrade: the first registration
// on the flow adopts its binding, whatever its Call-ID.
func testRecordV1(t T, h *Harness) {
	h.Role = abi.RoleUA
	f := UDP(5070)
	h.SIP(f, out, Register("reg-1", 1, "", 600))
	h.SIP(f, in, RegisterOK("reg-1", 1, ";keep=30", 600))
	h.SetRecord(f, asVersion1(t, h.Record(f), "reg-1"))
	// A refresh (new Call-ID, same AOR) re-negotiates: still one binding.
	h.SIP(f, out, Register("reg-1-new", 2, "", 600))
	o := h.SIP(f, in, RegisterOK("reg-1-new", 2, ";keep=30", 600))
	wantNoAction(t, o, abi.ActKeepaliveStopped)
	if rec := h.Record(f); len(rec) != recordHeader+recordBinding || rec[0] != keep.RecordVersion {
		t.Fatalf("after the refresh: %d-byte record, version %d; want one binding, version %d", len(rec), rec[0], keep.RecordVersion)
	}
	// A de-registration from a version 1 record ends it too.
	g := UDP(5071)
	h.SIP(g, out, Register("reg-2", 1, "", 600))
	h.SIP(g, in, RegisterOK("reg-2", 1, ";keep=30", 600))
	h.SetRecord(g, asVersion1(t, h.Record(g), "reg-2"))
	o = h.SIP(g, out, Register("reg-2-after-reboot", 1, "", 0))
	wantAction(t, o, abi.ActKeepaliveStopped)
	if h.HasRecord(g) {
		t.Fatalf("a de-registration left the version 1 binding")
	}
}

// The record layout (plugin/keep/record.go) as far as testRecordV1 needs it.
const (
	recordHeader  = 84
	recordBinding = 26
)

// asVersion1 rewrites a record of one registration binding as a version 1
// plugin wrote it: version byte 1, the binding keyed by FNV-1a of its Call-ID.
func asVersion1(t T, rec []byte, callID string) []byte {
	t.Helper()
	if len(rec) != recordHeader+recordBinding || rec[3] != 1 {
		t.Fatalf("want a record with one binding, got %d bytes", len(rec))
	}
	h := fnv.New64a()
	h.Write([]byte(callID))
	rec[0] = 1
	binary.LittleEndian.PutUint64(rec[recordHeader:], h.Sum64())
	return rec
}
