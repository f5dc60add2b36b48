package main

import (
	"bytes"
	"net/netip"
	"strconv"

	"github.com/sipkeep/sipkeep/internal/asciifold"
)

// recordRoutesUs reports whether msg has a Record-Route whose URI names one
// of locals: this proxy record-routes the dialog (R8, R12), read from the
// message itself as netkeep does. Linear in the header bytes.
func recordRoutesUs(msg []byte, locals map[netip.AddrPort]struct{}) bool {
	if len(locals) == 0 || !asciifold.Contains(msg, "record-route") {
		return false
	}
	end := bytes.Index(msg, []byte("\r\n\r\n"))
	if end < 0 {
		end = len(msg)
	}
	head := msg[:end]
	for len(head) > 0 {
		line := head
		if i := bytes.Index(head, []byte("\r\n")); i >= 0 {
			line, head = head[:i], head[i+2:]
		} else {
			head = nil
		}
		c := bytes.IndexByte(line, ':')
		if c < 0 || !bytes.EqualFold(bytes.TrimSpace(line[:c]), []byte("record-route")) {
			continue
		}
		for v := line[c+1:]; len(v) > 0; {
			lt := bytes.IndexByte(v, '<')
			if lt < 0 {
				break
			}
			gt := bytes.IndexByte(v[lt:], '>')
			if gt < 0 {
				break
			}
			if a, ok := uriAddr(v[lt+1 : lt+gt]); ok {
				if _, mine := locals[a]; mine {
					return true
				}
			}
			v = v[lt+gt+1:]
		}
	}
	return false
}

// uriAddr reads host:port from a sip: or sips: URI with a numeric host.
func uriAddr(u []byte) (netip.AddrPort, bool) {
	port := uint64(5060)
	switch {
	case len(u) > 5 && bytes.EqualFold(u[:5], []byte("sips:")):
		u, port = u[5:], 5061
	case len(u) > 4 && bytes.EqualFold(u[:4], []byte("sip:")):
		u = u[4:]
	default:
		return netip.AddrPort{}, false
	}
	if at := bytes.LastIndexByte(u, '@'); at >= 0 {
		u = u[at+1:]
	}
	if e := bytes.IndexAny(u, ";?>"); e >= 0 {
		u = u[:e]
	}
	h := u
	if len(u) > 0 && u[0] == '[' {
		e := bytes.IndexByte(u, ']')
		if e < 0 {
			return netip.AddrPort{}, false
		}
		h, u = u[1:e], u[e+1:]
		if len(u) > 1 && u[0] == ':' {
			p, err := strconv.ParseUint(string(u[1:]), 10, 16)
			if err != nil {
				return netip.AddrPort{}, false
			}
			port = p
		}
	} else if c := bytes.LastIndexByte(u, ':'); c >= 0 {
		p, err := strconv.ParseUint(string(u[c+1:]), 10, 16)
		if err != nil {
			return netip.AddrPort{}, false
		}
		h, port = u[:c], p
	}
	ip, err := netip.ParseAddr(string(h))
	if err != nil {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(port)), true
}
