package sipgokeep_test

import (
	"context"
	"io"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/host"
	"github.com/sipkeep/sipkeep/hostadapters/netkeep"
	"github.com/sipkeep/sipkeep/hostadapters/sipgokeep"
)

// seen records the Call-IDs of the requests one side processed.
type seen struct {
	mu  sync.Mutex
	ids []string
}

func (s *seen) add(id string) {
	s.mu.Lock()
	s.ids = append(s.ids, id)
	s.mu.Unlock()
}

func (s *seen) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ids)
}

var callID = regexp.MustCompile(`(?mi)^(?:Call-ID|i)[ \t]*:[ \t]*(\S+)`)

// pluginSide stands for the plugin: it records every request netkeep shows it.
type pluginSide struct{ seen }

func (p *pluginSide) Handle(_ context.Context, ev host.Event) host.Result {
	if ev.Kind == abi.KindSIPRequest && ev.Dir == abi.DirIn {
		if m := callID.FindSubmatch(ev.Message); m != nil {
			p.add(string(m[1]))
		}
	}
	return host.Result{Message: ev.Message}
}

// agreeRig serves sipgo through netkeep and records what the plugin was
// shown and what sipgo handled.
func agreeRig(t *testing.T, opts ...netkeep.Option) (r *rig, plugin *pluginSide, stack *seen) {
	t.Helper()
	nk := netkeep.New(opts...)
	plugin = &pluginSide{}
	nk.Attach(plugin)
	stack = &seen{}
	handle := func(req *sip.Request, tx sip.ServerTransaction) {
		stack.add(req.CallID().Value())
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	}
	r = newRigWith(t, func(srv *sipgo.Server) {
		srv.OnRegister(handle)
		srv.OnOptions(handle)
	}, sipgokeep.WithKeeper(nk))
	return r, plugin, stack
}

