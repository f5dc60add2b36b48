package uaclient_test

import (
	"bytes"
	"context"
	"net"
	"regexp"
	"sync/atomic"
	"testing"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/abi/proto"
	"github.com/sipkeep/sipkeep/host"
	"github.com/sipkeep/sipkeep/hostadapters/netkeep"
	"github.com/sipkeep/sipkeep/internal/testwasm"
)

// registrar is a small real registrar: sipgo on netkeep-wrapped sockets, with
// the real host and plugin granting keep (receiver role). silent makes it
// ignore everything it receives (SIP, STUN and pings), as a dead peer would.
type registrar struct {
	addr    string
	keeper  *netkeep.Keeper
	silent  atomic.Bool
	sawKeep atomic.Int32 // REGISTERs whose top Via offered keep
	regs    atomic.Int32
}

func startRegistrar(t *testing.T, transport string, pol *proto.Policy) *registrar {
	t.Helper()
	ctx := context.Background()
	r := &registrar{}
	r.keeper = netkeep.New(netkeep.WithRole(abi.RoleUA))
	h, err := host.New(ctx, host.WithModuleFile(testwasm.Path(t)), host.WithActionHandler(r.keeper.HandleAction), host.WithPolicy(pol))
	if err != nil {
		t.Fatal(err)
	}
	r.keeper.Attach(h)
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("registrar"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	srv.OnRegister(func(req *sip.Request, tx sip.ServerTransaction) {
		r.regs.Add(1)
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		if c := req.Contact(); c != nil {
			res.AppendHeader(c.Clone())
		}
		if e := req.GetHeader("Expires"); e != nil {
			res.AppendHeader(sip.NewHeader("Expires", e.Value()))
		}
		_ = tx.Respond(res)
	})
	if transport == "tcp" {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		r.addr = l.Addr().String()
		go func() { _ = srv.ServeTCP(r.keeper.WrapListener(&silentListener{Listener: l, r: r})) }()
		t.Cleanup(func() { l.Close() })
	} else {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		r.addr = pc.LocalAddr().String()
		go func() { _ = srv.ServeUDP(r.keeper.WrapPacketConn(&silentPacketConn{PacketConn: pc, r: r})) }()
		t.Cleanup(func() { pc.Close() })
	}
	t.Cleanup(func() { ua.Close(); h.Close(ctx) })
	return r
}

// note counts REGISTERs whose top Via offers keep, on the wire (sipgo's Via
// parser is not to be trusted with keep).
func (r *registrar) note(b []byte) {
	if bytes.HasPrefix(b, []byte("REGISTER ")) && keepOffer.Match(b) {
		r.sawKeep.Add(1)
	}
}

var keepOffer = regexp.MustCompile(`(?m)^Via: [^,\r]*;keep(;|\r)`)

// silentPacketConn / silentListener drop what arrives while r.silent is set,
// under netkeep (so not even STUN or pings are answered).
type silentPacketConn struct {
	net.PacketConn
	r *registrar
}

func (p *silentPacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, a, err := p.PacketConn.ReadFrom(b)
		p.r.note(b[:n])
		if err != nil || !p.r.silent.Load() {
			return n, a, err
		}
	}
}

type silentListener struct {
	net.Listener
	r *registrar
}

func (l *silentListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &silentConn{Conn: c, r: l.r}, nil
}

type silentConn struct {
	net.Conn
	r *registrar
}

func (c *silentConn) Read(b []byte) (int, error) {
	for {
		n, err := c.Conn.Read(b)
		c.r.note(b[:n])
		if err != nil || !c.r.silent.Load() {
			return n, err
		}
	}
}

// smallPolicy makes keep-alives and their failures fast enough for tests.
func smallPolicy(keep uint32) *proto.Policy {
	return &proto.Policy{
		FloorSeconds: 1, ReceiverKeepSeconds: keep,
		PongTimeoutMs: 500, StunRtoMs: 100, StunMaxRequests: 3, StunFinalMultiplier: 2,
	}
}
