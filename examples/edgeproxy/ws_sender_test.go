package main_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/abi/proto"
	"github.com/sipkeep/sipkeep/examples/edgeproxy/proxy"
	"github.com/sipkeep/sipkeep/host"
	"github.com/sipkeep/sipkeep/hostadapters/netkeep"
	"github.com/sipkeep/sipkeep/hostadapters/sipgokeep"
	"github.com/sipkeep/sipkeep/internal/testwasm"
)

// W1, W2, sender role over WebSocket: a Go UA (sipgo) whose WS connection
// is dialed through sipgokeep.WSDialer offers ;keep on its REGISTER, gets
// keep=1 from the edge proxy, and the plugin's keep-alives go out as
// CRLFCRLF WebSocket messages that the proxy answers with CRLF messages.
func TestW2_GoSenderPingsOverWebSocket(t *testing.T) {
	p := startProxy(t, withSecure(t), func(c *proxy.Config) { c.Keep.Seconds, c.Keep.FloorSeconds = 1, 1 })
	ctx := context.Background()
	events := make(chan netkeep.FlowEvent, 64)
	nk := netkeep.New(netkeep.WithEvents(func(ev netkeep.FlowEvent) {
		select {
		case events <- ev:
		default:
		}
	}))
	h, err := host.New(ctx, host.WithModuleFile(testwasm.Path(t)), host.WithActionHandler(nk.HandleAction),
		host.WithPolicy(&proto.Policy{FloorSeconds: 1}))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(ctx)
	nk.Attach(h)

	ua, err := sipgo.NewUA(sipgokeep.WSDialer(nk))
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	cli, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	dest := fmt.Sprintf("127.0.0.1:%d", p.PortOf("WS"))
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: "127.0.0.1"})
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "gosender", Host: "127.0.0.1"}})
	req.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "gosender", Host: "127.0.0.1"}, Params: sip.HeaderParams{{K: "tag", V: "go1"}}})
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "gosender", Host: "gosender.invalid", UriParams: sip.HeaderParams{{K: "transport", V: "ws"}}}})
	req.SetTransport("WS")
	req.SetDestination(dest)
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	res, err := cli.Do(rctx, req, sipgo.ClientRequestBuild)
	if err != nil {
		t.Fatal(err)
	}
	via := res.Via()
	if res.StatusCode != 200 || via == nil {
		t.Fatalf("REGISTER over WS: %d", res.StatusCode)
	}
	if v, ok := via.Params.Get("keep"); !ok || v != "1" || !strings.EqualFold(via.Transport, "WS") {
		t.Fatalf("top Via %s: want the UA's WS Via with keep=1", via.Value())
	}
	before, _ := p.KeepStats()
	sent, answered := 0, 0
	for deadline := time.After(20 * time.Second); sent < 2 || answered < 2; {
		select {
		case ev := <-events:
			if ev.Flow.Transport != abi.TransportWS {
				continue
			}
			switch ev.Action.Kind {
			case abi.ActSendPing:
				sent++
			case abi.ActKeepaliveAnswered:
				answered++
			case abi.ActFlowFailed:
				t.Fatalf("flow failed: %v", ev.Action.Reason)
			}
		case <-deadline:
			t.Fatalf("after 20 s: %d pings sent, %d answered", sent, answered)
		}
	}
	after, _ := p.KeepStats()
	if after.PingsAnswered-before.PingsAnswered < 2 {
		t.Fatalf("the proxy answered %d pings, want the UA's 2", after.PingsAnswered-before.PingsAnswered)
	}
	if s := nk.Stats(); s.PingsSent < 2 || s.PongsIn < 2 {
		t.Fatalf("UA side: %+v", s)
	}
}
