package opensips

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/sipkeep/sipkeep/hostadapters/internal/siptest"
	"github.com/sipkeep/sipkeep/internal/testnet"
	"github.com/sipkeep/sipkeep/internal/testtls"
	"github.com/sipkeep/sipkeep/internal/testwasm"
)

// install is an OpenSIPS built by `make opensips OPENSIPS_SRC=<tree>`:
// <prefix>/sbin/opensips, <prefix>/modules/*.so (sipkeep.so among them) and
// <prefix>/lib/libsipkeep.so.
type install struct {
	Prefix, Bin, ModDir, Library, Version string
}

// needOpenSIPS finds the install named by SIPKEEP_OPENSIPS, or the newest
// under build/opensips/, and skips the test when there is none: OpenSIPS is
// not packaged for Debian and CI cannot fetch its source.
func needOpenSIPS(t testing.TB) install {
	t.Helper()
	prefix := os.Getenv("SIPKEEP_OPENSIPS")
	if prefix == "" {
		dirs, _ := filepath.Glob(filepath.Join(testwasm.ModuleRoot(), "build", "opensips", "*"))
		sort.Strings(dirs)
		for i := len(dirs) - 1; i >= 0; i-- {
			if fileExists(filepath.Join(dirs[i], "modules", "sipkeep.so")) {
				prefix = dirs[i]
				break
			}
		}
	}
	in := install{Prefix: prefix, Bin: filepath.Join(prefix, "sbin", "opensips"),
		ModDir: filepath.Join(prefix, "modules"), Library: filepath.Join(prefix, "lib", "libsipkeep.so"),
		Version: filepath.Base(prefix)}
	if prefix == "" || !fileExists(in.Bin) || !fileExists(filepath.Join(in.ModDir, "sipkeep.so")) || !fileExists(in.Library) {
		t.Skip("no OpenSIPS built (make opensips-test OPENSIPS_SRC=<OpenSIPS source tree>): skipping the real-OpenSIPS tests")
	}
	return in
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// needModules skips the test, saying why, when the install lacks one of
// the OpenSIPS modules.
func (in install) needModules(t testing.TB, modules ...string) {
	t.Helper()
	for _, m := range modules {
		if !fileExists(filepath.Join(in.ModDir, m+".so")) {
			t.Skipf("this OpenSIPS install has no %s.so (make opensips OPENSIPS_SRC=<tree> builds it): skipping", m)
		}
	}
}

// osips is one running OpenSIPS, started by a test and stopped (by PID) in its Cleanup.
type osips struct {
	Port    int
	TLSPort int // with options.TLS
	WSPort  int // with options.WS
	WSSPort int // with options.WS and TLS
	Dir     string
	Log     string
	Module  string // the plugin file it started with
	cfg     cfgData
	cmd     *exec.Cmd
	in      install
}

type options struct {
	Plain    bool   // without sipkeep (the benchmark's baseline)
	Policy   string // the plugin policy
	Upstream string // "ip:port" of the upstream registrar for upstream.test
	Workers  int
	LogLevel int
	// TLS adds a TLS socket (TLSPort) with a throwaway certificate; the
	// install must have proto_tls, tls_mgm and tls_openssl.
	TLS bool
	// UpstreamTLS is "ip:port" of the upstream's TLS listener: requests
	// with an X-Upstream-TLS header go there over TLS (needs TLS).
	UpstreamTLS string
	// WS adds a WebSocket socket (WSPort, proto_ws); with TLS, a secure one
	// too (WSSPort, proto_wss).
	WS bool
	// IPv6 adds UDP and TCP sockets on [::1]:Port.
	IPv6 bool
}

type cfgData struct {
	Port                         int
	Dir, ModDir, Library, Module string
	Policy, Options, Upstream    string
	Workers, LogLevel            int
	Sipkeep                      bool
	TLSPort                      int // 0: no TLS socket
	TLSCert, TLSKey, UpstreamTLS string
	WSPort, WSSPort              int // 0: no WebSocket, secure WebSocket socket
	IPv6                         bool
}

// start renders testdata/opensips.cfg, checks it (opensips -C) and runs
// OpenSIPS in the foreground until the test ends.
func start(t testing.TB, o options) *osips {
	t.Helper()
	in := needOpenSIPS(t)
	if o.Policy == "" {
		o.Policy = "receiver_keep_seconds=3;floor_seconds=1"
	}
	if o.Upstream == "" {
		o.Upstream = "127.0.0.1:9" // discard: nothing answers
	}
	if o.Workers == 0 {
		o.Workers = 4
	}
	if o.LogLevel == 0 {
		o.LogLevel = 3
	}
	dir, err := os.MkdirTemp("", "sk-osips-") // short: socket paths must fit sun_path
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &osips{Port: testnet.FreePort(t), Dir: dir, Log: filepath.Join(dir, "opensips.log"), in: in}
	s.Module = filepath.Join(dir, "sipkeep.wasm")
	siptest.CopyFile(t, testwasm.Path(t), s.Module)
	s.cfg = cfgData{Port: s.Port, Dir: dir, ModDir: in.ModDir, Library: in.Library, Module: s.Module,
		Policy: o.Policy, Options: "cache_dir=" + compileCache() + ";log_level=info", Upstream: o.Upstream,
		Workers: o.Workers, LogLevel: o.LogLevel, Sipkeep: !o.Plain, IPv6: o.IPv6}
	if o.TLS {
		in.needModules(t, "proto_tls", "tls_mgm", "tls_openssl")
		cert := testtls.New(t)
		s.TLSPort = testnet.FreePort(t)
		s.cfg.TLSPort, s.cfg.TLSCert, s.cfg.TLSKey = s.TLSPort, cert.CertFile, cert.KeyFile
		s.cfg.UpstreamTLS = o.UpstreamTLS
	}
	if o.WS {
		in.needModules(t, "proto_ws")
		s.WSPort = testnet.FreePort(t)
		s.cfg.WSPort = s.WSPort
		if o.TLS {
			in.needModules(t, "proto_wss")
			s.WSSPort = testnet.FreePort(t)
			s.cfg.WSSPort = s.WSSPort
		}
	}
	tpl := template.Must(template.ParseFiles(filepath.Join("testdata", "opensips.cfg")))
	var cfg bytes.Buffer
	if err := tpl.Execute(&cfg, s.cfg); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "opensips.cfg")
	if err := os.WriteFile(cfgPath, cfg.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(in.Bin, "-c", "-f", cfgPath).CombinedOutput(); err != nil {
		t.Fatalf("opensips -c -f %s: %v\n%s", cfgPath, err, out)
	}
	logf, err := os.Create(s.Log)
	if err != nil {
		t.Fatal(err)
	}
	// -m 256: every sipp REGISTER in the benchmarks is a new AOR, and the
	// default 32 MB of shared memory runs out at ~20,000 of them.
	s.cmd = exec.Command(in.Bin, "-F", "-m", "256", "-f", cfgPath, "-P", filepath.Join(dir, "opensips.pid"), "-w", dir)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("starting opensips: %v", err)
	}
	t.Cleanup(func() { s.stop(t); logf.Close() })
	if err := s.waitReady(20 * time.Second); err != nil {
		t.Fatalf("opensips did not come up: %v\n%s", err, s.tail(60))
	}
	return s
}

