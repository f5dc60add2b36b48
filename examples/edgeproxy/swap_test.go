package main_test

import (
	"github.com/sipkeep/sipkeep/internal/testwasm"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/examples/edgeproxy/proxy"
	"github.com/sipkeep/sipkeep/internal/testnet"
)

// Hot swap: a broken module written over the file is refused and the old one
// keeps serving; a good one is loaded (host WithWatch) and grants keep=30.
func TestHotSwapOnModuleFileChange(t *testing.T) {
	need(t, "sipp")
	orig, err := os.ReadFile(testwasm.Path(t))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "sipkeep.wasm")
	if err := os.WriteFile(file, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, func(c *proxy.Config) { c.Wasm, c.Watch = file, true })
	if g := p.Generation(); g != 1 {
		t.Fatalf("generation %d at start", g)
	}
	replace := func(b []byte) {
		tmp := file + ".new"
		if err := os.WriteFile(tmp, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, file); err != nil {
			t.Fatal(err)
		}
	}
	replace(orig[:len(orig)/2]) // truncated: refused
	time.Sleep(2500 * time.Millisecond)
	if g := p.Generation(); g != 1 {
		t.Fatalf("broken module loaded: generation %d", g)
	}
	s, msgs := sipp(t, "u1", testnet.FreePort(t), p.Addr(), "register_keep.xml", "-s", "carol")
	sippOK(t, s, msgs)

	// Same code, different bytes: append a wasm custom section (id 0,
	// size 6: name length 4, "swap", one payload byte).
	custom := append([]byte{0x00, 0x06, 0x04}, "swap"...)
	replace(append(append([]byte(nil), orig...), append(custom, 0x01)...))
	deadline := time.Now().Add(20 * time.Second)
	for p.Generation() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("module change not picked up")
		}
		time.Sleep(100 * time.Millisecond)
	}
	s, msgs = sipp(t, "u1", testnet.FreePort(t), p.Addr(), "register_keep.xml", "-s", "alice")
	sippOK(t, s, msgs)
}
