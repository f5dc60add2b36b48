package host

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/abi"
)

func TestMemStore(t *testing.T) {
	s := NewMemStore()
	f := flowN(1)
	if _, ok := s.Get(f, nil); ok {
		t.Fatal("empty store has a record")
	}
	s.Put(f, []byte("abc"))
	rec, ok := s.Get(f, make([]byte, 0, 8))
	if !ok || string(rec) != "abc" {
		t.Fatalf("Get = %q, %v", rec, ok)
	}
	s.Put(f, []byte("de"))
	if rec, _ := s.Get(f, nil); string(rec) != "de" {
		t.Fatalf("after overwrite %q", rec)
	}
	if s.Len() != 1 {
		t.Fatal(s.Len())
	}
	s.Delete(f)
	s.Delete(f)
	if s.Len() != 0 {
		t.Fatal(s.Len())
	}
	// Round trip of the packed key.
	g := Flow{Transport: abi.TransportTLS, Local: netip.MustParseAddrPort("[2001:db8::1]:5061"), Remote: netip.MustParseAddrPort("10.0.0.1:40000")}
	k := keyOf(g)
	if k.flow() != g {
		t.Fatalf("key round trip: %+v", k.flow())
	}
}

func TestStoreLockSerialises(t *testing.T) {
	s := NewMemStore()
	f := flowN(3)
	var wg sync.WaitGroup
	n := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				u := s.Lock(f)
				n++
				u()
			}
		}()
	}
	wg.Wait()
	if n != 8000 {
		t.Fatalf("n = %d: the flow lock did not serialise", n)
	}
}

const timerMsg = "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1;keep\r\nX-Timer-Ms: 40\r\n\r\n"

