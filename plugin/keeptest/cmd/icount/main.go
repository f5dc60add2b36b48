// Command icount counts the machine instructions one hot-path call takes,
// native and in wasm, for BenchmarkCall's four cases. Times on a shared VM
// move by 20–60 % with the neighbours' load; instruction counts under
// valgrind do not, so they tell whether a change to the plugin made its
// calls cheaper, to within a few instructions, in one run.
//
//	go build -o build/bin/icount ./plugin/keeptest/cmd/icount
//	build/bin/icount -wasm build/sipkeep.wasm
//
// (`make icount` does both; `go run` would not do: it strips the symbol
// table callgrind finds mark by.) It runs itself under valgrind's callgrind
// (Debian's valgrind package), which dumps its counters each time the
// child enters mark: one dump per case and engine, each n calls of the
// hot path as BenchmarkCall makes them (input encoded, then the call), so
// a dump's total over n is the cost of one call, host side included. The
// module is compiled and instantiated before the first mark, and the
// child runs with the GC off and one P, so that nothing else runs in a
// dump. The counts are of x86-64 instructions, not time: a load that
// misses the cache counts one.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/plugin/keep"
	"github.com/sipkeep/sipkeep/plugin/keeptest"
)

// phase is one case on one engine: a dump of its own.
type phase struct{ name, engine string }

// callCase is one of BenchmarkCall's messages, or (aors > 0)
// BenchmarkRegistrarOK and BenchmarkRegistrarManyAORs: a registrar's 200 on
// one flow, the next of aors AORs each call, the flow's record carried
// from call to call.
type callCase struct {
	name string
	kind abi.Kind
	msg  string
	aors int
}

var cases = []callCase{
	{"REGISTER/on_request", abi.KindSIPRequest, keeptest.BenchRegister, 0},
	{"REGISTER/on_response", abi.KindSIPResponse, keeptest.ResponseTo(keeptest.BenchRegister, "200 OK"), 0},
	{"INVITE/on_request", abi.KindSIPRequest, keeptest.BenchInvite, 0},
	{"INVITE/on_response", abi.KindSIPResponse, keeptest.ResponseTo(keeptest.BenchInvite, "180 Ringing"), 0},
	{"RegistrarOK", abi.KindSIPResponse, keeptest.RegistrarOK, 1},
	{"RegistrarManyAORs", abi.KindSIPResponse, keeptest.RegistrarOK, 256},
}

var engines = []string{"native", "wasm"}

func main() {
	wasm := flag.String("wasm", os.Getenv("SIPKEEP_WASM"), "path of sipkeep.wasm")
	n := flag.Int("n", 10000, "calls per case and engine")
	child := flag.Bool("child", false, "run the calls (under valgrind; internal)")
	flag.Parse()
	if *wasm == "" {
		fmt.Fprintln(os.Stderr, "icount: -wasm (or SIPKEEP_WASM) is required")
		os.Exit(2)
	}
	var err error
	if *child {
		err = runCalls(context.Background(), *wasm, *n)
	} else {
		err = measure(*wasm, *n)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "icount:", err)
		os.Exit(1)
	}
}

// phases lists the dumps the child makes after its setup, in order.
func phases() []phase {
	var ps []phase
	for _, c := range cases {
		for _, e := range engines {
			ps = append(ps, phase{c.name, e})
		}
	}
	return ps
}

// mark is where callgrind dumps its counters (--dump-before=main.mark).
//
//go:noinline
func mark(p phase) { _ = p }

// runCalls is the child: set up both engines, then one marked stretch of
// n calls per phase.
func runCalls(ctx context.Context, path string, n int) error {
	m, err := keeptest.CompileWasm(ctx, path)
	if err != nil {
		return err
	}
	defer m.Close()
	w, err := m.NewGuest(ctx)
	if err != nil {
		return err
	}
	guests := map[string]keeptest.Guest{"native": keep.New(), "wasm": w}
	for _, p := range phases() {
		c := caseNamed(p.name)
		g := guests[p.engine]
		entry := g.OnRequest
		if c.kind == abi.KindSIPResponse {
			entry = g.OnResponse
		}
		if c.aors > 0 {
			if err := registrarCalls(g, entry, c, p, n); err != nil {
				return err
			}
			continue
		}
		msg := []byte(c.msg)
		// One call outside the count: the first touches pages and caches
		// that later calls find ready.
		if r := entry(keeptest.BenchInput(g, c.kind, abi.DirOut, abi.RoleProxy, msg, nil)); r < 0 {
			return fmt.Errorf("%s/%s: errno %d", p.name, p.engine, -r)
		}
		mark(p)
		for range n {
			if r := entry(keeptest.BenchInput(g, c.kind, abi.DirOut, abi.RoleProxy, msg, nil)); r < 0 {
				return fmt.Errorf("%s/%s: errno %d", p.name, p.engine, -r)
			}
		}
	}
	mark(phase{"end", ""})
	return nil
}

