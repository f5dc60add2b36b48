package host

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/abi/proto"
	"github.com/sipkeep/sipkeep/internal/testwasm"
)

// TestStandingGrant: the host learns the plugin's standing grant from the
// probe, again after a policy change, none with the receiver off; and a
// response shown afterwards with its original time leaves the same record
// and deadline as one shown at once.
func TestStandingGrant(t *testing.T) {
	ctx := context.Background()
	h := newHost(t, WithModuleFile(testwasm.Path(t)))
	if n := h.StandingGrant(ctx); n != 30 {
		t.Fatalf("standing grant %d, want the default 30", n)
	}
	if _, err := h.Configure(ctx, &proto.Policy{ReceiverKeepSeconds: 45}); err != nil {
		t.Fatal(err)
	}
	if n := h.StandingGrant(ctx); n != 45 {
		t.Fatalf("after configuring 45: standing grant %d", n)
	}
	if h.Flows() != 0 {
		t.Fatalf("the probe left %d flow records", h.Flows())
	}

	sent := time.UnixMilli(1_800_000_000_000)
	at, ok := abi.StandingGrantSite([]byte(quietOK))
	if !ok {
		t.Fatal("quietOK is not covered")
	}
	now := h.Handle(ctx, Event{Kind: abi.KindSIPResponse, Dir: abi.DirOut, Flow: flowN(1), Role: abi.RoleProxy,
		Message: []byte(quietOK), Now: sent})
	later := h.Handle(ctx, Event{Kind: abi.KindSIPResponse, Dir: abi.DirOut, Flow: flowN(2), Role: abi.RoleProxy,
		Message: []byte(quietOK), Now: sent})
	if want := quietOK[:at] + "=45" + quietOK[at:]; string(now.Message) != want || string(later.Message) != want {
		t.Fatalf("grant %q / %q, want %q", now.Message, later.Message, want)
	}
	r1, _ := h.store.Get(flowN(1), nil)
	r2, _ := h.store.Get(flowN(2), nil)
	if len(r1) == 0 || string(r1) != string(r2) || !now.Deadline.Equal(later.Deadline) {
		t.Fatalf("records differ: %x / %x, deadlines %v / %v", r1, r2, now.Deadline, later.Deadline)
	}

	if _, err := h.Configure(ctx, &proto.Policy{ReceiverDisabled: true}); err != nil {
		t.Fatal(err)
	}
	if n := h.StandingGrant(ctx); n != 0 {
		t.Fatalf("receiver disabled: standing grant %d, want none", n)
	}
}

// TestSentIsComparedNotApplied: a response that already went out (Sent)
// leaves the same record and deadline as the same response shown before
// sending, and its edits come back unapplied: the message is the one
// passed in. The edits of a module that would be refused on a message
// still to go out are not refused on a sent one: nothing of them is
// written anywhere.
func TestSentIsComparedNotApplied(t *testing.T) {
	ctx := context.Background()
	h := newHost(t, WithModuleFile(testwasm.Path(t)))
	ev := Event{Kind: abi.KindSIPResponse, Dir: abi.DirOut, Flow: flowN(1), Role: abi.RoleProxy,
		Message: []byte(quietOK), Now: time.UnixMilli(1_800_000_000_000)}
	before := h.Handle(ctx, ev)
	ev.Flow, ev.Sent = flowN(2), true
	sent := h.Handle(ctx, ev)
	if before.FailedOpen || len(before.Edits) != 1 || string(before.Message) == quietOK {
		t.Fatalf("before sending: %+v", before)
	}
	if sent.FailedOpen || string(sent.Message) != quietOK || len(sent.Edits) != 1 || sent.Edits[0] != before.Edits[0] {
		t.Fatalf("sent: failed open %v (%v), message %q, edits %+v; want the message as passed and the edit %+v",
			sent.FailedOpen, sent.Err, sent.Message, sent.Edits, before.Edits)
	}
	r1, _ := h.store.Get(flowN(1), nil)
	r2, _ := h.store.Get(flowN(2), nil)
	if len(r1) == 0 || !bytes.Equal(r1, r2) || !before.Deadline.Equal(sent.Deadline) {
		t.Fatalf("records differ: %x / %x, deadlines %v / %v", r1, r2, before.Deadline, sent.Deadline)
	}

	reg := prometheus.NewRegistry()
	hi := newHost(t, WithModuleFile(fixture(t, "inject")), WithMetrics(reg))
	resp := strings.Replace(registerMsg, "REGISTER sip:example.com SIP/2.0", "SIP/2.0 200 OK", 1)
	res := hi.Handle(ctx, Event{Kind: abi.KindSIPResponse, Dir: abi.DirOut, Flow: flowN(1), Role: abi.RoleProxy,
		Message: []byte(resp), Sent: true})
	if res.FailedOpen || string(res.Message) != resp || len(res.Edits) == 0 {
		t.Fatalf("injecting module, sent: failed open %v (%v), message changed %v, edits %d",
			res.FailedOpen, res.Err, string(res.Message) != resp, len(res.Edits))
	}
	if got := counterValue(hi.met.refusedResults[refuseText]); got != 0 {
		t.Fatalf("a sent message's edits were checked and refused: %v", got)
	}
}
