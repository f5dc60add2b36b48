package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/sipkeep/sipkeep/internal/testwasm"
)

// TestChildRuns: the calls icount counts succeed on both engines (valgrind
// is not needed for this; make icount runs the count itself).
func TestChildRuns(t *testing.T) {
	if err := runCalls(context.Background(), testwasm.Path(t), 3); err != nil {
		t.Fatal(err)
	}
}

// TestDumpTotal reads the totals line of a callgrind dump, and says which
// dump lacks one.
func TestDumpTotal(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	os.WriteFile(good, []byte("version: 1\nevents: Ir\nfn=x\n1 5\nsummary: 123456\ntotals: 123456\n"), 0o644)
	if n, err := dumpTotal(good); err != nil || n != 123456 {
		t.Fatalf("dumpTotal = %d, %v; want 123456", n, err)
	}
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("version: 1\nevents: Ir\n"), 0o644)
	if _, err := dumpTotal(bad); err == nil {
		t.Fatal("dumpTotal of a dump without totals: no error")
	}
	if _, err := dumpTotal(filepath.Join(dir, "none")); err == nil {
		t.Fatal("dumpTotal of a missing dump: no error")
	}
}
