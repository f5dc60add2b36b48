package main_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/examples/edgeproxy/proxy"
	"github.com/sipkeep/sipkeep/internal/testwasm"
)

// logBuffer collects the proxy's log lines (slog text format).
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Split(strings.TrimSpace(l.b.String()), "\n")
}

// startProxyLogged runs the proxy (with the plugin unless wasm is false)
// logging at level into the returned buffer.
func startProxyLogged(t *testing.T, level slog.Level, wasm bool) (*proxy.Proxy, *logBuffer) {
	t.Helper()
	cfg := proxy.Defaults()
	cfg.Listen, cfg.Watch = "127.0.0.1:0", false
	if wasm {
		cfg.Wasm = testwasm.Path(t)
	}
	buf := &logBuffer{}
	log := slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: level}))
	p, err := proxy.New(context.Background(), cfg, proxy.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, buf
}

const marker = "PAYLOAD-MARKER-7f3a"

// hostilePeers does what careless and hostile peers do to the proxy: 300
// invented method names, a datagram and a stream that are not SIP, and a
// TCP connection reset mid-message. It returns once the proxy has had
// time to read it all (an OPTIONS answered after the last one).
func hostilePeers(t *testing.T, p *proxy.Proxy) {
	t.Helper()
	ua := newRawUA(t, p.Addr(), "mallory")
	for i := range 300 {
		m := fmt.Sprintf("X%dMETHOD", i)
		ua.send(strings.Replace(strings.Replace(ua.invite("sip:nobody@"+p.Addr()), "INVITE", m, 1), "1 INVITE", "1 "+m, 1))
		ua.recv(wait, true)
	}
	ua.send("NOT SIP AT ALL " + marker + "\r\n\r\n")

	garbage, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	garbage.Write([]byte("GARBAGE " + marker + " SIP/2.0\r\nVia: " + marker + "\r\n\r\n"))
	reset, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	reset.Write([]byte("REGISTER sip:" + p.Addr() + " SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bK" + marker + "\r\n"))
	time.Sleep(200 * time.Millisecond)
	reset.(*net.TCPConn).SetLinger(0) // close sends RST
	reset.Close()
	garbage.Close()

	// The proxy still answers, and has read everything above by now.
	ua.send(strings.Replace(strings.Replace(ua.invite("sip:"+p.Addr()), "INVITE", "OPTIONS", 1), "1 INVITE", "1 OPTIONS", 1))
	if res := ua.recv(wait, true); statusCode(res) != 200 {
		t.Fatalf("OPTIONS after the hostile peers: %q", startLine(res))
	}
	time.Sleep(200 * time.Millisecond)
}

// Invented method names share one metric series ("other"); nothing a peer
// sends is logged at ERROR or logged raw, and a client's reset is a DEBUG
// line, present at --log-level debug and absent at info (sipgo's logs
// follow the proxy's level) — with and without the plugin.
func TestHostilePeers_BoundedMetricsNoPayloadErrors(t *testing.T) {
	for _, tc := range []struct {
		wasm  bool
		level slog.Level
	}{{true, slog.LevelDebug}, {false, slog.LevelDebug}, {true, slog.LevelInfo}} {
		t.Run(fmt.Sprintf("plugin=%v/level=%v", tc.wasm, tc.level), func(t *testing.T) {
			p, logs := startProxyLogged(t, tc.level, tc.wasm)
			hostilePeers(t, p)

			mfs, err := p.Registry().Gather()
			if err != nil {
				t.Fatal(err)
			}
			methods := map[string]bool{}
			for _, mf := range mfs {
				if mf.GetName() != "edgeproxy_requests_total" {
					continue
				}
				for _, m := range mf.GetMetric() {
					for _, l := range m.GetLabel() {
						if l.GetName() == "method" {
							methods[l.GetValue()] = true
						}
					}
				}
			}
			if !methods["other"] || len(methods) > 3 {
				t.Errorf("method labels %v: want the invented methods as \"other\"", methods)
			}

			sawReset := false
			for _, line := range logs.lines() {
				if strings.Contains(line, "level=ERROR") {
					t.Errorf("ERROR line from peers' input: %s", line)
				}
				if strings.Contains(line, marker) && !strings.Contains(line, "level=DEBUG") {
					t.Errorf("payload logged above DEBUG: %s", line)
				}
				if strings.Contains(line, "connection reset") {
					sawReset = true
					if !strings.Contains(line, "level=DEBUG") {
						t.Errorf("client reset not at DEBUG: %s", line)
					}
				}
			}
			if debug := tc.level == slog.LevelDebug; sawReset != debug {
				t.Errorf("reset logged: %v at level %v (sipgo's logs must reach the proxy's logger, under its level)", sawReset, tc.level)
			}
			if t.Failed() {
				t.Logf("log:\n%s", strings.Join(logs.lines(), "\n"))
			}
		})
	}
}