func register(id, body string, extra ...string) string {
	return "REGISTER sip:127.0.0.1 SIP/2.0\r\n" +
		"Via: SIP/2.0/TCP 127.0.0.1:5099;branch=z9hG4bK-" + id + "\r\n" +
		"From: <sip:u@127.0.0.1>;tag=" + id + "\r\nTo: <sip:u@127.0.0.1>\r\n" +
		"Call-ID: " + id + "\r\nCSeq: 1 REGISTER\r\nContact: <sip:u@127.0.0.1:5099;transport=tcp>\r\n" +
		"Max-Forwards: 70\r\n" + strings.Join(extra, "") +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

// exchange sends each part on a fresh TCP stream (pausing between parts, so
// they arrive as separate reads) and returns what came back until the server
// closed the stream or went quiet.
func exchange(t *testing.T, addr string, parts ...string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, p := range parts {
		if _, err := c.Write([]byte(p)); err != nil {
			break // closed by the server
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = c.SetReadDeadline(time.Now().Add(700 * time.Millisecond))
	b, _ := io.ReadAll(c)
	return string(b)
}

// One authority on message boundaries: over TCP and UDP, what sipgo handles
// is exactly what the plugin was shown, including on input that sipgo and a
// lenient framer used to split differently.
func TestPluginAndSipgoSeeTheSameMessages(t *testing.T) {
	hidden := register("hidden", "")
	for _, tc := range []struct {
		name  string
		parts []string
		want  []string // Call-IDs both must have processed
		reply string   // what the peer must get (prefix of the first reply)
	}{
		{"pipeline with keep-alives, split anywhere", []string{
			"\r\n\r\n" + register("a", "")[:50], register("a", "")[50:] + "\r\n\r\n" + register("b", "v=0\r\n"), "\r\n" + register("c", ""),
		}, []string{"a", "b", "c"}, "\r\n"},
		// sipgo takes the last Content-Length, a lenient framer the first:
		// sipgo would answer "hidden", which the plugin never saw.
		{"Content-Length then l: 0", []string{
			register("a", ""), register("dup", hidden, "l: 0\r\n"),
		}, []string{"a"}, "SIP/2.0 200 OK"},
		{"Content-Length: 0 then the real one", []string{
			strings.Replace(register("dup", hidden), "Content-Length:", "Content-Length: 0\r\nContent-Length:", 1),
		}, nil, "SIP/2.0 400 Bad Request"},
		// sipgo drops a read of NULs; NULs sharing a read with a message
		// were part of it: which one depends on how TCP cut the bytes.
		{"NULs before a REGISTER", []string{register("a", ""), "\x00\x00\x00\x00" + register("nul", "")}, []string{"a"}, "SIP/2.0 200 OK"},
		{"NULs alone", []string{"\x00\x00\x00\x00", register("nul", "")}, nil, ""},
		{"negative Content-Length", []string{register("neg", "")[:len(register("neg", ""))-5] + "-1\r\n\r\n"}, nil, "SIP/2.0 400"},
	} {
		t.Run("tcp/"+tc.name, func(t *testing.T) {
			r, plugin, stack := agreeRig(t)
			got := exchange(t, r.tcp.Addr().String(), tc.parts...)
			if !strings.HasPrefix(got, tc.reply) {
				t.Errorf("peer got %q, want it to start %q", got, tc.reply)
			}
			// sipgo runs handlers concurrently: compare as sets.
			p, s := sorted(plugin.list()), sorted(stack.list())
			if !slices.Equal(p, sorted(tc.want)) || !slices.Equal(s, sorted(tc.want)) {
				t.Fatalf("plugin saw %q, sipgo handled %q; want both %q", p, s, tc.want)
			}
		})
	}
	t.Run("udp/duplicate Content-Length", func(t *testing.T) {
		r, plugin, stack := agreeRig(t)
		c, err := net.Dial("udp", r.udp.LocalAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		via := "SIP/2.0/UDP " + c.LocalAddr().String()
		for _, d := range []string{register("dup", "abc", "l: 0\r\n"), register("ok", "")} {
			d = strings.Replace(d, "SIP/2.0/TCP 127.0.0.1:5099", via, 1)
			if _, err := c.Write([]byte(d)); err != nil {
				t.Fatal(err)
			}
		}
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		buf := make([]byte, 4096)
		if n, err := c.Read(buf); err != nil || !strings.Contains(string(buf[:n]), "Call-ID: ok") {
			t.Fatalf("read %q: %v", buf[:n], err)
		}
		if p, s := plugin.list(), stack.list(); !slices.Equal(p, []string{"ok"}) || !slices.Equal(s, []string{"ok"}) {
			t.Fatalf("plugin saw %q, sipgo handled %q; want both [ok]", p, s)
		}
	})
}

// Header limits above sipgo's read buffer (32 KiB): a message whose headers
// a 32 KiB read would cut just after a CRLF followed by a continuation line
// still reaches sipgo as one message, the one the plugin saw (netkeep never
// ends a read there; sipgo would take the continuation for a header).
func TestLargeHeadersCutWhereSipgoAgrees(t *testing.T) {
	r, plugin, stack := agreeRig(t, netkeep.WithLimits(netkeep.Limits{Header: 64 << 10}))
	body := "0123456789"
	base := register("big", body)
	head := strings.TrimSuffix(base, body) // ends "Content-Length: 10\r\n\r\n"
	head = head[:len(head)-2]
	// X-Pad, after the real Content-Length, has its first line end exactly
	// at sipgo's read size; its continuation looks like a Content-Length of 0.
	pad := int(sip.TransportBufferReadSize) - len(head) - len("X-Pad: \r\n")
	msg := head + "X-Pad: " + strings.Repeat("p", pad) + "\r\n l: 0\r\n\r\n" + body
	got := exchange(t, r.tcp.Addr().String(), msg, register("after", ""))
	if strings.Count(got, "SIP/2.0 200 OK") != 2 {
		t.Fatalf("peer got %q", got)
	}
	want := []string{"after", "big"}
	if p, s := sorted(plugin.list()), sorted(stack.list()); !slices.Equal(p, want) || !slices.Equal(s, want) {
		t.Fatalf("plugin saw %q, sipgo handled %q; want both %q", p, s, want)
	}
}

func sorted(s []string) []string {
	slices.Sort(s)
	return s
}
