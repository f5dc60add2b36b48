package opensips

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sipkeep/sipkeep/internal/testwasm"
)

// TestAdapterUnittest runs test_sipkeep_opensips.py (python3 -m unittest)
// with the real libsipkeep.so and plugin.
func TestAdapterUnittest(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed: skipping")
	}
	lib := filepath.Join(t.TempDir(), "libsipkeep.so")
	build := exec.Command("go", "build", "-buildmode=c-shared", "-o", lib, "./hostadapters/capi")
	build.Dir = testwasm.ModuleRoot()
	build.Env = append(os.Environ(), "CGO_ENABLED=1", "GOFLAGS=-buildvcs=false")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building libsipkeep.so: %v\n%s", err, out)
	}
	cmd := exec.Command(py, "-m", "unittest", "-v", "test_sipkeep_opensips")
	cmd.Env = append(os.Environ(), "SIPKEEP_LIB="+lib, "SIPKEEP_MODULE="+testwasm.Path(t),
		"SIPKEEP_OPTIONS=log=none", "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("python3 -m unittest: %v", err)
	}
}
