// Command conformance prints the sipkeep conformance table: one line per
// id of abi/REQUIREMENTS.md (R1–R18, K1–K6, E7.x for RFC 6223 §7's
// example flows, and a few more), "ID PASS|FAIL TestName", each case run
// against the plugin natively and against the built wasm module.
//
//	go run ./plugin/keeptest/cmd/conformance -wasm build/sipkeep.wasm
//
// It exits non-zero when any case fails. `make conformance` runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/sipkeep/sipkeep/plugin/keep"
	"github.com/sipkeep/sipkeep/plugin/keeptest"
)

func main() {
	wasm := flag.String("wasm", os.Getenv("SIPKEEP_WASM"), "path of sipkeep.wasm (empty: native only)")
	verbose := flag.Bool("v", false, "print why a case failed")
	flag.Parse()

	var mod *keeptest.WasmModule
	if *wasm != "" {
		m, err := keeptest.CompileWasm(context.Background(), *wasm)
		if err != nil {
			fmt.Fprintln(os.Stderr, "conformance:", err)
			os.Exit(2)
		}
		defer m.Close()
		mod = m
	}
	failed := 0
	for _, c := range keeptest.Cases {
		var engines []string
		var why []string
		ok := true
		run := func(engine string, g keeptest.Guest) {
			engines = append(engines, engine)
			r := &recorder{}
			r.run(func() { c.Run(r, keeptest.New(r, g)) })
			if r.failed {
				ok = false
				why = append(why, engine+": "+r.msg)
			}
		}
		run("native", keep.New())
		if mod != nil {
			g, err := mod.NewGuest(context.Background())
			if err != nil {
				fmt.Fprintln(os.Stderr, "conformance:", err)
				os.Exit(2)
			}
			run("wasm", g)
			g.Close()
		}
		status := "PASS"
		if !ok {
			status = "FAIL"
			failed++
		}
		fmt.Printf("%-5s %s %s (%s)\n", c.ID, status, c.Name, strings.Join(engines, ", "))
		if !ok && *verbose {
			for _, w := range why {
				fmt.Printf("      %s\n", w)
			}
		}
	}
	fmt.Printf("%d passed, %d failed\n", len(keeptest.Cases)-failed, failed)
	if failed > 0 {
		os.Exit(1)
	}
}

// recorder is a keeptest.T that remembers the first failure; Fatalf ends
// the case as testing.T does, by leaving its goroutine.
type recorder struct {
	failed bool
	msg    string
}

func (r *recorder) Helper()             {}
func (r *recorder) Logf(string, ...any) {}
func (r *recorder) Errorf(format string, args ...any) {
	if !r.failed {
		r.failed, r.msg = true, fmt.Sprintf(format, args...)
	}
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

// run runs f on its own goroutine so that Fatalf can stop it.
func (r *recorder) run(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if p := recover(); p != nil {
				r.Errorf("panic: %v", p)
			}
		}()
		f()
	}()
	<-done
}
