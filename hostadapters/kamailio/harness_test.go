package kamailio

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/hostadapters/internal/siptest"
	"github.com/sipkeep/sipkeep/internal/testnet"
	"github.com/sipkeep/sipkeep/internal/testtls"
	"github.com/sipkeep/sipkeep/internal/testwasm"
)

// kam is one running Kamailio, started by a test and stopped in its Cleanup.
type kam struct {
	Port    int    // UDP and TCP SIP port on 127.0.0.1
	TLSPort int    // with kamOptions.TLS
	WSPort  int    // with kamOptions.WS
	Dir     string // its working directory (cfg, log, pid, ctl socket, cache)
	Log     string // stderr of Kamailio
	ctl     string
	cmd     *exec.Cmd
	Module  string // the wasm it started with
	Options kamOptions
}

type kamOptions struct {
	Plain     bool   // without the sipkeep lines (WITH_SIPKEEP undefined)
	Policy    string // SIPKEEP_POLICY
	FlowTimer int    // SIPKEEP_KEEP (also the registrar's Flow-Timer)
	Upstream  string // "ip:port" of the upstream for UPSTREAM_DOMAINS
	Children  int
	Module    string // the plugin to start with (default: the test plugin)
	// SkipWarmUp: return as soon as the plugin service is ready.
	SkipWarmUp bool
	// ShmMB: Kamailio's shared memory (-m); 0 is its default (64 MB),
	// which usrloc fills at ~55,000 registrations.
	ShmMB int
	// TLS turns on the example's WITH_TLS (a TLS listener on TLSPort)
	// with a throwaway certificate; it needs kamailio-tls-modules.
	TLS bool
	// WS turns on the example's WITH_WEBSOCKET (a WebSocket listener on
	// WSPort); it needs kamailio-websocket-modules.
	WS bool
	// IPv6 turns on the example's WITH_IPV6: UDP and TCP on [::1]:Port too.
	IPv6 bool
}

var (
	libOnce sync.Once
	libPath string
	libErr  error
)

// capiLib builds libsipkeep.so once per test process.
func capiLib(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("SIPKEEP_LIB"); p != "" {
		return p
	}
	libOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sipkeep-capi-")
		if err != nil {
			libErr = err
			return
		}
		libPath = filepath.Join(dir, "libsipkeep.so")
		cmd := exec.Command(goBin(), "build", "-buildmode=c-shared", "-o", libPath, "./hostadapters/capi")
		cmd.Dir = testwasm.ModuleRoot()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1", "GOFLAGS=-buildvcs=false")
		if out, err := cmd.CombinedOutput(); err != nil {
			libErr = fmt.Errorf("building libsipkeep.so: %w\n%s", err, out)
		}
	})
	if libErr != nil {
		t.Fatal(libErr)
	}
	return libPath
}

var (
	modOnce sync.Once
	modPath string
	modErr  error
)

// kamModule is the Kamailio module: SIPKEEP_KAMAILIO_MODULE, or built once
// per test process with `make kamailio-module` (against the installed
// Kamailio's source).
func kamModule(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("SIPKEEP_KAMAILIO_MODULE"); p != "" {
		return p
	}
	modOnce.Do(func() {
		root := testwasm.ModuleRoot()
		cmd := exec.Command("make", "-s", "kamailio-module")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			modErr = fmt.Errorf("make kamailio-module: %w\n%s", err, out)
			return
		}
		modPath = filepath.Join(root, "build", "kamailio", "sipkeep.so")
	})
	if modErr != nil {
		t.Fatal(modErr)
	}
	return modPath
}

