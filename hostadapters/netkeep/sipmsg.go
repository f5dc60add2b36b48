package netkeep

import (
	"bytes"
	"net/netip"
	"strconv"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/internal/asciifold"
)

// sipKind tells a response ("SIP/2.0 ...") from a request by its start line.
func sipKind(msg []byte) abi.Kind {
	if len(msg) >= 8 && bytes.EqualFold(msg[:8], []byte("SIP/2.0 ")) {
		return abi.KindSIPResponse
	}
	return abi.KindSIPRequest
}

// eachHeader calls fn with the name and value of every header line of msg
// (start line skipped, folded continuation lines joined to their header's
// value by a space), until fn returns false or the headers end. Linear in
// the header bytes: a folded value is built once, in one scratch buffer.
func eachHeader(msg []byte, fn func(name, value []byte) bool) {
	end := bytes.Index(msg, []byte("\r\n\r\n"))
	if end < 0 {
		end = len(msg)
	}
	head := msg[:end]
	i := bytes.Index(head, []byte("\r\n"))
	if i < 0 {
		return
	}
	rest := head[i+2:]
	var name, value, scratch []byte
	folded := false
	flush := func() bool {
		if name == nil {
			return true
		}
		return fn(name, bytes.TrimSpace(value))
	}
	for len(rest) > 0 {
		line := rest
		if j := bytes.Index(rest, []byte("\r\n")); j >= 0 {
			line, rest = rest[:j], rest[j+2:]
		} else {
			rest = nil
		}
		if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') && name != nil {
			if !folded {
				scratch = append(scratch[:0], value...)
				folded = true
			}
			scratch = append(append(scratch, ' '), bytes.TrimSpace(line)...)
			value = scratch
			continue
		}
		if !flush() {
			return
		}
		folded = false
		c := bytes.IndexByte(line, ':')
		if c < 0 {
			name, value = nil, nil
			continue
		}
		name, value = bytes.TrimSpace(line[:c]), line[c+1:]
	}
	flush()
}

// isRegisterOK reports whether msg is a 2xx response to a REGISTER.
func isRegisterOK(msg []byte) bool {
	if len(msg) < 9 || sipKind(msg) != abi.KindSIPResponse || msg[8] != '2' || !asciifold.Contains(msg, "register") {
		return false
	}
	ok := false
	eachHeader(msg, func(name, value []byte) bool {
		if !bytes.EqualFold(name, []byte("CSeq")) {
			return true
		}
		f := bytes.Fields(value)
		ok = len(f) == 2 && bytes.EqualFold(f[1], []byte("REGISTER"))
		return false
	})
	return ok
}

// recordRouteHosts calls fn with the host:port of every Record-Route URI.
func recordRouteHosts(msg []byte, fn func(host string, port uint16) bool) {
	eachHeader(msg, func(name, value []byte) bool {
		if !bytes.EqualFold(name, []byte("Record-Route")) {
			return true
		}
		for _, v := range splitComma(value) {
			h, p, ok := uriHostPort(v)
			if ok && !fn(h, p) {
				return false
			}
		}
		return true
	})
}

// splitComma splits a header value on commas outside <> and quotes.
func splitComma(v []byte) [][]byte {
	var out [][]byte
	depth, quoted, start := 0, false, 0
	for i, c := range v {
		switch {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '<':
			depth++
		case c == '>':
			depth--
		case c == ',' && depth == 0:
			out = append(out, v[start:i])
			start = i + 1
		}
	}
	return append(out, v[start:])
}

// uriHostPort extracts host and port from a name-addr or addr-spec such as
// `<sip:10.0.0.1:5060;lr>` (default port 5060, 5061 for sips).
func uriHostPort(v []byte) (string, uint16, bool) {
	if i := bytes.IndexByte(v, '<'); i >= 0 {
		v = v[i+1:]
		if j := bytes.IndexByte(v, '>'); j >= 0 {
			v = v[:j]
		}
	}
	v = bytes.TrimSpace(v)
	port := uint16(5060)
	c := bytes.IndexByte(v, ':')
	if c < 0 {
		return "", 0, false
	}
	if bytes.EqualFold(v[:c], []byte("sips")) {
		port = 5061
	}
	v = v[c+1:]
	if at := bytes.LastIndexByte(v, '@'); at >= 0 {
		v = v[at+1:]
	}
	if e := bytes.IndexAny(v, ";?"); e >= 0 {
		v = v[:e]
	}
	hostb := v
	if len(v) > 0 && v[0] == '[' {
		e := bytes.IndexByte(v, ']')
		if e < 0 {
			return "", 0, false
		}
		hostb, v = v[1:e], v[e+1:]
		if len(v) > 0 && v[0] == ':' {
			p, err := strconv.ParseUint(string(v[1:]), 10, 16)
			if err != nil {
				return "", 0, false
			}
			port = uint16(p)
		}
		return string(hostb), port, true
	}
	if c := bytes.LastIndexByte(v, ':'); c >= 0 {
		p, err := strconv.ParseUint(string(v[c+1:]), 10, 16)
		if err != nil {
			return "", 0, false
		}
		hostb, port = v[:c], uint16(p)
	}
	return string(hostb), port, true
}

// defaultInRouteSet: a UA always; a proxy when it record-routes, i.e. the
// message has a Record-Route naming one of our wrapped sockets.
func (k *Keeper) defaultInRouteSet(msg []byte, _ abi.Direction) bool {
	if k.role != abi.RoleProxy {
		return true
	}
	if !asciifold.Contains(msg, "record-route") {
		return false // most messages: no header walk
	}
	found := false
	recordRouteHosts(msg, func(h string, p uint16) bool {
		a, err := netip.ParseAddr(h)
		if err != nil {
			return true
		}
		if k.isLocal(netip.AddrPortFrom(a.Unmap(), p)) {
			found = true
			return false
		}
		return true
	})
	return found
}
