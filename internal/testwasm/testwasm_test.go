package testwasm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMakefileBuildsLikeTests: `make plugin` and the tests' own builds of
// the plugin use the same compiler flags, so the tests run what ships.
func TestMakefileBuildsLikeTests(t *testing.T) {
	mk, err := os.ReadFile(filepath.Join(ModuleRoot(), "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "PLUGIN_GCFLAGS := " + PluginGCFlags + "\n"; !strings.Contains(string(mk), want) {
		t.Fatalf("the Makefile does not set %q", want)
	}
}
