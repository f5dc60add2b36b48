package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/internal/testwasm"
)

func TestLoadRefused(t *testing.T) {
	for _, tc := range []struct{ fixture, want string }{
		{"badabi", "sipkeep host: load module: export sipkeep_abi_version: ABI 2.0, this host needs 1.x"},
		{"noexport", "sipkeep host: load module: export on_timer: missing, want (i32)->i32"},
		{"badsig", "sipkeep host: load module: export on_request: want (i32)->i32, have (i64)->i32"},
		// Buffers below the ABI minimums (the host writes up to
		// MinInputCapacity bytes and trusts MinOutputCapacity).
		{"smallin", fmt.Sprintf("sipkeep host: load module: export sipkeep_input_capacity: %d bytes, the ABI needs >= %d", abi.MinInputCapacity-1, abi.MinInputCapacity)},
		{"smallout", fmt.Sprintf("sipkeep host: load module: export sipkeep_output_capacity: %d bytes, the ABI needs >= %d", abi.MinOutputCapacity-1, abi.MinOutputCapacity)},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			_, err := New(context.Background(), WithModuleFile(fixture(t, tc.fixture)),
				WithCompilationCacheDir(cacheDir), WithLogger(quietLogger()))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want %q", err, tc.want)
			}
		})
	}
	_, err := New(context.Background(), WithModuleBytes([]byte("not wasm")), WithLogger(quietLogger()))
	if err == nil || !strings.Contains(err.Error(), "not a wasm module") {
		t.Fatalf("garbage bytes: %v", err)
	}
}

// brokenCall checks the never-break-SIP promise for one failing fixture:
// the message passes unchanged, the instance is replaced, metrics count it.
func brokenCall(t *testing.T, name string, ev Event, cause string, opts ...Option) *Host {
	t.Helper()
	reg := prometheus.NewRegistry()
	h := newHost(t, append([]Option{WithModuleFile(fixture(t, name)), WithMetrics(reg), WithPoolSize(2),
		WithCrashBudget(1000, time.Minute)}, opts...)...)
	for i := range 3 {
		res := h.Handle(context.Background(), ev)
		if !res.FailedOpen || res.Err == nil || !bytes.Equal(res.Message, ev.Message) {
			t.Fatalf("call %d: %+v", i, res)
		}
		var ce *CallError
		if !errors.As(res.Err, &ce) || ce.Cause != cause {
			t.Fatalf("call %d: err %v, want cause %s", i, res.Err, cause)
		}
	}
	if got := counterValue(h.met.failures.WithLabelValues(cause)); got != 3 {
		t.Fatalf("sipkeep_failures_total{cause=%s} = %v", cause, got)
	}
	if got := counterValue(h.met.replacements); cause != CauseErrno && got != 3 {
		t.Fatalf("replacements = %v", got)
	}
	return h
}

func TestTrapFailsOpen(t *testing.T) {
	h := brokenCall(t, "trap", reqEvent(flowN(1), registerMsg), CauseTrap)
	resp := reqEvent(flowN(1), "SIP/2.0 200 OK\r\nVia: x;keep\r\n\r\n")
	resp.Kind = abi.KindSIPResponse
	if res := h.Handle(context.Background(), resp); !res.FailedOpen {
		t.Fatalf("nil-map fixture: %+v", res)
	}
}

// Three calls that never return by themselves end as timeouts (the
// watchdog's work; brokenCall checks the cause), without a timed
// assertion: the fixture's build and the machine's load set the duration.
func TestLoopIsInterrupted(t *testing.T) {
	brokenCall(t, "loop", reqEvent(flowN(1), registerMsg), CauseTimeout, WithCallTimeout(30*time.Millisecond))
}

func TestMemoryHogDies(t *testing.T) {
	// A generous call timeout: under -race growing to the limit takes longer
	// than the default 100 ms, and the watchdog would get there first.
	brokenCall(t, "hog", reqEvent(flowN(1), registerMsg), CauseOOM, WithMemoryLimitPages(256), WithCallTimeout(10*time.Second))
}

