package proxy

import (
	"fmt"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

func binding(aor, contactHost, transport, remote string, now time.Time, ttl time.Duration) *Binding {
	return &Binding{AOR: aor, Contact: sip.Uri{Scheme: "sip", User: "u", Host: contactHost},
		Expires: now.Add(ttl), Flow: Flow{Transport: transport, Remote: remote}, Registered: now}
}

// The flow and contact indexes follow every change (register, replace,
// remove, flow lost, expiry) and hold nothing once the bindings are gone,
// so RemoveFlow and ByContact touch only the bindings they concern.
func TestLocationIndexesFollowBindings(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	l := NewLocation()
	l.now = func() time.Time { return now }
	for i := range 1000 {
		aor := fmt.Sprintf("sip:user%d@example.com", i)
		if _, err := l.Update(aor, []*Binding{binding(aor, fmt.Sprintf("10.0.%d.%d", i/250, i%250), "UDP", fmt.Sprintf("192.0.2.1:%d", 10000+i), now, time.Hour)}, 10); err != nil {
			t.Fatal(err)
		}
	}
	// Three AORs over one TCP connection (a proxy or a multi-line UA).
	for i := range 3 {
		aor := fmt.Sprintf("sip:line%d@example.com", i)
		l.Update(aor, []*Binding{binding(aor, fmt.Sprintf("10.9.0.%d", i), "TCP", "192.0.2.9:5060", now, time.Hour)}, 10)
	}
	if len(l.byFlow) != 1001 || len(l.byContact) != 1003 {
		t.Fatalf("indexes: %d flows, %d contacts; want 1001, 1003", len(l.byFlow), len(l.byContact))
	}
	if b, ok := l.ByContact(sip.Uri{User: "u", Host: "10.9.0.1"}); !ok || b.AOR != "sip:line1@example.com" {
		t.Fatalf("ByContact: %+v %v", b, ok)
	}
	if n := l.RemoveFlow(Flow{Transport: "tcp", Remote: "192.0.2.9:5060"}); n != 3 {
		t.Fatalf("RemoveFlow dropped %d bindings, want 3", n)
	}
	if _, ok := l.ByContact(sip.Uri{User: "u", Host: "10.9.0.1"}); ok {
		t.Fatal("binding of the lost flow still found by contact")
	}
	if l.Len() != 1000 || len(l.byFlow) != 1000 {
		t.Fatalf("%d bindings, %d flows indexed after the flow loss", l.Len(), len(l.byFlow))
	}
	// Re-registering user0 from another flow replaces its binding.
	aor := "sip:user0@example.com"
	l.Update(aor, []*Binding{binding(aor, "10.0.0.0", "UDP", "192.0.2.2:1", now, time.Hour)}, 10)
	if n := l.RemoveFlow(Flow{Transport: "UDP", Remote: "192.0.2.1:10000"}); n != 0 {
		t.Fatalf("the replaced binding's old flow still dropped %d", n)
	}
	l.RemoveAll(aor)
	now = now.Add(2 * time.Hour) // everything else expires
	if l.Len() != 0 || len(l.byFlow) != 0 || len(l.byContact) != 0 || len(l.aors) != 0 {
		t.Fatalf("after expiry: %d bindings, indexes %d/%d, %d AORs", l.Len(), len(l.byFlow), len(l.byContact), len(l.aors))
	}
}