// stop sends SIGTERM to OpenSIPS's main process (it stops its children),
// then SIGKILL to the process group it started if anything is left.
func (s *osips) stop(t testing.TB) {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	siptest.StopGroup(t, s.cmd, "opensips", 10*time.Second)
	s.cmd = nil
	if t.Failed() {
		t.Logf("opensips log (tail):\n%s", s.tail(80))
	}
}

// waitReady waits for the SIP listener and, with sipkeep, for the plugin
// service to say it is ready.
func (s *osips) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if s.cmd.ProcessState != nil {
			return fmt.Errorf("exited: %s", s.cmd.ProcessState)
		}
		c, err := net.DialTimeout("tcp", s.Addr(), 200*time.Millisecond)
		if err == nil {
			c.Close()
			if !s.cfg.Sipkeep || s.logContains("plugin service ready") {
				return nil
			}
			if s.logContains("plugin service did not start") {
				return fmt.Errorf("the plugin service did not start:\n%s", siptest.FileTail(s.Log, 5))
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %s", timeout)
}

func (s *osips) Addr() string { return fmt.Sprintf("127.0.0.1:%d", s.Port) }

// Addr6 is the IPv6 SIP address, UDP and TCP (options.IPv6).
func (s *osips) Addr6() string { return fmt.Sprintf("[::1]:%d", s.Port) }

// WSAddr is the WebSocket socket's address (options.WS).
func (s *osips) WSAddr() string { return fmt.Sprintf("127.0.0.1:%d", s.WSPort) }

// WSSAddr is the secure WebSocket socket's address (options.WS and TLS).
func (s *osips) WSSAddr() string { return fmt.Sprintf("127.0.0.1:%d", s.WSSPort) }

// TLSAddr is the TLS socket's address (options.TLS).
func (s *osips) TLSAddr() string { return fmt.Sprintf("127.0.0.1:%d", s.TLSPort) }

func (s *osips) tail(n int) string { return siptest.FileTail(s.Log, n) }

func (s *osips) logContains(sub string) bool {
	return siptest.FileContains(s.Log, sub)
}

// waitLog waits until the log contains sub.
func (s *osips) waitLog(sub string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if s.logContains(sub) {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// mi runs an MI command over mi_fifo (JSON-RPC) and returns its result, or
// the JSON-RPC error as an error.
func (s *osips) mi(t testing.TB, method string, params map[string]string) (json.RawMessage, error) {
	t.Helper()
	name := fmt.Sprintf("reply-%x", rand.Uint64())
	reply := filepath.Join(s.Dir, name)
	if err := syscall.Mkfifo(reply, 0o666); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(reply)
	req := map[string]any{"jsonrpc": "2.0", "method": method, "id": 1}
	if params != nil {
		req["params"] = params
	}
	body, _ := json.Marshal(req)
	f, err := os.OpenFile(filepath.Join(s.Dir, "fifo"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("mi fifo: %v", err)
	}
	if _, err := fmt.Fprintf(f, ":%s:%s\n", name, body); err != nil {
		t.Fatal(err)
	}
	f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	type res struct {
		b   []byte
		err error
	}
	ch := make(chan res, 1)
	go func() {
		r, err := os.Open(reply) // blocks until OpenSIPS opens its end
		if err != nil {
			ch <- res{nil, err}
			return
		}
		defer r.Close()
		b, err := bufio.NewReader(r).ReadBytes('\n')
		if len(b) > 0 {
			err = nil
		}
		ch <- res{b, err}
	}()
	var r res
	select {
	case r = <-ch:
	case <-ctx.Done():
		t.Fatalf("MI %s: no reply", method)
	}
	if r.err != nil {
		t.Fatalf("MI %s: %v", method, r.err)
	}
	var out struct {
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Data    any    `json:"data"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.b, &out); err != nil {
		t.Fatalf("MI %s: bad reply %q: %v", method, r.b, err)
	}
	if out.Error != nil {
		return nil, fmt.Errorf("%d %s %v", out.Error.Code, out.Error.Message, out.Error.Data)
	}
	return out.Result, nil
}

// stats returns sipkeep_stats: the module's counters and the service's.
func (s *osips) stats(t testing.TB) (mod map[string]any, svc map[string]any) {
	t.Helper()
	raw, err := s.mi(t, "sipkeep_stats", nil)
	if err != nil {
		t.Fatalf("sipkeep_stats: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	svc, _ = m["service"].(map[string]any)
	return m, svc
}

func num(m map[string]any, k string) float64 {
	f, _ := m[k].(float64)
	return f
}

// pids returns OpenSIPS's processes: the main one and its children.
func (s *osips) pids() []int {
	main := s.cmd.Process.Pid
	out := []int{main}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		if i := bytes.LastIndexByte(b, ')'); i > 0 {
			var state string
			var ppid int
			fmt.Sscan(string(b[i+1:]), &state, &ppid)
			if ppid == main {
				out = append(out, pid)
			}
		}
	}
	return out
}

var cacheDir string

// compileCache is one wazero compilation cache for every OpenSIPS of this
// test process: only the first plugin service compiles the plugin.
func compileCache() string {
	if cacheDir == "" {
		cacheDir, _ = os.MkdirTemp("", "sipkeep-cache-")
	}
	return cacheDir
}
