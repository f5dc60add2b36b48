package main_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"github.com/sipkeep/sipkeep/internal/testwasm"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/examples/edgeproxy/proxy"
)

// The tests run real peers (sipp, baresip) and the real binary against the
// proxy on 127.0.0.1 only. Every process is started by the test and stopped
// by its PID in t.Cleanup, also when the test fails.

func testdata(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata", name)
}

// need skips the test when a peer program is not installed.
func need(t testing.TB, prog string) {
	t.Helper()
	if _, err := exec.LookPath(prog); err != nil {
		t.Skipf("%s is not installed (make test installs it: make deps)", prog)
	}
}

type proxyOpt func(*proxy.Config)

// startProxy runs the edge proxy in-process on a random port, with the
// plugin unless an option clears Wasm.
func startProxy(t testing.TB, opts ...proxyOpt) *proxy.Proxy {
	t.Helper()
	cfg := proxy.Defaults()
	cfg.Listen = "127.0.0.1:0"
	cfg.Wasm = testwasm.Path(t)
	cfg.Watch = false
	for _, o := range opts {
		o(&cfg)
	}
	level := slog.LevelWarn
	if testing.Verbose() {
		level = slog.LevelInfo
	}
	w := &testWriter{t: t}
	t.Cleanup(func() { w.done.Store(true) }) // runs after p.Close (LIFO)
	log := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
	p, err := proxy.New(context.Background(), cfg, proxy.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// testWriter sends the proxy's log to t.Log until the test is over (a late
// log line from a background goroutine must not panic the test binary).
type testWriter struct {
	t    testing.TB
	done atomic.Bool
}

func (w *testWriter) Write(b []byte) (int, error) {
	if !w.done.Load() {
		w.t.Log(strings.TrimRight(string(b), "\n"))
	}
	return len(b), nil
}

// proc is a peer process started by a test.
type proc struct {
	cmd  *exec.Cmd
	out  *bytes.Buffer
	done chan struct{}
	err  error
}

// start runs name with args in dir; Cleanup kills it by PID if still running.
func start(t testing.TB, dir, name string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	p := &proc{cmd: cmd, out: &bytes.Buffer{}, done: make(chan struct{})}
	var mu sync.Mutex
	w := lockedWriter{&mu, p.out}
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			// Only the process we started (and its group, which it leads).
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	})
	return p
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// wait waits for the process to exit and returns its exit code (-1: killed
// after the timeout).
func (p *proc) wait(t testing.TB, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

// signal sends sig to the process (by PID).
func (p *proc) signal(sig syscall.Signal) { syscall.Kill(p.cmd.Process.Pid, sig) }

// sipp runs one scenario file from testdata/sipp; it returns the process and
// the path of its -trace_msg file.
func sipp(t testing.TB, transport string, localPort int, remote string, scenario string, extra ...string) (*proc, string) {
	t.Helper()
	dir := t.TempDir()
	msgs := filepath.Join(dir, "messages.log")
	args := []string{
		"-sf", testdata("sipp/" + scenario),
		"-t", transport, "-i", "127.0.0.1", "-p", fmt.Sprint(localPort),
		"-m", "1", "-nostdin", "-timeout", "15s", "-timeout_error",
		"-trace_msg", "-message_file", msgs,
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log"),
	}
	args = append(args, extra...)
	if remote != "" {
		args = append(args, remote)
	}
	return start(t, dir, "sipp", args...), msgs
}

// sippOK runs a sipp scenario to the end and fails the test unless it passed.
func sippOK(t testing.TB, p *proc, msgs string) {
	t.Helper()
	if rc := p.wait(t, 25*time.Second); rc != 0 {
		b, _ := os.ReadFile(msgs)
		t.Fatalf("sipp exit %d\n--- output\n%s\n--- messages\n%s", rc, tail(p.out.String(), 2000), tail(string(b), 4000))
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// received returns the messages sipp logged as received, in order.
func received(t testing.TB, msgs string) []string {
	t.Helper()
	b, err := os.ReadFile(msgs)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, part := range strings.Split(string(b), "-----------------------------------------------") {
		i := strings.Index(part, "message received")
		if i < 0 {
			continue
		}
		body := part[i:]
		if j := strings.Index(body, "\n\n"); j >= 0 {
			out = append(out, strings.TrimLeft(body[j+2:], "\n"))
		}
	}
	return out
}

// topVia returns the first Via header value of a message.
func topVia(msg string) string {
	sc := bufio.NewScanner(strings.NewReader(msg))
	for sc.Scan() {
		line := sc.Text()
		if name, v, ok := strings.Cut(line, ":"); ok && (strings.EqualFold(strings.TrimSpace(name), "Via") || strings.EqualFold(strings.TrimSpace(name), "v")) {
			v, _, _ = strings.Cut(v, ",")
			return strings.TrimSpace(v)
		}
		if line == "" {
			break
		}
	}
	return ""
}

var keepRE = regexp.MustCompile(`(?i);\s*keep\s*(=\s*([0-9]*))?`)

// keepOf returns the keep parameter of a Via value: present, and its value
// ("" for a bare keep).
func keepOf(via string) (present bool, value string) {
	m := keepRE.FindStringSubmatch(via)
	if m == nil {
		return false, ""
	}
	return true, m[2]
}

// responses filters received messages by status code prefix ("18", "200").
func responses(msgs []string, prefix string) []string {
	var out []string
	for _, m := range msgs {
		if strings.HasPrefix(m, "SIP/2.0 "+prefix) {
			out = append(out, m)
		}
	}
	return out
}
