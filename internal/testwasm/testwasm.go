// Package testwasm builds the sipkeep plugin to WebAssembly for tests, once
// per test process, so `go test ./...` works without `make plugin` first.
package testwasm

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var (
	once     sync.Once
	path     string
	buildErr error
)

// Path returns the path of a freshly built sipkeep.wasm (the ./plugin
// package built with GOOS=wasip1 GOARCH=wasm -buildmode=c-shared). If the
// environment sets SIPKEEP_WASM, that file is used instead.
func Path(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("SIPKEEP_WASM"); p != "" {
		return p
	}
	once.Do(func() { path, buildErr = build("./plugin", "sipkeep.wasm") })
	if buildErr != nil {
		tb.Fatalf("building the plugin: %v", buildErr)
	}
	return path
}

// Build builds the wasip1 reactor module in pkg (a path relative to the
// module root, e.g. "./host/internal/testdata/trap") into a temporary file and
// returns its path. Builds are not cached beyond Go's own build cache.
func Build(tb testing.TB, pkg string) string {
	tb.Helper()
	p, err := build(pkg, filepath.Base(pkg)+".wasm")
	if err != nil {
		tb.Fatalf("building %s: %v", pkg, err)
	}
	return p
}

// PluginGCFlags are the compiler flags the plugin is built with, here and
// in the Makefile (TestMakefileBuildsLikeTests keeps the two equal): the
// scanner is compiled without bounds checks in the guest, like its wasm
// assembly (RATIONALE.md, "The scanner is compiled without bounds checks
// in the guest").
const PluginGCFlags = "github.com/sipkeep/sipkeep/plugin/internal/sipscan=-B"

func build(pkg, name string) (string, error) {
	dir, err := os.MkdirTemp("", "sipkeep-wasm-")
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, name)
	cmd := exec.Command(goBin(), "build", "-buildmode=c-shared", "-ldflags=-s -w", "-gcflags="+PluginGCFlags, "-o", out, pkg)
	cmd.Dir = ModuleRoot()
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOFLAGS=-buildvcs=false")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", &buildError{pkg: pkg, out: string(b), err: err}
	}
	return out, nil
}

type buildError struct {
	pkg, out string
	err      error
}

func (e *buildError) Error() string { return "go build " + e.pkg + ": " + e.err.Error() + "\n" + e.out }

// ModuleRoot returns the directory of the sipkeep go.mod.
func ModuleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// goBin is the go command to build with: "go", which go test resolves to
// its own toolchain (it puts its GOROOT/bin first on a test's PATH).
func goBin() string { return "go" }
