package sipgokeep_test

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"testing"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/abi/proto"
	"github.com/sipkeep/sipkeep/host"
	"github.com/sipkeep/sipkeep/hostadapters/netkeep"
	"github.com/sipkeep/sipkeep/hostadapters/sipgokeep"
	"github.com/sipkeep/sipkeep/hostadapters/wiretest"
	"github.com/sipkeep/sipkeep/internal/testnet"
	"github.com/sipkeep/sipkeep/internal/testwasm"
)

// The wire-level kit against a sipgo registrar served through the Adapter,
// with the real host and plugin (receiver role, keep=30).
func TestWireKit(t *testing.T) {
	ctx := context.Background()
	nk := netkeep.New(netkeep.WithRole(abi.RoleProxy), netkeep.WithLocalReply(func([]byte) bool { return true }),
		netkeep.WithLogger(slog.New(slog.DiscardHandler)))
	h, err := host.New(ctx, host.WithModuleFile(testwasm.Path(t)), host.WithActionHandler(nk.HandleAction),
		host.WithPolicy(&proto.Policy{ReceiverKeepSeconds: 30}), host.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(ctx)
	nk.Attach(h)
	ua, err := sipgo.NewUA()
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	srv.OnRegister(func(req *sip.Request, tx sip.ServerTransaction) {
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		if c := req.Contact(); c != nil {
			res.AppendHeader(c.Clone())
		}
		_ = tx.Respond(res)
	})
	ad := sipgokeep.New(ua, sipgokeep.WithKeeper(nk))
	defer ad.Close()
	addr := "127.0.0.1:" + strconv.Itoa(testnet.FreePort(t))
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go ad.ServeUDP(srv, pc)
	go ad.ServeTCP(srv, l)
	wiretest.Run(t, wiretest.Target{UDP: addr, TCP: addr, Keep: 30})
}