func TestGarbageOutput(t *testing.T) {
	h := brokenCall(t, "garbage", reqEvent(flowN(1), registerMsg), CauseBadOutput)
	resp := reqEvent(flowN(1), "SIP/2.0 200 OK\r\nVia: x;keep\r\n\r\n")
	resp.Kind = abi.KindSIPResponse
	if res := h.Handle(context.Background(), resp); !res.FailedOpen || !strings.Contains(res.Err.Error(), "outside the message") {
		t.Fatalf("edit beyond message: %+v", res)
	}
	ev := Event{Kind: abi.KindNone, Flow: flowN(1)}
	if res := h.Call(context.Background(), &ev, []byte{1}); !res.FailedOpen {
		t.Fatalf("oversized output: %+v", res)
	}
}

func TestCrashBudget(t *testing.T) {
	for _, pol := range []FailurePolicy{FailOpen, FailClosed, FailReload} {
		t.Run(pol.String(), func(t *testing.T) {
			h := newHost(t, WithModuleFile(fixture(t, "trap")), WithCrashBudget(2, time.Minute), WithFailurePolicy(pol))
			ev := reqEvent(flowN(1), registerMsg)
			for range 2 {
				h.Handle(context.Background(), ev)
			}
			res := h.Handle(context.Background(), ev)
			if !res.FailedOpen || !bytes.Equal(res.Message, ev.Message) {
				t.Fatalf("after budget: %+v", res)
			}
			switch pol {
			case FailClosed:
				if !errors.Is(res.Err, ErrPluginDisabled) {
					t.Fatalf("err = %v", res.Err)
				}
			case FailOpen:
				if !errors.Is(res.Err, ErrPluginStopped) {
					t.Fatalf("err = %v", res.Err)
				}
				// A new module brings the plugin back.
				if err := h.SwapFile(context.Background(), fixture(t, "good")); err != nil {
					t.Fatal(err)
				}
				if res := h.Handle(context.Background(), ev); res.FailedOpen {
					t.Fatalf("after swap: %+v", res)
				}
			case FailReload:
				deadline := time.Now().Add(5 * time.Second)
				for h.Generation().Number < 2 {
					if time.Now().After(deadline) {
						t.Fatal("no reload after the budget was spent")
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
		})
	}
}

// A good module must keep working after bad ones were refused by Swap.
func TestSwapRefusesBadModules(t *testing.T) {
	h := newHost(t, WithModuleFile(testwasm.Path(t)))
	for _, name := range []string{"badabi", "noexport", "badsig"} {
		err := h.SwapFile(context.Background(), fixture(t, name))
		if err == nil || !strings.Contains(err.Error(), "sipkeep host: swap: load module: export") {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if err := h.Swap(context.Background(), []byte{0, 'a', 's', 'm', 9, 9}); err == nil {
		t.Fatal("garbage swapped in")
	}
	if g := h.Generation().Number; g != 1 {
		t.Fatalf("generation %d after refused swaps", g)
	}
	if res := h.Handle(context.Background(), reqEvent(flowN(1), registerMsg)); !res.Entered || res.FailedOpen {
		t.Fatalf("after refused swaps: %+v", res)
	}
	hist := h.History()
	if len(hist) != 4 || hist[0].Err == "" || hist[0].To != 0 {
		t.Fatalf("history = %+v", hist)
	}
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}

// A FailReload that the crash budget starts while Close runs: the reload
// goroutine either starts before Close waits for the background goroutines
// (and Close waits for it) or not at all (run with -race: a bg.Add racing
// bg.Wait is a WaitGroup misuse).
func TestFailReloadDuringClose(t *testing.T) {
	trap := fixture(t, "trap")
	for i := range 20 {
		h, err := New(context.Background(), WithModuleFile(trap), WithCompilationCacheDir(cacheDir),
			WithLogger(quietLogger()), WithFailurePolicy(FailReload), WithCrashBudget(1, time.Minute), WithPoolSize(1))
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			h.Handle(context.Background(), reqEvent(flowN(1), registerMsg)) // spends the budget
		}()
		if i%2 == 0 {
			time.Sleep(time.Duration(i) * 100 * time.Microsecond)
		}
		if err := h.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		<-done
		if g := h.Generation(); g.Number != 0 {
			t.Fatalf("round %d: generation %d serving after Close", i, g.Number)
		}
		if err := h.Reload(context.Background()); !errors.Is(err, ErrClosed) {
			t.Fatalf("round %d: Reload after Close: %v", i, err)
		}
		// The guard itself: once Close has begun no goroutine is started.
		if h.spawn(func() { t.Error("spawned after Close") }) {
			t.Fatalf("round %d: spawn after Close", i)
		}
	}
}
