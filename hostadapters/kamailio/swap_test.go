package kamailio

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// TestKamailioHotSwap swaps the plugin under sipp load without restarting
// Kamailio: a good module is taken by the workers, a broken one is refused
// and the old one keeps serving; no transaction fails and every 200 OK
// keeps granting keep=N.
func TestKamailioHotSwap(t *testing.T) {
	needSipp(t)
	k := startKamailio(t, kamOptions{})
	good := filepath.Join(k.Dir, "sipkeep-v2.wasm")
	copyFile(t, k.Module, good)
	broken := filepath.Join(k.Dir, "broken.wasm")
	if err := os.WriteFile(broken, []byte("\x00asm\x01\x00\x00\x00 not a module"), 0o644); err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	dir := t.TempDir()
	go func() {
		_, err := sipp(dir, k, sippRun{Calls: 600, Rate: 200, Limit: 50, CheckKeep: true})
		done <- err
	}()
	time.Sleep(700 * time.Millisecond)
	k.kamcmd(t, "htable.sets", "sipkeep", "module", good)
	k.kamcmd(t, "htable.seti", "sipkeep", "gen", "2")
	time.Sleep(1000 * time.Millisecond)
	k.kamcmd(t, "htable.sets", "sipkeep", "module", broken)
	k.kamcmd(t, "htable.seti", "sipkeep", "gen", "3")
	if err := <-done; err != nil {
		t.Fatalf("a transaction failed during the swaps: %v", err)
	}

	dump := k.kamcmd(t, "htable.dump", "sipkeep")
	swapped := countEntries(dump, "swapped", "2")
	refused := countEntries(dump, "refused", "3")
	t.Logf("workers that swapped to generation 2: %d; that refused generation 3: %d", swapped, refused)
	if swapped == 0 || refused == 0 {
		t.Errorf("want workers that swapped (gen 2) and refused (gen 3):\n%s", dump)
	}
	if !k.logContains("refused generation 3") {
		t.Error("no refusal logged for the broken module")
	}
	// After the refusal the module of generation 2 still serves.
	u := newUA(t, "UDP", k.Addr())
	if v, _ := viaKeep(headers(u.register("after", k.Addr(), ";keep"), "Via")[0]); v == "" {
		t.Error("no keep=N after the refused swap")
	}
}

var entryRe = regexp.MustCompile(`name:\s*(\w+)::(\d+)\s+value:\s*(\d+)`)

func countEntries(dump, kind, value string) int {
	n := 0
	for _, m := range entryRe.FindAllStringSubmatch(dump, -1) {
		if m[1] == kind && m[3] == value {
			n++
		}
	}
	return n
}
