package host

import (
	"context"
	"fmt"
	"testing"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/internal/testwasm"
)

const (
	quietOK = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1;keep\r\n" +
		"From: <sip:alice@example.com>;tag=a\r\nTo: <sip:alice@example.com>;tag=r\r\nCall-ID: q1\r\n" +
		"CSeq: 1 REGISTER\r\nContact: <sip:alice@127.0.0.1:5070>;expires=600\r\nContent-Length: 0\r\n\r\n"
	quietRefresh = "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-2;keep\r\n" +
		"From: <sip:alice@example.com>;tag=a\r\nTo: <sip:alice@example.com>\r\nCall-ID: q1\r\n" +
		"CSeq: 2 REGISTER\r\nContact: <sip:alice@127.0.0.1:5070>%s\r\n%sContent-Length: 0\r\n\r\n"
)

// TestQuietRefresh: with a plugin that declares FeatureQuietRefresh, a
// received REGISTER on a flow with a record skips the guest unless it may
// be a de-registration; without the feature it always enters.
func TestQuietRefresh(t *testing.T) {
	ctx := context.Background()
	h := newHost(t, WithModuleFile(testwasm.Path(t)))
	if !h.gen.Load().info.Features.Has(abi.FeatureQuietRefresh) {
		t.Fatal("the plugin does not declare FeatureQuietRefresh")
	}
	f := flowN(1)
	ok := Event{Kind: abi.KindSIPResponse, Dir: abi.DirOut, Flow: f, Role: abi.RoleProxy, Message: []byte(quietOK)}
	if res := h.Handle(ctx, ok); !res.Entered || res.Reason != abi.ReasonEdited {
		t.Fatalf("granting keep: %+v", res)
	}
	in := func(contactParams, extra string) Event {
		return Event{Kind: abi.KindSIPRequest, Dir: abi.DirIn, Flow: f, Role: abi.RoleProxy,
			Message: []byte(fmt.Sprintf(quietRefresh, contactParams, extra))}
	}
	if res := h.Handle(ctx, in(";expires=600", "")); res.Entered {
		t.Fatal("a refresh on a flow with a record entered the guest")
	}
	for _, ev := range []Event{in(";expires=0", ""), in("", "Expires: 0\r\n")} {
		h.Handle(ctx, ok) // the binding again
		if res := h.Handle(ctx, ev); !res.Entered || res.Reason != abi.ReasonRegistrationEnded {
			t.Fatalf("a de-registration: %+v", res)
		}
	}
	// The store-less Call (the Kamailio adapter's) skips it too, and keeps
	// the caller's record.
	h.Handle(ctx, ok)
	rec, _ := h.store.Get(f, nil)
	ev := in(";expires=600", "")
	if cr := h.Call(ctx, &ev, rec); cr.Entered || cr.RecordChanged || cr.RecordDeleted || string(cr.Message) != string(ev.Message) {
		t.Fatalf("Call on a quiet refresh: %+v", cr)
	}
	ev = in("", "Expires: 0\r\n")
	if cr := h.Call(ctx, &ev, rec); !cr.Entered || !cr.RecordDeleted {
		t.Fatalf("Call on a de-registration: %+v", cr)
	}
	// A module without the feature sees every received request on a flow
	// with a record.
	g := newHost(t, WithModuleFile(fixture(t, "good")))
	g.store.Put(f, []byte{1})
	if res := g.Handle(ctx, in(";expires=600", "")); !res.Entered {
		t.Fatal("a refresh skipped a module without FeatureQuietRefresh")
	}
}
