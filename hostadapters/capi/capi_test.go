package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/pion/stun/v3"

	"github.com/sipkeep/sipkeep/internal/testwasm"
)

func TestDropTopVia(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"own line", "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=1\r\nVia: SIP/2.0/UDP b;branch=2;keep\r\nTo: x\r\n\r\n",
			"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP b;branch=2;keep\r\nTo: x\r\n\r\n"},
		{"comma list", "SIP/2.0 200 OK\r\nv: SIP/2.0/UDP a;branch=1 ,\r\n SIP/2.0/UDP b;branch=2\r\n\r\n",
			"SIP/2.0 200 OK\r\nv: SIP/2.0/UDP b;branch=2\r\n\r\n"},
		{"quoted comma", "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;x=\"p,q\", SIP/2.0/UDP b\r\n\r\n",
			"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP b\r\n\r\n"},
		{"after other headers", "SIP/2.0 200 OK\r\nFrom: f\r\nVIA : SIP/2.0/TCP a\r\n\r\n", "SIP/2.0 200 OK\r\nFrom: f\r\n\r\n"},
	} {
		got, ok := dropTopVia([]byte(c.in))
		if !ok || string(got) != c.want {
			t.Errorf("%s: got %q (%v), want %q", c.name, got, ok, c.want)
		}
	}
	if _, ok := dropTopVia([]byte("SIP/2.0 200 OK\r\nTo: x\r\n\r\nVia: body")); ok {
		t.Error("found a Via in the body")
	}
}

func TestParsePolicy(t *testing.T) {
	p, err := parsePolicy("receiver_keep_seconds=25; floorSeconds=2, receiver_methods=REGISTER|INVITE dead_flow_disabled")
	if err != nil {
		t.Fatal(err)
	}
	if p.ReceiverKeepSeconds != 25 || p.FloorSeconds != 2 || len(p.ReceiverMethods) != 2 || !p.DeadFlowDisabled {
		t.Errorf("got %+v", p)
	}
	j, err := parsePolicy(`{"receiver_keep_seconds": 40, "stunRtoMs": 50, "sender_methods": ["REGISTER"], "sender_disabled": true}`)
	if err != nil {
		t.Fatal(err)
	}
	if j.ReceiverKeepSeconds != 40 || j.StunRtoMs != 50 || len(j.SenderMethods) != 1 || !j.SenderDisabled {
		t.Errorf("got %+v", j)
	}
	for _, bad := range []string{"nope=1", "floor_seconds=-1", "floor_seconds=x", "{bad json"} {
		if _, err := parsePolicy(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSTUNHelpers(t *testing.T) {
	var id [12]byte
	copy(id[:], "abcdefghijkl")
	req := stunRequest(id)
	class, got, _ := parseSTUN(req)
	if class != 1 || got != id {
		t.Fatalf("request parsed as class %d tx %x", class, got)
	}
	resp, err := stunResponse(req, "192.0.2.1:5060")
	if err != nil {
		t.Fatal(err)
	}
	class, got, mapped := parseSTUN(resp)
	if class != 3 || got != id || mapped != "192.0.2.1:5060" {
		t.Errorf("response: class %d tx %x mapped %q", class, got, mapped)
	}
	if c, _, _ := parseSTUN([]byte("REGISTER sip:x SIP/2.0\r\n\r\n")); c != 0 {
		t.Error("SIP parsed as STUN")
	}
	if !stun.IsMessage(resp) {
		t.Error("pion does not see a STUN message")
	}
}

// buildLib builds libsipkeep.so into dir.
func buildLib(t testing.TB, dir string) string {
	t.Helper()
	lib := filepath.Join(dir, "libsipkeep.so")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", lib, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1", "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build -buildmode=c-shared: %v\n%s", err, out)
	}
	return lib
}

// TestCSmoke compiles testdata/smoke.c against sipkeep.h (the documented
// header, not cgo's) and runs it with the real library and plugin.
func TestCSmoke(t *testing.T) {
	cc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc is not installed")
	}
	dir := t.TempDir()
	buildLib(t, dir)
	bin := filepath.Join(dir, "smoke")
	if out, err := exec.Command(cc, "-Wall", "-Werror", "-I.", "-o", bin, "testdata/smoke.c",
		"-L"+dir, "-lsipkeep", "-Wl,-rpath,"+dir).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, testwasm.Path(t)).CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("smoke: %v", err)
	}
}

// BenchmarkPythonRoundTrip measures what the adapters pay per message: Python
// → ctypes → C → Go → wasm and back, with result decoding (timeit in python3).
func BenchmarkPythonRoundTrip(b *testing.B) {
	py, err := exec.LookPath("python3")
	if err != nil {
		b.Skip("python3 is not installed")
	}
	lib := buildLib(b, b.TempDir())
	script := `
import sys, timeit
sys.path.insert(0, ".")
import sipkeep_capi as c
h = c.Host.for_process(sys.argv[1], sys.argv[2], "", "log=none")
reg = (b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport=5060;keep\r\n"
       b"From: <sip:a@x>;tag=1\r\nTo: <sip:a@x>;tag=2\r\nCall-ID: 1\r\nCSeq: 1 REGISTER\r\n"
       b"Contact: <sip:a@192.0.2.1>;expires=300\r\nContent-Length: 0\r\n\r\n")
call = lambda: h.call(c.KIND_RESPONSE, c.DIR_OUT, c.UDP, c.ROLE_PROXY, c.F_LOCAL_REPLY | c.F_NO_MESSAGE,
                      "127.0.0.1:5060", "192.0.2.1:5060", b"", reg)
assert call().edits, "no keep=N granted"
n = 20000
print("%.2f" % (min(timeit.repeat(call, number=n, repeat=3)) / n * 1e6))
`
	cmd := exec.Command(py, "-c", script, lib, testwasm.Path(b))
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("python3: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`(?m)^([0-9.]+)\s*$`).FindSubmatch(out)
	if m == nil {
		b.Fatalf("no timing in %q", out)
	}
	us, _ := strconv.ParseFloat(string(m[1]), 64)
	b.ReportMetric(us, "µs/call")
	b.ReportMetric(0, "ns/op")
	b.Logf("Python→ctypes→C→Go→wasm round trip (REGISTER 200 granting keep=N): %.2f µs/call", us)
}

// K3: a classic RFC 3489 request (no cookie) is recognised and answered
// with MAPPED-ADDRESS and its whole 16-byte id, as abi/ABI.md promises.
func TestK3_STUNHelpers3489(t *testing.T) {
	req := make([]byte, 20)
	req[1] = 0x01 // Binding request
	copy(req[4:], "0123456789abcdef")
	class, _, _ := parseSTUN(req)
	if class != 1 {
		t.Fatalf("classic request parsed as class %d", class)
	}
	resp, err := stunResponse(req, "192.0.2.1:5060")
	if err != nil {
		t.Fatal(err)
	}
	if string(resp[4:20]) != "0123456789abcdef" {
		t.Fatalf("id %q not echoed", resp[4:20])
	}
	if class, _, mapped := parseSTUN(resp); class != 3 || mapped != "192.0.2.1:5060" {
		t.Fatalf("classic response: class %d mapped %q", class, mapped)
	}
}
