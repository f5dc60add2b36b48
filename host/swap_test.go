package host

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/abi/proto"
	"github.com/sipkeep/sipkeep/internal/testwasm"
)

// Many goroutines call Handle while the module is swapped back and forth
// between the real plugin and the good fixture: no call may fail, and the
// records the good fixture keeps must survive every swap.
func TestSwapUnderLoad(t *testing.T) {
	real := readFile(t, testwasm.Path(t))
	good := readFile(t, fixture(t, "good"))
	// A call timeout far above a call's cost: the test checks that swaps
	// lose no call, not how fast calls are on a loaded machine (with the
	// default 100 ms, a descheduled caller times out there).
	h := newHost(t, WithModuleBytes(good), WithPoolSize(4), WithCallTimeout(5*time.Second))
	ctx := context.Background()

	// Flows with records (the good fixture stores one for "keep" messages).
	const flows = 16
	for i := range flows {
		if res := h.Handle(ctx, reqEvent(flowN(i), registerMsg)); res.FailedOpen {
			t.Fatal(res.Err)
		}
	}
	if h.Flows() != flows {
		t.Fatalf("flows = %d", h.Flows())
	}
	var stop atomic.Bool
	var calls, failed atomic.Int64
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				msg := optionsMsg
				if i%2 == 0 {
					msg = registerMsg
				}
				res := h.Handle(ctx, reqEvent(flowN((w*7+i)%flows), msg))
				calls.Add(1)
				if res.FailedOpen {
					failed.Add(1)
					t.Errorf("call failed during swaps: %v", res.Err)
					return
				}
			}
		}()
	}
	// Same bytes first: the records must be exactly those of before.
	for i := range 3 {
		if err := h.Swap(ctx, good); err != nil {
			t.Fatalf("swap %d: %v", i, err)
		}
		if h.Flows() != flows {
			t.Fatalf("after swap %d: flows = %d", i, h.Flows())
		}
		for f := range flows {
			if rec, ok := h.store.Get(flowN(f), nil); !ok || len(rec) != 3 || rec[0] != 1 {
				t.Fatalf("after swap %d: flow %d record %v", i, f, rec)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Then the real plugin and back (it may rewrite the fixture's records
	// as its own: only the calls are checked).
	for i := range 3 {
		b := real
		if i%2 == 1 {
			b = good
		}
		if err := h.Swap(ctx, b); err != nil {
			t.Fatalf("swap %d: %v", i, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	if failed.Load() != 0 || calls.Load() == 0 {
		t.Fatalf("calls %d, failed %d", calls.Load(), failed.Load())
	}
	if g := h.Generation().Number; g != 7 {
		t.Fatalf("generation %d, want 7", g)
	}
	if n := len(h.History()); n != 6 {
		t.Fatalf("history has %d entries", n)
	}
	t.Logf("%d calls across 6 swaps, 0 failed", calls.Load())
}

func TestWatchSwapsOnChange(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "plugin.wasm")
	if err := os.WriteFile(path, readFile(t, fixture(t, "good")), 0o644); err != nil {
		t.Fatal(err)
	}
	h := newHost(t, WithModuleFile(path), WithWatch(20*time.Millisecond))
	// Replace by rename, as deployments do.
	tmp := filepath.Join(dir, "new.wasm")
	os.WriteFile(tmp, readFile(t, testwasm.Path(t)), 0o644)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for h.Generation().Number < 2 {
		if time.Now().After(deadline) {
			t.Fatal("watched file changed but no swap")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if h.History()[0].Reason != "watch" {
		t.Fatalf("history = %+v", h.History())
	}
	// A broken file is refused and the good one keeps serving.
	os.WriteFile(tmp, []byte("garbage"), 0o644)
	os.Rename(tmp, path)
	time.Sleep(200 * time.Millisecond)
	if h.Generation().Number != 2 {
		t.Fatal("garbage was swapped in")
	}
	if err := h.Reload(context.Background()); err == nil {
		t.Fatal("Reload of garbage succeeded")
	}
}

// The built plugin is a valid go-plugin plugin: the generated loader
// accepts it and its typed calls work.
func TestGoPluginLoad(t *testing.T) {
	ctx := context.Background()
	p, err := proto.NewControlPlugin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.Load(ctx, testwasm.Path(t))
	if err != nil {
		t.Fatalf("go-plugin Load: %v", err)
	}
	defer c.Close(ctx)
	d, err := c.Describe(ctx, &proto.DescribeRequest{})
	if err != nil || d.GetAbiVersion() != abi.Version {
		t.Fatalf("Describe = %v, %v", d, err)
	}
	rep, err := c.Configure(ctx, &proto.ConfigureRequest{Policy: &proto.Policy{ReceiverKeepSeconds: 40}})
	if err != nil || rep.GetError() != "" || rep.GetEffective().GetReceiverKeepSeconds() != 40 {
		t.Fatalf("Configure = %v, %v", rep, err)
	}
}