// registrarCalls is a registrar case: warm calls (enough to fill the flow's
// record when there are many AORs), then a marked stretch of n, each the
// next AOR 10 ms after the last, as benchRegistrar makes them (the output decoded to carry the
// record: the same host-side work on both engines).
func registrarCalls(g keeptest.Guest, entry func(int32) int32, c callCase, p phase, n int) error {
	msgs := make([][]byte, c.aors)
	for i := range msgs {
		msgs[i] = []byte(strings.ReplaceAll(c.msg, "user1@", fmt.Sprintf("line%03d@", i)))
	}
	in := abi.Input{Kind: c.kind, Dir: abi.DirOut, Transport: abi.TransportUDP, Role: abi.RoleProxy,
		Now: 1_700_000_000_000, Random: 42, FlowID: 1}
	var rec []byte
	var out abi.Output
	i := 0
	call := func() error {
		in.Message = msgs[i%len(msgs)]
		i++
		r := entry(int32(abi.EncodeInput(g.InputBuffer(), &in)))
		if r < 0 {
			return fmt.Errorf("%s/%s: errno %d", p.name, p.engine, -r)
		}
		if err := abi.DecodeOutput(g.OutputBuffer()[:r], len(in.Message), &out); err != nil {
			return fmt.Errorf("%s/%s: %w", p.name, p.engine, err)
		}
		if out.Flags&abi.OutRecordChanged != 0 {
			rec = append(rec[:0], out.Record...)
		}
		in.Record = rec
		in.Now += 10
		return nil
	}
	for range 100 {
		if err := call(); err != nil {
			return err
		}
	}
	mark(p)
	for range n {
		if err := call(); err != nil {
			return err
		}
	}
	return nil
}

func caseNamed(name string) callCase {
	for _, c := range cases {
		if c.name == name {
			return c
		}
	}
	panic("icount: no case " + name)
}

// measure runs the child under callgrind and prints instructions per call.
func measure(wasm string, n int) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "icount")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "callgrind.out")
	cmd := exec.Command("valgrind", "--tool=callgrind", "--dump-before=main.mark",
		"--callgrind-out-file="+out, self, "-child", "-wasm", wasm, "-n", strconv.Itoa(n))
	// GC off and one P: no collector or scheduler work inside a dump.
	// No async preemption: its signals would land at random points.
	// valgrind 3.19 does not implement RDTSCP, which Go's runtime uses
	// when the CPU reports it.
	cmd.Env = append(os.Environ(), "GOGC=off", "GOMAXPROCS=1", "GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off")
	if msg, err := cmd.CombinedOutput(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return fmt.Errorf("needs valgrind (Debian: apt-get install valgrind): %w", err)
		}
		return fmt.Errorf("valgrind: %w\n%s", err, msg)
	}
	ps := phases()
	counts := make(map[phase]float64, len(ps))
	for i, p := range ps {
		// Dump 1 holds the setup; phase i is dump i+2.
		total, err := dumpTotal(fmt.Sprintf("%s.%d", out, i+2))
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("callgrind made no dump for %s/%s: is %s stripped (go run strips it)? %w", p.name, p.engine, self, err)
		}
		if err != nil {
			return err
		}
		counts[p] = float64(total) / float64(n)
	}
	fmt.Printf("instructions per call (callgrind, %d calls each; %s)\n", n, filepath.Base(wasm))
	fmt.Printf("%-22s %10s %10s %7s\n", "case", "native", "wasm", "ratio")
	for _, c := range cases {
		nat, w := counts[phase{c.name, "native"}], counts[phase{c.name, "wasm"}]
		fmt.Printf("%-22s %10.0f %10.0f %6.2fx\n", c.name, nat, w, w/nat)
	}
	return nil
}

// dumpTotal reads the instruction total of one callgrind dump.
func dumpTotal(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("callgrind dump: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "totals: "); ok {
			return strconv.ParseInt(strings.Fields(v)[0], 10, 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("callgrind dump %s: %w", path, err)
	}
	return 0, fmt.Errorf("callgrind dump %s: no totals line", path)
}
