package kamailio

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/hostadapters/internal/siptest"
)

// TestKamailioHotSwap swaps the plugin under sipp load without restarting
// Kamailio (kamcmd sipkeep.reload, once for the whole server): a good module
// is taken, a broken one is refused and the old one keeps serving; no
// transaction fails and every 200 OK keeps granting keep=N.
func TestKamailioHotSwap(t *testing.T) {
	siptest.NeedSipp(t)
	k := startKamailio(t, kamOptions{})
	good := filepath.Join(k.Dir, "sipkeep-v2.wasm")
	siptest.CopyFile(t, k.Module, good)
	broken := filepath.Join(k.Dir, "broken.wasm")
	if err := os.WriteFile(broken, []byte("\x00asm\x01\x00\x00\x00 not a module"), 0o644); err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	dir := t.TempDir()
	go func() {
		_, err := sipp(dir, k, siptest.SippRun{Calls: 600, Rate: 200, Limit: 50, CheckKeep: true})
		done <- err
	}()
	time.Sleep(700 * time.Millisecond)
	if out := k.kamcmd(t, "sipkeep.reload", good); !strings.Contains(out, "generation 2") {
		t.Errorf("reload of a good module: %s", out)
	}
	time.Sleep(1000 * time.Millisecond)
	// kamcmd exits 0 on an RPC fault: the fault text is the answer.
	out, err := k.kamcmdErr("sipkeep.reload", broken)
	if !strings.Contains(out, "500") || !strings.Contains(out, "refused") {
		t.Errorf("a broken module was not refused: %v\n%s", err, out)
	}
	if err := <-done; err != nil {
		t.Fatalf("a transaction failed during the swaps: %v", err)
	}
	stats := k.kamcmd(t, "sipkeep.stats")
	if lineValue(stats, "generation") != 2 || !strings.Contains(stats, "module "+good) {
		t.Errorf("after the refused swap, want generation 2 serving %s:\n%s", good, stats)
	}
	if !k.logContains("reload refused") {
		t.Error("no refusal logged for the broken module")
	}
	// After the refusal the module of generation 2 still serves.
	u := siptest.NewUA(t, "UDP", k.Addr())
	if v, _ := siptest.ViaKeep(siptest.Headers(u.Register("after", k.Addr(), ";keep"), "Via")[0]); v == "" {
		t.Error("no keep=N after the refused swap")
	}
}

// kamcmdErr runs an RPC command that may fail.
func (k *kam) kamcmdErr(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 70*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "kamcmd", append([]string{"-s", "unix:" + k.ctl}, args...)...).CombinedOutput()
	return string(out), err
}
