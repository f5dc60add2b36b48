package main

import (
	"os"
	"os/exec"
	"path/filepath"
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
