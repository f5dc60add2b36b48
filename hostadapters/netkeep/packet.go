package netkeep

import (
	"bytes"
	"net"
	"net/netip"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/host"
	"github.com/sipkeep/sipkeep/internal/stunresp"
)

// PacketConn is a UDP SIP socket under sipkeep. ReadFrom returns SIP
// datagrams only: STUN is answered or handed to the plugin, CRLF datagrams
// are dropped. WriteTo passes each SIP message through the plugin.
type PacketConn struct {
	net.PacketConn
	k     *Keeper
	local netip.AddrPort
}

// WrapPacketConn puts a UDP socket under the Keeper. Keep-alive STUN requests
// for its flows leave from this same socket.
func (k *Keeper) WrapPacketConn(pc net.PacketConn) net.PacketConn {
	p := &PacketConn{PacketConn: pc, k: k, local: addrPort(pc.LocalAddr())}
	k.addPacket(p)
	return p
}

func (p *PacketConn) flow(remote net.Addr) host.Flow {
	return host.Flow{Transport: abi.TransportUDP, Local: p.local, Remote: addrPort(remote)}
}

// ReadFrom returns the next SIP datagram.
func (p *PacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, addr, err := p.PacketConn.ReadFrom(b)
		if err != nil {
			return n, addr, err
		}
		d := b[:n]
		if h, ok := parseSTUNHeader(d); ok {
			p.onSTUN(d, h, addr)
			continue
		}
		if len(bytes.Trim(d, "\r\n")) == 0 {
			// K1: CRLF keep-alives are not for UDP; never a SIP message.
			p.k.cnt.strayUDPCRLF.Add(1)
			continue
		}
		// The stream framer's header checks, so that the plugin and the
		// SIP stack read the same message; a datagram is cut after its
		// Content-Length (RFC 3261 §18.3).
		m, ferr := checkDatagram(d, p.k.lim)
		if ferr != nil {
			p.k.cnt.datagramsRejected.Add(1)
			p.k.log.Debug("sipkeep: datagram dropped", "flow", flowString(p.flow(addr)), "err", ferr)
			continue
		}
		p.k.cnt.sipIn.Add(1)
		p.k.handle(sipKind(d), abi.DirIn, p.flow(addr), d[:m])
		return m, addr, nil
	}
}

func (p *PacketConn) onSTUN(d []byte, h stunresp.Header, addr net.Addr) {
	f := p.flow(addr)
	switch {
	case h.BindingRequest():
		res, err := bindingResponse(d, f.Remote, p.local)
		if err != nil {
			p.k.log.Debug("sipkeep: bad STUN binding request", "flow", flowString(f), "err", err)
			return
		}
		if _, err := p.PacketConn.WriteTo(res, addr); err != nil {
			p.k.log.Debug("sipkeep: STUN answer not sent", "flow", flowString(f), "err", err)
			return
		}
		p.k.cnt.stunServed.Add(1)
		p.k.handle(abi.KindSTUN, abi.DirIn, f, d)
	case h.Class() == stunresp.ClassRequest || h.Class() == stunresp.ClassIndication:
		p.k.log.Debug("sipkeep: STUN request or indication ignored", "flow", flowString(f), "type", h.Type)
	default: // success or error response: ours to match
		p.k.cnt.stunIn.Add(1)
		p.k.handle(abi.KindSTUN, abi.DirIn, f, d)
	}
}

// WriteTo sends one SIP datagram with the plugin's edits applied. Anything
// that is not SIP (STUN written by the application) passes unchanged.
func (p *PacketConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if _, stunLike := parseSTUNHeader(b); stunLike || len(bytes.Trim(b, "\r\n")) == 0 {
		return p.PacketConn.WriteTo(b, addr)
	}
	p.k.cnt.sipOut.Add(1)
	res := p.k.handle(sipKind(b), abi.DirOut, p.flow(addr), b)
	if _, err := p.PacketConn.WriteTo(res.Message, addr); err != nil {
		return 0, err
	}
	return len(b), nil
}

// sendSTUN sends a Binding request with the plugin's transaction id.
func (p *PacketConn) sendSTUN(remote netip.AddrPort, tx [12]byte) error {
	req, err := bindingRequest(tx)
	if err != nil {
		return err
	}
	_, err = p.PacketConn.WriteTo(req, net.UDPAddrFromAddrPort(p.mapFamily(remote)))
	return err
}

// mapFamily writes to an IPv4 peer as ::ffff:a.b.c.d on a dual-stack IPv6
// socket (an IPv4 address works on udp4 and on dual-stack sockets alike, but
// an IPv6 socket bound to a specific v6 address needs the mapped form).
func (p *PacketConn) mapFamily(a netip.AddrPort) netip.AddrPort {
	if a.Addr().Is4() && p.local.Addr().Is6() && !p.local.Addr().IsUnspecified() {
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr().As16()), a.Port())
	}
	return a
}

// Close closes the socket and forgets it.
func (p *PacketConn) Close() error {
	p.k.removePacket(p)
	return p.PacketConn.Close()
}
