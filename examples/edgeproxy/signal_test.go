package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/internal/testnet"
	"github.com/sipkeep/sipkeep/internal/testwasm"
)

// The real binary with a module file that becomes one whose _initialize
// never returns: SIGHUP reloads it in the background and it is refused
// (the old module keeps answering REGISTERs), a SIGHUP during that reload
// is refused rather than queued, and SIGTERM sent while such a reload is
// loading stops the process.
func TestBinary_SlowInitializeReloadThenSIGTERM(t *testing.T) {
	need(t, "sipp")
	bin := buildBinary(t)
	slow := testwasm.Build(t, "./host/internal/testdata/initloop")
	module := filepath.Join(t.TempDir(), "plugin.wasm")
	copyFile(t, testwasm.Path(t), module)

	p, sipAddr, _ := runBinary(t, bin, "--wasm", module, "--watch=false")
	copyFile(t, slow, module)

	p.signal(syscall.SIGHUP)
	waitFor(t, 10*time.Second, func() bool { return strings.Contains(p.out.String(), "reloading the plugin") }, p)
	p.signal(syscall.SIGHUP) // during the reload (or just after: then it is a second refused reload)
	waitFor(t, 60*time.Second, func() bool {
		out := p.out.String()
		// The second SIGHUP is handled either way: refused while the
		// first reload runs, or a reload of its own.
		return strings.Contains(out, "SIGHUP refused") || strings.Count(out, "reloading the plugin") == 2
	}, p)
	waitFor(t, 60*time.Second, func() bool { return strings.Count(p.out.String(), "reload failed") >= 1 }, p)
	if out := p.out.String(); !strings.Contains(out, "_initialize") {
		t.Fatalf("the refusal does not name _initialize:\n%s", tail(out, 3000))
	}
	s, msgs := sipp(t, "u1", testnet.FreePort(t), sipAddr, "register_keep.xml", "-s", "alice")
	sippOK(t, s, msgs) // keep=30 granted: the first module still serves

	// Wait out the second SIGHUP's reload if it started, then start one
	// more and stop the process while it loads.
	waitFor(t, 60*time.Second, func() bool {
		out := p.out.String()
		return strings.Count(out, "reloading the plugin") == strings.Count(out, "reload failed")
	}, p)
	n := strings.Count(p.out.String(), "reloading the plugin")
	p.signal(syscall.SIGHUP)
	waitFor(t, 10*time.Second, func() bool { return strings.Count(p.out.String(), "reloading the plugin") > n }, p)
	p.signal(syscall.SIGTERM)
	if rc := p.wait(t, 15*time.Second); rc != 0 {
		t.Fatalf("exit %d after SIGTERM during a slow reload\n%s", rc, tail(p.out.String(), 3000))
	}
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	tmp := to + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, to); err != nil {
		t.Fatal(err)
	}
}
