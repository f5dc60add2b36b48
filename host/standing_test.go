package host

import (
	"context"
	"testing"
	"time"

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
