package opensips

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/hostadapters/internal/siptest"
)

// TestOpenSIPSHotSwap swaps the plugin with sipkeep_reload under sipp load
// without restarting OpenSIPS: a good module is taken, a broken one is
// refused and the old one keeps serving; no transaction fails and every
// 200 OK keeps granting keep=N.
func TestOpenSIPSHotSwap(t *testing.T) {
	siptest.NeedSipp(t)
	s := start(t, options{})
	good := filepath.Join(s.Dir, "sipkeep-v2.wasm")
	siptest.CopyFile(t, s.Module, good)
	broken := filepath.Join(s.Dir, "broken.wasm")
	if err := os.WriteFile(broken, []byte("\x00asm\x01\x00\x00\x00 not a module"), 0o644); err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	dir := t.TempDir()
	go func() {
		_, err := sipp(dir, s, siptest.SippRun{Calls: 1000, Rate: 250, Limit: 50, CheckKeep: true})
		done <- err
	}()
	time.Sleep(800 * time.Millisecond)
	res, err := s.mi(t, "sipkeep_reload", map[string]string{"module": good})
	if err != nil {
		t.Fatalf("sipkeep_reload %s: %v", good, err)
	}
	t.Logf("sipkeep_reload (good): %s", res)
	time.Sleep(800 * time.Millisecond)
	res, err = s.mi(t, "sipkeep_reload", map[string]string{"module": broken})
	if err == nil {
		t.Errorf("sipkeep_reload accepted a broken module: %s", res)
	} else {
		t.Logf("sipkeep_reload (broken) refused: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("a transaction failed during the swaps: %v", err)
	}

	mod, svc := s.stats(t)
	if num(svc, "generation") != 2 {
		t.Errorf("plugin generation %v after one good and one refused swap, want 2 (%v)", svc["generation"], svc)
	}
	if num(mod, "failed_open") != 0 {
		t.Errorf("calls failed open during the swaps: %v", mod)
	}
	if !s.logContains("refused; the old module keeps serving") {
		t.Error("no refusal logged for the broken module")
	}
	// After the refusal the module of generation 2 still serves.
	u := siptest.NewUA(t, "UDP", s.Addr())
	if v, _ := siptest.ViaKeep(siptest.Headers(u.Register("after", s.Addr(), ";keep"), "Via")[0]); v != "3" {
		t.Errorf("keep=%q after the refused swap, want 3", v)
	}
	flows, err := s.mi(t, "sipkeep_flows", nil)
	if err != nil {
		t.Fatalf("sipkeep_flows: %v", err)
	}
	var f struct{ Flows []string }
	if err := json.Unmarshal(flows, &f); err != nil || len(f.Flows) == 0 {
		t.Errorf("sipkeep_flows: want the registered flows, got %s (%v)", flows, err)
	}
	t.Logf("sipkeep_flows: %d flows, first %q", len(f.Flows), f.Flows[0])
}