func goBin() string {
	if p := filepath.Join(os.Getenv("GOROOT"), "bin", "go"); os.Getenv("GOROOT") != "" && fileExists(p) {
		return p
	}
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "/usr/local/go/bin/go"
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func needKamailio(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("kamailio")
	if err != nil {
		for _, c := range []string{"/usr/sbin/kamailio", "/usr/local/sbin/kamailio"} {
			if fileExists(c) {
				return c
			}
		}
		t.Skip("kamailio is not installed (apt-get install kamailio kamailio-outbound-modules): skipping the real-server tests")
	}
	return p
}

// kamailioModules is where Debian installs Kamailio's modules (the
// example's mpath).
const kamailioModules = "/usr/lib/x86_64-linux-gnu/kamailio/modules/"

// needKamailioModule skips the test, saying why, when the module is not
// installed (it comes in the Debian package pkg).
func needKamailioModule(t testing.TB, module, pkg string) {
	t.Helper()
	if !fileExists(kamailioModules + module + ".so") {
		t.Skipf("Kamailio's %s module is not installed (apt-get install %s): skipping", module, pkg)
	}
}

var (
	cacheOnce sync.Once
	cacheDir  string
)

// compileCache is one wazero compilation cache for every Kamailio of this
// test process, so each plugin service after the first starts warm.
func compileCache(t testing.TB) string {
	cacheOnce.Do(func() { cacheDir, _ = os.MkdirTemp("", "sipkeep-cache-") })
	return cacheDir
}

func setDefine(cfg, name, value string) string {
	re := regexp.MustCompile(`(?m)^#!define ` + regexp.QuoteMeta(name) + `( .*)?$`)
	if !re.MatchString(cfg) {
		panic("example cfg has no #!define " + name)
	}
	line := "#!define " + name
	if value != "" {
		line += " " + value
	}
	return re.ReplaceAllLiteralString(cfg, line)
}

// setPort replaces the example's port at the end of every whole occurrence
// of at ("127.0.0.1:5060", "$Rp == 8080") with port. Whole: a port written
// earlier that starts with the same digits (127.0.0.1:50604) is left
// alone; replacing it too made a test listen on the wrong port.
func setPort(cfg, at string, port int) string {
	head := at[:strings.LastIndexAny(at, ": ")+1]
	re := regexp.MustCompile(regexp.QuoteMeta(at) + `\b`)
	return re.ReplaceAllLiteralString(cfg, head+strconv.Itoa(port))
}

// renderCfg turns examples/kamailio/kamailio.cfg into this test's cfg.
func renderCfg(t testing.TB, k *kam) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(testwasm.ModuleRoot(), "examples", "kamailio", "kamailio.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	o := k.Options
	cfg := string(src)
	q := strconv.Quote
	if !o.Plain {
		cfg = setDefine(cfg, "SIPKEEP_KAMAILIO_MODULE", q(kamModule(t)))
		cfg = setDefine(cfg, "SIPKEEP_LIB", q(capiLib(t)))
	}
	cfg = setDefine(cfg, "SIPKEEP_MODULE", q(k.Module))
	cfg = setDefine(cfg, "SIPKEEP_CACHE", q(compileCache(t)))
	cfg = setDefine(cfg, "SIPKEEP_POLICY", q(o.Policy))
	cfg = setDefine(cfg, "SIPKEEP_KEEP", strconv.Itoa(o.FlowTimer))
	cfg = setDefine(cfg, "UPSTREAM", q("sip:"+o.Upstream))
	cfg = setDefine(cfg, "CTL_SOCKET", q("unix:"+k.ctl))
	if o.Plain {
		cfg = strings.Replace(cfg, "#!define WITH_SIPKEEP\n", "", 1)
	}
	if o.TLS {
		cert := testtls.New(t)
		cfg = strings.Replace(cfg, "##!define WITH_TLS\n", "#!define WITH_TLS\n", 1)
		cfg = setDefine(cfg, "TLS_CERT", q(cert.CertFile))
		cfg = setDefine(cfg, "TLS_KEY", q(cert.KeyFile))
		cfg = setPort(cfg, "127.0.0.1:5061", k.TLSPort)
		cfg = setPort(cfg, "$Rp == 5061", k.TLSPort)
	}
	if o.IPv6 {
		cfg = strings.Replace(cfg, "##!define WITH_IPV6\n", "#!define WITH_IPV6\n", 1)
		cfg = setPort(cfg, "[::1]:5060", k.Port)
	}
	if o.WS {
		cfg = strings.Replace(cfg, "##!define WITH_WEBSOCKET\n", "#!define WITH_WEBSOCKET\n", 1)
		cfg = setPort(cfg, "127.0.0.1:8080", k.WSPort)
		cfg = setPort(cfg, "$Rp == 8080", k.WSPort)
	}
	cfg = setPort(cfg, "127.0.0.1:5060", k.Port)
	cfg = strings.Replace(cfg, "log_stderror=no", "log_stderror=yes", 1)
	cfg = regexp.MustCompile(`(?m)^children=\d+`).ReplaceAllString(cfg, fmt.Sprintf("children=%d", o.Children))
	return cfg
}

// startKamailio renders the example cfg, checks it (kamailio -c) and runs
// Kamailio in the foreground until the test ends.
func startKamailio(t testing.TB, o kamOptions) *kam {
	t.Helper()
	bin := needKamailio(t)
	if o.Policy == "" {
		o.Policy = "floor_seconds=1"
	}
	if o.FlowTimer == 0 {
		o.FlowTimer = 3
	}
	if o.Upstream == "" {
		o.Upstream = "127.0.0.1:9" // discard: nothing answers
	}
	if o.Children == 0 {
		o.Children = 4
	}
	dir, err := os.MkdirTemp("", "sipkeep-kam-") // short: the ctl socket path must fit sun_path
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	k := &kam{Port: testnet.FreePort(t), Dir: dir, Log: filepath.Join(dir, "kamailio.log"), ctl: filepath.Join(dir, "ctl"), Options: o}
	if o.TLS {
		needKamailioModule(t, "tls", "kamailio-tls-modules")
		k.TLSPort = testnet.FreePort(t)
	}
	if o.WS {
		needKamailioModule(t, "websocket", "kamailio-websocket-modules")
		k.WSPort = testnet.FreePort(t)
	}
	k.Module = filepath.Join(dir, "sipkeep.wasm")
	if o.Module != "" {
		k.Module = o.Module
	} else {
		siptest.CopyFile(t, testwasm.Path(t), k.Module)
	}
	cfgPath := filepath.Join(dir, "kamailio.cfg")
	if err := os.WriteFile(cfgPath, []byte(renderCfg(t, k)), 0o644); err != nil {
		t.Fatal(err)
	}
	env := os.Environ()
	check := exec.Command(bin, "-c", "-f", cfgPath)
	check.Env = env
	if out, err := check.CombinedOutput(); err != nil {
		t.Fatalf("kamailio -c -f %s: %v\n%s", cfgPath, err, out)
	}
	logf, err := os.Create(k.Log)
	if err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(dir, "kamailio.pid")
	args := []string{"-f", cfgPath, "-P", pidFile, "-DD", "-E", "-w", dir}
	if o.ShmMB > 0 {
		args = append(args, "-m", fmt.Sprint(o.ShmMB))
	}
	k.cmd = exec.Command(bin, args...)
	k.cmd.Env = env
	k.cmd.Stdout, k.cmd.Stderr = logf, logf
	k.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := k.cmd.Start(); err != nil {
		t.Fatalf("starting kamailio: %v", err)
	}
	t.Cleanup(func() { k.stop(t); logf.Close() })
	if err := k.waitReady(10 * time.Second); err != nil {
		t.Fatalf("kamailio did not come up: %v\n%s", err, k.tail(40))
	}
	if !o.Plain && o.Module == "" {
		if err := k.waitLog("plugin service ready", 60*time.Second); err != nil {
			t.Fatalf("%v\n%s", err, k.tail(40))
		}
	}
	if !o.SkipWarmUp {
		k.warmUp(t)
	}
	return k
}

// stop sends SIGTERM to Kamailio's main process (it stops its children),
// then SIGKILL to the process group it started if anything is left.
func (k *kam) stop(t testing.TB) {
	if k.cmd == nil || k.cmd.Process == nil {
		return
	}
	siptest.StopGroup(t, k.cmd, "kamailio", 5*time.Second)
	if t.Failed() {
		t.Logf("kamailio log (tail):\n%s", k.tail(60))
	}
}

func (k *kam) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if k.cmd.ProcessState != nil {
			return fmt.Errorf("exited: %s", k.cmd.ProcessState)
		}
		c, err := net.DialTimeout("tcp", k.Addr(), 200*time.Millisecond)
		if err == nil {
			c.Close()
			if _, err := os.Stat(k.ctl); err == nil {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("no TCP listener on %s after %s", k.Addr(), timeout)
}

// waitLog waits until Kamailio's log contains s.
func (k *kam) waitLog(s string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if k.logContains(s) {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("no %q in Kamailio's log after %s", s, timeout)
}

// warmUp sends a burst of OPTIONS from many sockets so that every UDP worker
// has connected to the plugin service before a test measures anything.
func (k *kam) warmUp(t testing.TB) {
	t.Helper()
	var wg sync.WaitGroup
	for i := 0; i < 4*k.Options.Children; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("udp", k.Addr())
			if err != nil {
				return
			}
			defer c.Close()
			msg := fmt.Sprintf("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKwarm%d\r\n"+
				"Max-Forwards: 70\r\nFrom: <sip:warm@x>;tag=w\r\nTo: <sip:%s>\r\nCall-ID: warm%d\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
				k.Addr(), c.LocalAddr(), i, k.Addr(), i)
			buf := make([]byte, 4096)
			for try := 0; try < 3; try++ {
				c.Write([]byte(msg))
				c.SetReadDeadline(time.Now().Add(3 * time.Second))
				if _, err := c.Read(buf); err == nil {
					return
				}
			}
		}()
	}
	wg.Wait()
}

func (k *kam) Addr() string { return fmt.Sprintf("127.0.0.1:%d", k.Port) }

// Addr6 is the IPv6 SIP address, UDP and TCP (kamOptions.IPv6).
func (k *kam) Addr6() string { return fmt.Sprintf("[::1]:%d", k.Port) }

// WSAddr is the WebSocket listener's address (kamOptions.WS).
func (k *kam) WSAddr() string { return fmt.Sprintf("127.0.0.1:%d", k.WSPort) }

// TLSAddr is the TLS listener's address (kamOptions.TLS).
func (k *kam) TLSAddr() string { return fmt.Sprintf("127.0.0.1:%d", k.TLSPort) }

func (k *kam) tail(n int) string { return siptest.FileTail(k.Log, n) }

func (k *kam) logContains(s string) bool {
	return siptest.FileContains(k.Log, s)
}

// kamcmd runs an RPC command on this Kamailio's ctl socket.
func (k *kam) kamcmd(t testing.TB, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "kamcmd", append([]string{"-s", "unix:" + k.ctl}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("kamcmd %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// stat reads a counter of the plugin service (kamcmd sipkeep.stats: action
// names such as keepalive-answered, flow-failed; calls, edited...); 0 if absent.
func (k *kam) stat(t testing.TB, name string) int {
	t.Helper()
	return lineValue(k.kamcmd(t, "sipkeep.stats"), name)
}

// kstat reads one of the module's Kamailio statistics (sipkeep:NAME).
//
//lint:ignore U1000 no test reads a statistic yet; kept beside stat for the first that does
func (k *kam) kstat(t testing.TB, name string) int {
	t.Helper()
	out := k.kamcmd(t, "stats.get_statistics", "sipkeep:")
	m := regexp.MustCompile(`sipkeep:` + regexp.QuoteMeta(name) + ` = (\d+)`).FindStringSubmatch(out)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// lineValue finds "name N" in text.
func lineValue(text, name string) int {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\d+)$`).FindStringSubmatch(text)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestSetPortLeavesLongerPortsAlone: the example's 5060 is replaced after
// the WebSocket port was written; a WebSocket port of 50604 must stay
// whole (it once became 397664, which Kamailio took as 4448).
func TestSetPortLeavesLongerPortsAlone(t *testing.T) {
	cfg := "listen=tcp:127.0.0.1:50604\nlisten=udp:127.0.0.1:5060\nif ($Rp == 8080)\nlisten=udp:[::1]:5060\n"
	cfg = setPort(cfg, "127.0.0.1:5060", 39766)
	cfg = setPort(cfg, "$Rp == 8080", 50604)
	cfg = setPort(cfg, "[::1]:5060", 39766)
	want := "listen=tcp:127.0.0.1:50604\nlisten=udp:127.0.0.1:39766\nif ($Rp == 50604)\nlisten=udp:[::1]:39766\n"
	if cfg != want {
		t.Fatalf("got\n%s\nwant\n%s", cfg, want)
	}
}
