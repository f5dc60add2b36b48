package soak

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/sipkeep/sipkeep/examples/edgeproxy/proxy"
	"github.com/sipkeep/sipkeep/internal/testnet"
)

// Target is the edge proxy under soak: in this process, or the built
// binary in its own (as an operator runs it; its RSS is then its own).
type Target interface {
	Addr() string        // SIP, UDP and TCP
	MetricsAddr() string // Prometheus /metrics
	// Swap writes module bytes over the module file and reloads it; nil if
	// the new module serves, an error if the proxy refused it.
	Swap(ctx context.Context, module []byte) error
	// Logs is the end of what the proxy logged (WARN and above).
	Logs() string
	Close() error
}

// replaceFile writes b to path atomically (a reload never reads half).
func replaceFile(path string, b []byte) error {
	tmp := path + ".new"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// tailBuffer keeps the last max bytes written.
type tailBuffer struct {
	mu  sync.Mutex
	b   []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// InProcess runs the proxy in this process with the module at wasmFile
// (copied: swaps overwrite the copy) and keep=keepSeconds.
func InProcess(ctx context.Context, dir, wasmFile string, keepSeconds uint32) (Target, error) {
	file, err := copyModule(dir, wasmFile)
	if err != nil {
		return nil, err
	}
	cfg := proxy.Defaults()
	cfg.Listen, cfg.Metrics = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Wasm, cfg.Watch = file, false
	cfg.Keep.Seconds = keepSeconds
	cfg.Keep.FloorSeconds = min(cfg.Keep.FloorSeconds, keepSeconds)
	logs := &tailBuffer{max: 64 << 10}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	p, err := proxy.New(ctx, cfg, proxy.WithLogger(log))
	if err != nil {
		return nil, err
	}
	return &inProcess{p: p, file: file, logs: logs}, nil
}

type inProcess struct {
	p    *proxy.Proxy
	file string
	logs *tailBuffer
}

func (t *inProcess) Addr() string        { return t.p.Addr() }
func (t *inProcess) MetricsAddr() string { return t.p.MetricsAddr() }
func (t *inProcess) Logs() string        { return t.logs.String() }
func (t *inProcess) Close() error        { return t.p.Close() }

func (t *inProcess) Swap(ctx context.Context, module []byte) error {
	if err := replaceFile(t.file, module); err != nil {
		return err
	}
	return t.p.Reload(ctx)
}

func copyModule(dir, wasmFile string) (string, error) {
	b, err := os.ReadFile(wasmFile)
	if err != nil {
		return "", err
	}
	file := filepath.Join(dir, "sipkeep.wasm")
	return file, replaceFile(file, b)
}

// Binary runs the edgeproxy binary bin (SIGHUP reloads the module) with
// keep=keepSeconds; it returns once /metrics answers.
func Binary(ctx context.Context, dir, bin, wasmFile string, keepSeconds uint32, port, metricsPort int) (Target, error) {
	file, err := copyModule(dir, wasmFile)
	if err != nil {
		return nil, err
	}
	t := &binProxy{file: file, logs: &tailBuffer{max: 1 << 20},
		addr:    "127.0.0.1:" + strconv.Itoa(port),
		metrics: "127.0.0.1:" + strconv.Itoa(metricsPort)}
	floor := min(10, keepSeconds)
	t.cmd = exec.Command(bin, "--listen", t.addr, "--metrics", t.metrics, "--wasm", file, "--watch=false",
		"--keep", strconv.Itoa(int(keepSeconds)), "--keep-floor", strconv.Itoa(int(floor)), "--log-level", "warn")
	t.cmd.Stdout, t.cmd.Stderr = t.logs, t.logs
	if err := t.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	t.done = make(chan struct{})
	go func() { t.cmd.Wait(); close(t.done) }()
	for deadline := time.Now().Add(30 * time.Second); ; {
		if _, err := testnet.Scrape(ctx, t.metrics); err == nil {
			return t, nil
		}
		select {
		case <-t.done:
			return nil, fmt.Errorf("edgeproxy exited: %s", t.logs)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Close()
			return nil, fmt.Errorf("edgeproxy not ready: %s", t.logs)
		}
	}
}

type binProxy struct {
	cmd           *exec.Cmd
	done          chan struct{}
	file          string
	addr, metrics string
	logs          *tailBuffer
}

func (t *binProxy) Addr() string        { return t.addr }
func (t *binProxy) MetricsAddr() string { return t.metrics }
func (t *binProxy) Logs() string        { return t.logs.String() }

// Pid is the proxy's process id.
func (t *binProxy) Pid() int { return t.cmd.Process.Pid }

// swapTimeout bounds how long a reload may take before the soak calls it
// hung (a module's _initialize must be bounded well below this).
const swapTimeout = 90 * time.Second

func (t *binProxy) Swap(ctx context.Context, module []byte) error {
	before, err := t.swaps(ctx)
	if err != nil {
		return err
	}
	if err := replaceFile(t.file, module); err != nil {
		return err
	}
	t.cmd.Process.Signal(syscall.SIGHUP)
	for deadline := time.Now().Add(swapTimeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		now, err := t.swaps(ctx)
		if err != nil {
			continue
		}
		switch {
		case now[1] > before[1]:
			return errors.New("module refused")
		case now[0] > before[0]:
			return nil
		}
	}
	return fmt.Errorf("no swap result after %v", swapTimeout)
}

// swaps reads sipkeep_swaps_total: ok, refused.
func (t *binProxy) swaps(ctx context.Context) ([2]float64, error) {
	m, err := testnet.Scrape(ctx, t.metrics)
	if err != nil {
		return [2]float64{}, err
	}
	return [2]float64{m[`sipkeep_swaps_total{result="ok"}`], m[`sipkeep_swaps_total{result="refused"}`]}, nil
}

// Close stops the proxy with SIGTERM. A proxy that has not stopped 10 s
// later is a finding: it gets SIGQUIT (the Go runtime prints every
// goroutine's stack, which the error carries), then SIGKILL.
func (t *binProxy) Close() error {
	t.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-t.done:
		return nil
	case <-time.After(10 * time.Second):
	}
	t.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-t.done:
	case <-time.After(5 * time.Second):
		t.cmd.Process.Kill()
		<-t.done
	}
	return fmt.Errorf("edgeproxy still running 10 s after SIGTERM; its stacks on SIGQUIT:\n%s", t.logs)
}
