package host

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/abi/proto"
	"github.com/sipkeep/sipkeep/internal/testwasm"
)

func TestLoadRealPlugin(t *testing.T) {
	h := newHost(t, WithModuleFile(testwasm.Path(t)))
	gi := h.Generation()
	if gi.Number != 1 || len(gi.SHA256) != 64 || gi.ABI>>16 != abi.VersionMajor {
		t.Fatalf("generation = %+v", gi)
	}
	if !gi.Features.Has(abi.FeatureControlPlane) {
		t.Fatalf("features %#x lack the control plane", gi.Features)
	}
	d, err := h.Describe(context.Background())
	if err != nil || d.GetName() != "sipkeep" {
		t.Fatalf("Describe = %v, %v", d, err)
	}
	if _, err := h.Stats(context.Background()); err != nil {
		t.Fatalf("Stats: %v", err)
	}
}

func TestHandleEntersGuestForKeep(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  Option
	}{
		{"wasm", WithModuleFile(testwasm.Path(t))},
		{"native", WithNativeGuest(nativeKeep)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHost(t, tc.opt)
			res := h.Handle(context.Background(), reqEvent(flowN(1), registerMsg))
			if !res.Entered || res.FailedOpen || res.Err != nil {
				t.Fatalf("Handle = %+v", res)
			}
			if len(res.Edits) == 0 && !bytes.Equal(res.Message, []byte(registerMsg)) {
				t.Fatalf("message changed without edits")
			}
			res = h.Handle(context.Background(), reqEvent(flowN(2), optionsMsg))
			if res.Entered || res.FailedOpen || string(res.Message) != optionsMsg {
				t.Fatalf("fast path: %+v", res)
			}
		})
	}
}

func TestCallStoreLess(t *testing.T) {
	h := newHost(t, WithModuleFile(testwasm.Path(t)))
	ev := reqEvent(flowN(1), registerMsg)
	cr := h.Call(context.Background(), &ev, nil)
	if !cr.Entered || cr.FailedOpen {
		t.Fatalf("Call = %+v", cr)
	}
	ev = Event{Kind: abi.KindNone, Flow: flowN(1)}
	cr = h.Call(context.Background(), &ev, []byte{1})
	if !cr.Entered || cr.FailedOpen {
		t.Fatalf("Call(timer) = %+v", cr)
	}
	bad := Event{Kind: 99, Dir: abi.DirIn, Flow: flowN(1)}
	cr = h.Call(context.Background(), &bad, nil)
	if !cr.FailedOpen || cr.Err == nil {
		t.Fatalf("bad kind: %+v", cr)
	}
}

func TestConcurrentCalls(t *testing.T) {
	h := newHost(t, WithModuleFile(testwasm.Path(t)), WithPoolSize(4))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				res := h.Handle(context.Background(), reqEvent(flowN(g*1000+i%7), registerMsg))
				if res.FailedOpen {
					errs <- res.Err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestConfigure(t *testing.T) {
	h := newHost(t, WithModuleFile(testwasm.Path(t)))
	eff, err := h.Configure(context.Background(), &proto.Policy{ReceiverKeepSeconds: 45})
	if err != nil || eff.GetReceiverKeepSeconds() != 45 {
		t.Fatalf("Configure = %v, %v", eff, err)
	}
	_, err = h.Configure(context.Background(), &proto.Policy{FloorSeconds: 100, CeilingSeconds: 50})
	if err == nil || !strings.Contains(err.Error(), "floor_seconds") {
		t.Fatalf("bad policy accepted: %v", err)
	}
	if h.Policy().GetReceiverKeepSeconds() != 45 {
		t.Fatalf("refused policy replaced the old one")
	}
	// Every instance serves with the new policy.
	res := h.Handle(context.Background(), reqEvent(flowN(1), registerMsg))
	if res.FailedOpen {
		t.Fatal(res.Err)
	}
}