// The good fixture asks for a timer 40 ms out: it must fire about then,
// carry the record, and hand its action (a ping) to the ActionHandler.
func TestTimersFireAtDeadline(t *testing.T) {
	type fired struct {
		f  Flow
		a  abi.Action
		at time.Time
	}
	ch := make(chan fired, 16)
	h := newHost(t, WithModuleFile(fixture(t, "good")),
		WithActionHandler(func(f Flow, a abi.Action) { ch <- fired{f, a, time.Now()} }))
	ctx := context.Background()
	f := flowN(9)
	ev := reqEvent(f, timerMsg)
	ev.FlowID = 77
	start := time.Now()
	res := h.Handle(ctx, ev)
	if !res.Entered || res.FailedOpen {
		t.Fatalf("Handle = %+v", res)
	}
	if !bytes.Contains(res.Message, []byte(";keep=30\r\n")) || len(res.Edits) != 1 {
		t.Fatalf("edit not applied: %q", res.Message)
	}
	if _, ok := h.tim.deadline(f); !ok {
		t.Fatal("no timer scheduled")
	}
	select {
	case x := <-ch:
		d := x.at.Sub(start)
		if x.f != f || x.a.Kind != abi.ActSendPing || x.a.FlowID != 0 || d < 35*time.Millisecond || d > 2*time.Second {
			t.Fatalf("fired %+v after %v", x, d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("timer did not fire")
	}
	// on_timer returned no deadline: nothing pending; the record counts one fire.
	time.Sleep(10 * time.Millisecond)
	if n := h.tim.len(); n != 0 {
		t.Fatalf("%d timers pending", n)
	}
	if rec, _ := h.store.Get(f, nil); len(rec) != 3 || rec[2] != 1 {
		t.Fatalf("record after timer: %v", rec)
	}
}

func TestTimerCancelledOnDelete(t *testing.T) {
	var mu sync.Mutex
	acts := 0
	h := newHost(t, WithModuleFile(fixture(t, "good")),
		WithActionHandler(func(Flow, abi.Action) { mu.Lock(); acts++; mu.Unlock() }))
	ctx := context.Background()
	f := flowN(10)
	h.Handle(ctx, reqEvent(f, timerMsg))
	if h.tim.len() != 1 || h.Flows() != 1 {
		t.Fatalf("timers %d flows %d", h.tim.len(), h.Flows())
	}
	res := h.Handle(ctx, reqEvent(f, "BYE sip:x SIP/2.0\r\n\r\n"))
	if !res.Entered || res.Reason != abi.ReasonDialogEnded {
		t.Fatalf("BYE: %+v", res)
	}
	if h.tim.len() != 0 || h.Flows() != 0 {
		t.Fatalf("after delete: timers %d flows %d", h.tim.len(), h.Flows())
	}
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if acts != 0 {
		t.Fatal("a cancelled timer fired")
	}
}

func TestWithoutTimersCallReportsDeadline(t *testing.T) {
	h := newHost(t, WithModuleFile(fixture(t, "good")), WithoutTimers())
	ev := reqEvent(flowN(1), timerMsg)
	now := time.UnixMilli(1_700_000_000_000)
	ev.Now = now
	cr := h.Call(context.Background(), &ev, nil)
	if !cr.RecordChanged || !cr.Deadline.Equal(now.Add(40*time.Millisecond)) || len(cr.Record) != 3 {
		t.Fatalf("Call = %+v", cr)
	}
	tev := Event{Kind: abi.KindNone, Flow: flowN(1), FlowID: 5}
	cr = h.Call(context.Background(), &tev, cr.Record)
	if len(cr.Actions) != 1 || cr.Actions[0].FlowID != 5 || cr.Record[2] != 1 {
		t.Fatalf("timer Call = %+v", cr)
	}
}

func TestFastPath(t *testing.T) {
	h := newHost(t, WithModuleFile(fixture(t, "good")))
	ctx := context.Background()
	out := reqEvent(flowN(1), optionsMsg)
	out.Dir = abi.DirOut
	if res := h.Handle(ctx, out); res.Entered {
		t.Fatal("outgoing OPTIONS entered the guest")
	}
	reg := reqEvent(flowN(1), "REGISTER sip:x SIP/2.0\r\n\r\n")
	reg.Dir = abi.DirOut
	if res := h.Handle(ctx, reg); !res.Entered {
		t.Fatal("outgoing REGISTER (sender method) skipped the guest")
	}
	for _, k := range []abi.Kind{abi.KindSTUN, abi.KindPing, abi.KindPong} {
		ev := Event{Kind: k, Dir: abi.DirIn, Flow: flowN(2), Message: []byte("\r\n\r\n")}
		if res := h.Handle(ctx, ev); res.Entered {
			t.Fatalf("kind %d on a flow without record entered", k)
		}
	}
	keepOut := reqEvent(flowN(3), "OPTIONS sip:x SIP/2.0\r\nVia: a;KEEP\r\n\r\n")
	if res := h.Handle(ctx, keepOut); !res.Entered {
		t.Fatal("KEEP (upper case) skipped the guest")
	}
	// A received request on a flow with no record has nothing for the
	// plugin, even with keep: the negotiation happens on its response.
	recv := reqEvent(flowN(4), "REGISTER sip:x SIP/2.0\r\nVia: a;keep\r\n\r\n")
	recv.Dir = abi.DirIn
	if res := h.Handle(ctx, recv); res.Entered {
		t.Fatal("a received REGISTER on a flow without record entered the guest")
	}
	// Sender disabled: an outgoing REGISTER without keep passes.
	if _, err := h.Configure(ctx, nil); err != nil {
		t.Fatal(err)
	}
	h.fast.Store(newFastPolicy(nil))
}

// The MemStore against a map, through inserts, overwrites across size
// classes, deletes (the index's backward shift) and timers (the per-shard
// heaps and the entries' heap positions).
func TestMemStoreMatchesMap(t *testing.T) {
	s := NewMemStore()
	if !s.claimTimers() || s.claimTimers() {
		t.Fatal("claimTimers")
	}
	type want struct {
		rec  []byte
		when int64
	}
	ref := map[int]*want{}
	rng := rand.New(rand.NewPCG(1, 2))
	const flows = 5000
	for step := range 200_000 {
		i := rng.IntN(flows)
		f, k := manyFlow(i), keyOf(manyFlow(i))
		switch op := rng.IntN(10); {
		case op < 4:
			rec := make([]byte, rng.IntN(abi.MaxRecord+1)*rng.IntN(2)/(1+rng.IntN(8)))
			for j := range rec {
				rec[j] = byte(step + j)
			}
			s.Put(f, rec)
			if ref[i] == nil {
				ref[i] = &want{when: -1}
			}
			ref[i].rec = rec
		case op < 6:
			s.Delete(f)
			delete(ref, i)
		case op < 8:
			when := rng.Int64N(1000)
			s.set(k, when)
			if ref[i] != nil {
				ref[i].when = when
			}
		case op < 9:
			s.cancel(k)
			if ref[i] != nil {
				ref[i].when = -1
			}
		default:
			now := rng.Int64N(1000)
			due, _ := s.due(now, nil, 1<<30, 0)
			for _, k := range due {
				f := k.flow()
				j := int(f.Remote.Addr().As4()[2])<<8 | int(f.Remote.Addr().As4()[3])
				if w := ref[j]; w == nil || w.when < 0 || w.when > now {
					t.Fatalf("step %d: flow %d due at %d, want %+v", step, j, now, w)
				}
				ref[j].when = -1
			}
			for j, w := range ref {
				if w.when >= 0 && w.when <= now {
					t.Fatalf("step %d: flow %d (when %d) not due at %d", step, j, w.when, now)
				}
			}
		}
		if step%1000 == 0 || step == 199_999 {
			if s.Len() != len(ref) {
				t.Fatalf("step %d: Len %d, want %d", step, s.Len(), len(ref))
			}
			timed := 0
			for j := range flows {
				g := manyFlow(j)
				gk := keyOf(g)
				rec, ok := s.Get(g, nil)
				w := ref[j]
				if ok != (w != nil) || (ok && !bytes.Equal(rec, w.rec)) {
					t.Fatalf("step %d flow %d: Get = %d bytes %v, want %+v", step, j, len(rec), ok, w)
				}
				when, ok := s.deadline(gk)
				if w != nil && w.when >= 0 {
					timed++
					if !ok || when != w.when {
						t.Fatalf("step %d flow %d: deadline %d %v, want %d", step, j, when, ok, w.when)
					}
				} else if ok {
					t.Fatalf("step %d flow %d: deadline %d, want none", step, j, when)
				}
			}
			if s.count() != timed {
				t.Fatalf("step %d: %d timers, want %d", step, s.count(), timed)
			}
		}
	}
}

// Forget drops a flow the adapter saw end: record and timer go, and the
// timer never fires.
func TestForgetDropsRecordAndTimer(t *testing.T) {
	var mu sync.Mutex
	acts := 0
	h := newHost(t, WithModuleFile(fixture(t, "good")),
		WithActionHandler(func(Flow, abi.Action) { mu.Lock(); acts++; mu.Unlock() }))
	f := flowN(11)
	h.Handle(context.Background(), reqEvent(f, timerMsg))
	if h.tim.len() != 1 || h.Flows() != 1 {
		t.Fatalf("timers %d flows %d", h.tim.len(), h.Flows())
	}
	h.Forget(f)
	if h.tim.len() != 0 || h.Flows() != 0 {
		t.Fatalf("after Forget: timers %d flows %d", h.tim.len(), h.Flows())
	}
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if acts != 0 {
		t.Fatal("a forgotten flow's timer fired")
	}
}

// A failed on_timer re-arms the flow's timer: the scheduler had already
// taken the deadline off its queue.
func TestFailedTimerIsRetried(t *testing.T) {
	h := newHost(t, WithModuleFile(fixture(t, "good")))
	f := flowN(12)
	h.Handle(context.Background(), reqEvent(f, timerMsg))
	h.tim.cancel(f)
	if err := h.SwapFile(context.Background(), fixture(t, "trap")); err != nil {
		t.Fatalf("swapping in the trap fixture: %v", err)
	}
	res := h.Timer(context.Background(), f)
	if !res.FailedOpen {
		t.Fatalf("on_timer on the trap fixture: %+v", res)
	}
	if _, ok := h.tim.deadline(f); !ok {
		t.Fatal("no timer after a failed on_timer: the flow's keep-alives would stop for good")
	}
}
