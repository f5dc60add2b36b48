package soak_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/examples/edgeproxy/soak"
	"github.com/sipkeep/sipkeep/internal/testnet"
	"github.com/sipkeep/sipkeep/internal/testwasm"
)

// modules is the swap cycle: a good module, the slow-_initialize one
// (first among the bad: a short run may see few swaps, and it is the
// attack), corrupt, truncated. SIPKEEP_SOAK_SLOWINIT=0 leaves the slow
// one out (for a host that does not bound _initialize, where it would hold
// the swap for as long as its fuel lasts).
func modules(t *testing.T) ([]soak.Module, []byte) {
	if os.Getenv("SIPKEEP_SOAK_SLOWINIT") == "0" {
		t.Log("slow-_initialize module left out of the swap cycle (SIPKEEP_SOAK_SLOWINIT=0)")
		return []soak.Module{soak.Good, soak.Corrupt, soak.Truncated}, nil
	}
	slow, err := soak.ReadModule(testwasm.Build(t, "./examples/edgeproxy/soak/testdata/slowinit"))
	if err != nil {
		t.Fatal(err)
	}
	return []soak.Module{soak.Good, soak.SlowInit, soak.Corrupt, soak.Truncated}, slow
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func check(t *testing.T, tgt soak.Target, res *soak.Result, flows int) {
	t.Helper()
	t.Logf("soak result:\n%s", res)
	if !res.OK(flows) {
		t.Errorf("soak failed (see above); proxy log tail:\n%s", tail(tgt.Logs(), 4000))
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// The soak in miniature, in-process: 400 flows (40 over TCP) kept alive at
// keep=10, one closed-loop REGISTER client, a swap every 4 s through the
// module cycle (the next starts when the last is done), for 20 s after a
// 5 s ramp. Every REGISTER answered 200
// with keep=10, every keep-alive answered, every bad module refused and
// every good one taken, no flow lost.
func TestSoakShort(t *testing.T) {
	ms, slow := modules(t)
	good, err := soak.ReadModule(testwasm.Path(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tgt, err := soak.InProcess(ctx, t.TempDir(), testwasm.Path(t), 10)
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	cfg := soak.Config{
		Duration: 20 * time.Second, Flows: 400, TCPFlows: 40, Ramp: 5 * time.Second, Workers: 1, Keep: 10,
		SwapEvery: 4 * time.Second, SampleEvery: 5 * time.Second, Modules: ms, Good: good, SlowInit: slow,
	}
	res, err := soak.Run(ctx, tgt, cfg, func(s string) { t.Log(s) })
	if err != nil {
		t.Fatal(err)
	}
	check(t, tgt, res, cfg.Flows)
	if res.Transactions < int64(cfg.Flows)+100 {
		t.Errorf("only %d REGISTER transactions: the load did not run", res.Transactions)
	}
}

// TestSoak is `make soak`: the edgeproxy binary as an operator runs it,
// SIPKEEP_SOAK_FLOWS flows (default 10,000; a tenth over TCP) kept alive at
// keep=30, SIPKEEP_SOAK_WORKERS closed-loop REGISTER clients (default 2), a
// swap every 30 s, RSS and goroutines every 30 s, for SIPKEEP_SOAK_DURATION.
// Skipped unless SIPKEEP_SOAK_DURATION is set.
func TestSoak(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("SIPKEEP_SOAK_DURATION"))
	if err != nil {
		t.Skip("SIPKEEP_SOAK_DURATION not set (make soak sets it)")
	}
	ms, slow := modules(t)
	good, err := soak.ReadModule(testwasm.Path(t))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "edgeproxy")
	build := exec.Command("go", "build", "-o", bin, "./examples/edgeproxy")
	build.Dir = testwasm.ModuleRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx := context.Background()
	tgt, err := soak.Binary(ctx, t.TempDir(), bin, testwasm.Path(t), 30, testnet.FreePort(t), testnet.FreePort(t))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := tgt.Close(); err != nil {
			t.Error(err)
		}
	}()
	flows := envInt("SIPKEEP_SOAK_FLOWS", 10000)
	cfg := soak.Config{
		Duration: d, Flows: flows, TCPFlows: flows / 10, Ramp: 30 * time.Second,
		Workers: envInt("SIPKEEP_SOAK_WORKERS", 2), Keep: 30,
		SwapEvery: 30 * time.Second, SampleEvery: 30 * time.Second, Modules: ms, Good: good, SlowInit: slow,
	}
	res, err := soak.Run(ctx, tgt, cfg, func(s string) { t.Log(s) })
	if err != nil {
		t.Fatal(err)
	}
	check(t, tgt, res, cfg.Flows)
}
