package main_test

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/internal/testnet"
	"github.com/sipkeep/sipkeep/internal/testtls"
	"github.com/sipkeep/sipkeep/internal/testwasm"
)

// Real WebSocket SIP clients nobody here wrote — SIP.js and JsSIP from npm
// (examples/webphone/package.json and its lock file; `make webphone-deps`)
// in Node, and the webphone page in Debian's Chromium — against the real
// edge proxy binary over WS and WSS.

func webphoneDir() string { return filepath.Join(testwasm.ModuleRoot(), "examples", "webphone") }

func needNode(t *testing.T) {
	t.Helper()
	need(t, "node")
	if _, err := os.Stat(filepath.Join(webphoneDir(), "node_modules", "sip.js")); err != nil {
		t.Skip("examples/webphone/node_modules missing (make webphone-deps installs SIP.js, JsSIP, playwright-core)")
	}
}

type wsProxy struct {
	ws, wss string // ws://127.0.0.1:port/, wss://...
	sip     string
	cert    string
	proc    *proc
}

// runWSProxy starts the built binary with WS, WSS and TLS on free ports and
// the webphone directory served, plus extra flags.
func runWSProxy(t *testing.T, extra ...string) *wsProxy {
	t.Helper()
	tc := testtls.New(t)
	cert, key := tc.CertFile, tc.KeyFile
	bin := buildBinary(t)
	// Free ports are only free until someone binds them: on a busy machine
	// a port can be taken between FreePort and the proxy's bind. Retry then.
	for attempt := 0; ; attempt++ {
		ports := map[int]bool{}
		port := func() int {
			for {
				if p := testnet.FreePort(t); !ports[p] {
					ports[p] = true
					return p
				}
			}
		}
		sipPort, metricsPort, wsPort, wssPort, tlsPort := port(), port(), port(), port(), port()
		sip := fmt.Sprintf("127.0.0.1:%d", sipPort)
		metrics := fmt.Sprintf("127.0.0.1:%d", metricsPort)
		args := append([]string{"--listen", sip, "--metrics", metrics, "--wasm", testwasm.Path(t), "--watch=false",
			"--ws-listen", fmt.Sprintf("127.0.0.1:%d", wsPort), "--wss-listen", fmt.Sprintf("127.0.0.1:%d", wssPort),
			"--tls-listen", fmt.Sprintf("127.0.0.1:%d", tlsPort), "--tls-cert", cert, "--tls-key", key,
			"--webphone", webphoneDir()}, extra...)
		p := start(t, t.TempDir(), bin, args...)
		for ready := false; !ready; {
			if _, err := testnet.Scrape(context.Background(), metrics); err == nil {
				return &wsProxy{ws: fmt.Sprintf("ws://127.0.0.1:%d/", wsPort), wss: fmt.Sprintf("wss://127.0.0.1:%d/", wssPort), sip: sip, cert: cert, proc: p}
			}
			select {
			case <-p.done:
				if attempt < 3 && strings.Contains(p.out.String(), "address already in use") {
					ready = true // retry with other ports
					continue
				}
				t.Fatalf("edgeproxy exited: %v\n%s", p.err, p.out.String())
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

// node runs a script of examples/webphone/test and decodes its RESULT line.
func node(t *testing.T, into any, script string, args ...string) string {
	t.Helper()
	cmd := exec.Command("node", append([]string{script}, args...)...)
	cmd.Dir = filepath.Join(webphoneDir(), "test")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node %s %v: %v\n%s", script, args, err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if j, ok := strings.CutPrefix(line, "RESULT "); ok {
			if err := json.Unmarshal([]byte(j), into); err != nil {
				t.Fatalf("RESULT %q: %v", j, err)
			}
			return string(out)
		}
	}
	t.Fatalf("node %s: no RESULT\n%s", script, out)
	return ""
}

// W1, W2 with SIP.js and JsSIP: REGISTER over WS and WSS gets keep=N on
// its Via; SIP.js's own CRLF keep-alives (keepAliveInterval) are answered
// and the socket stays up.
func TestW1_SIPjsAndJsSIPRegisterGetKeep(t *testing.T) {
	needNode(t)
	px := runWSProxy(t)
	for _, url := range []string{px.ws, px.wss} {
		t.Run(url[:strings.Index(url, ":")], func(t *testing.T) {
			var r struct {
				Keep              int
				Via               string
				Keepalives, Pongs int
				Connected         bool
			}
			node(t, &r, "clients.mjs", "sipjs-register", url, "alice", "2")
			if r.Keep != 30 || r.Keepalives < 2 || r.Pongs < 2 || !r.Connected {
				t.Fatalf("SIP.js: %+v, want keep=30 and 2 keep-alives answered", r)
			}
			var j struct {
				Keep int
				Via  string
			}
			node(t, &j, "clients.mjs", "jssip-register", url, "bob")
			if j.Keep != 30 {
				t.Fatalf("JsSIP: %+v, want keep=30", j)
			}
		})
	}
}

// W1 for dialogs: two SIP.js UAs call each other through the proxy over
// WS and over WSS; the record-routed 2xx the caller gets carries keep=N,
// and the proxy's own Via on the INVITE toward the callee offers ;keep.
func TestW1_SIPjsCallThroughProxyGetsKeepOn2xx(t *testing.T) {
	needNode(t)
	px := runWSProxy(t)
	for _, url := range []string{px.ws, px.wss} {
		t.Run(url[:strings.Index(url, ":")], func(t *testing.T) {
			var r struct {
				Keep         int
				Via          string
				CalleeTopVia string
				RecordRoute  []string
			}
			node(t, &r, "clients.mjs", "sipjs-call", url)
			if r.Keep != 30 || len(r.RecordRoute) == 0 {
				t.Fatalf("call: %+v, want a record-routed 2xx with keep=30", r)
			}
			if ok, v := keepOf(r.CalleeTopVia); !ok || v != "" {
				t.Fatalf("INVITE to the callee: top Via %q, want a bare ;keep", r.CalleeTopVia)
			}
		})
	}
}

// Mixed transports: a UDP UA (sipp) calls a SIP.js UA registered over WSS.
// Each side's keep value is its own hop's: the UDP caller gets keep=30 on
// the 180 and 200 for its UDP flow, the WSS callee's registration got
// keep=30 on its WSS flow, and the proxy offers ;keep on its WSS Via.
func TestW1_MixedUDPCallerWSSCallee(t *testing.T) {
	needNode(t)
	need(t, "sipp")
	px := runWSProxy(t)
	cmd := exec.Command("node", "clients.mjs", "sipjs-answer", px.wss, "wendy")
	cmd.Dir = filepath.Join(webphoneDir(), "test")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(out.String(), "REGISTERED"); {
		if time.Now().After(deadline) {
			t.Fatalf("callee did not register:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	caller, msgs := sipp(t, "u1", testnet.FreePort(t), px.sip, "uac_invite_keep.xml", "-key", "ruri", "sip:wendy@127.0.0.1")
	sippOK(t, caller, msgs)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("callee: %v\n%s", err, out.String())
	}
	var r struct {
		Keep         int
		CalleeTopVia string
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if j, ok := strings.CutPrefix(line, "RESULT "); ok {
			json.Unmarshal([]byte(j), &r)
		}
	}
	if r.Keep != 30 {
		t.Fatalf("WSS callee registration: %+v, want keep=30", r)
	}
	if ok, v := keepOf(r.CalleeTopVia); !ok || v != "" || !strings.Contains(r.CalleeTopVia, "SIP/2.0/WSS") {
		t.Fatalf("INVITE to the WSS callee: top Via %q, want the proxy's WSS Via with a bare ;keep", r.CalleeTopVia)
	}
}

// The webphone in a real browser: Debian's Chromium opens the page from the
// proxy's WSS port, SIP.js registers over WSS, the page shows keep=N and
// counts an answered keep-alive. The screenshot is kept in build/.
func TestW2_WebphoneInChromium(t *testing.T) {
	needNode(t)
	need(t, "chromium")
	px := runWSProxy(t, "--keep", "2", "--keep-floor", "1")
	spki := spkiHash(t, px.cert)
	shot := filepath.Join(testwasm.ModuleRoot(), "build", "webphone.png")
	os.MkdirAll(filepath.Dir(shot), 0o755)
	page := strings.Replace(px.wss, "wss://", "https://", 1) + "?user=web"
	var r struct {
		Keep, Sent, Pongs     int
		Registered            bool
		ShownKeep, ShownPongs string
		Via                   string
		Errors                []string
	}
	node(t, &r, "browser.mjs", page, spki, shot, t.TempDir())
	if r.Keep != 2 || r.Pongs < 1 || r.Sent < 1 || r.ShownKeep != "keep=2 s" || len(r.Errors) > 0 {
		t.Fatalf("webphone: %+v, want keep=2 shown and a keep-alive answered", r)
	}
	if !strings.Contains(r.Via, "SIP/2.0/WSS") {
		t.Fatalf("keep granted on %q, want the browser's WSS Via", r.Via)
	}
	t.Logf("webphone: %+v; screenshot %s", r, shot)
}

// spkiHash is the base64 SHA-256 of the certificate's public key, what
// Chromium's --ignore-certificate-errors-spki-list takes.
func spkiHash(t *testing.T, certFile string) string {
	b, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(h[:])
}
