package netkeep

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/host"
)

// Keeper owns the wrapped sockets of one SIP entity and connects them to a
// Handler (the host running the plugin). One Keeper serves any number of UDP
// sockets, listeners and dialed streams.
type Keeper struct {
	role       abi.Role
	inRouteSet func(msg []byte, dir abi.Direction) bool
	localReply func(msg []byte) bool
	log        *slog.Logger
	events     func(FlowEvent)
	now        func() time.Time
	lim        Limits

	handler atomic.Pointer[handlerBox]

	mu      sync.Mutex
	packets map[netip.AddrPort]*PacketConn // UDP sockets by local address
	streams map[streamKey]*Conn            // streams by (local, remote)
	locals  map[netip.AddrPort]struct{}    // every wrapped local address (Record-Route test)

	wsStreams wsRegistry // WebSocket connections (ws.go)

	cnt counters
}

type handlerBox struct{ h Handler }

type streamKey struct{ local, remote netip.AddrPort }

// New returns a Keeper; Attach a Handler before traffic flows (until then the
// wrappers still answer STUN and pings, but the plugin sees nothing).
func New(opts ...Option) *Keeper {
	k := &Keeper{
		role:    abi.RoleUA,
		log:     slog.Default(),
		packets: map[netip.AddrPort]*PacketConn{},
		streams: map[streamKey]*Conn{},
		locals:  map[netip.AddrPort]struct{}{},
	}
	for _, o := range opts {
		o(k)
	}
	k.lim = k.lim.withDefaults()
	if k.inRouteSet == nil {
		k.inRouteSet = k.defaultInRouteSet
	}
	if k.localReply == nil {
		ua := k.role == abi.RoleUA
		k.localReply = func([]byte) bool { return ua }
	}
	return k
}

// Attach sets the Handler every wrapped socket reports to (usually the
// *host.Host whose ActionHandler is k.HandleAction).
func (k *Keeper) Attach(h Handler) { k.handler.Store(&handlerBox{h}) }

// handle shows one message to the plugin. Without a handler, or for a message
// too large for the ABI, the message passes unchanged.
func (k *Keeper) handle(kind abi.Kind, dir abi.Direction, f host.Flow, msg []byte) host.Result {
	b := k.handler.Load()
	if b == nil || b.h == nil {
		return host.Result{Message: msg}
	}
	ev := host.Event{Kind: kind, Dir: dir, Flow: f, Role: k.role, Message: msg}
	if kind == abi.KindSIPRequest || kind == abi.KindSIPResponse {
		ev.InRouteSet = k.inRouteSet(msg, dir)
		ev.LocalReply = kind == abi.KindSIPResponse && dir == abi.DirOut && k.localReply(msg)
	}
	if k.now != nil {
		ev.Now = k.now()
	}
	res := b.h.Handle(context.Background(), ev)
	if res.Message == nil {
		res.Message = msg
	}
	if res.Err != nil {
		k.log.Debug("sipkeep: plugin call failed open", "kind", kind, "dir", dir, "flow", flowString(f), "err", res.Err)
	}
	return res
}

func (k *Keeper) emit(f host.Flow, a abi.Action, at time.Time) {
	if k.events != nil {
		k.events(FlowEvent{Flow: f, Action: a, Time: at})
	}
}

// clock is the Keeper's time: WithClock's, or the wall clock.
func (k *Keeper) clock() time.Time {
	if k.now != nil {
		return k.now()
	}
	return time.Now()
}

func (k *Keeper) addPacket(p *PacketConn) {
	k.mu.Lock()
	k.packets[p.local] = p
	k.locals[p.local] = struct{}{}
	k.mu.Unlock()
}

func (k *Keeper) removePacket(p *PacketConn) {
	k.mu.Lock()
	if k.packets[p.local] == p {
		delete(k.packets, p.local)
		delete(k.locals, p.local)
	}
	k.mu.Unlock()
}

func (k *Keeper) addStream(c *Conn) {
	k.mu.Lock()
	k.streams[streamKey{c.flow.Local, c.flow.Remote}] = c
	k.mu.Unlock()
}

func (k *Keeper) removeStream(c *Conn) {
	k.mu.Lock()
	key := streamKey{c.flow.Local, c.flow.Remote}
	mine := k.streams[key] == c
	if mine {
		delete(k.streams, key)
	}
	k.mu.Unlock()
	if !mine {
		return
	}
	k.flowClosed(c.flow)
}

// flowClosed ends a stream's flow (TCP, TLS, WebSocket): nothing is left to
// keep alive or to watch (without this the plugin would ping a closed
// connection and report a pong timeout, or call a UA dead 3×N later), and
// the application is told.
func (k *Keeper) flowClosed(f host.Flow) {
	if b := k.handler.Load(); b != nil {
		if fg, ok := b.h.(Forgetter); ok {
			fg.Forget(f)
		}
	}
	if k.events != nil {
		k.events(FlowEvent{Flow: f, Closed: true, Time: k.clock()})
	}
}

func (k *Keeper) addLocal(a netip.AddrPort) {
	k.mu.Lock()
	k.locals[a] = struct{}{}
	k.mu.Unlock()
}

func (k *Keeper) removeLocal(a netip.AddrPort) {
	k.mu.Lock()
	delete(k.locals, a)
	k.mu.Unlock()
}

// packetFor finds the UDP socket of a flow: by its exact local address, or a
// wildcard-bound socket on the same port.
func (k *Keeper) packetFor(local netip.AddrPort) *PacketConn {
	k.mu.Lock()
	defer k.mu.Unlock()
	if p := k.packets[local]; p != nil {
		return p
	}
	for a, p := range k.packets {
		if a.Port() == local.Port() && a.Addr().IsUnspecified() {
			return p
		}
	}
	return nil
}

func (k *Keeper) streamFor(f host.Flow) *Conn {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.streams[streamKey{f.Local, f.Remote}]
}

// isLocal reports whether host:port names one of our wrapped sockets.
func (k *Keeper) isLocal(a netip.AddrPort) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.locals[a]; ok {
		return true
	}
	for l := range k.locals {
		if l.Port() == a.Port() && l.Addr().IsUnspecified() {
			return true
		}
	}
	return false
}

// addrPort converts a net.Addr to a netip.AddrPort with IPv4 unmapped, so
// that flows compare equal whichever API produced them.
func addrPort(a net.Addr) netip.AddrPort {
	var ap netip.AddrPort
	switch v := a.(type) {
	case *net.UDPAddr:
		ap = v.AddrPort()
	case *net.TCPAddr:
		ap = v.AddrPort()
	default:
		if a == nil {
			return ap
		}
		p, err := netip.ParseAddrPort(a.String())
		if err != nil {
			return ap
		}
		ap = p
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

func flowString(f host.Flow) string {
	return f.Transport.String() + " " + f.Local.String() + "->" + f.Remote.String()
}
