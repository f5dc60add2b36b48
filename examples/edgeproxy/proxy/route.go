package proxy

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// target is where one forwarded request goes.
type target struct {
	Transport   string // "UDP" or "TCP"
	Destination string // host:port the request is sent to
	// Flow is set when the request goes to a registered UA: it must leave on
	// the flow the UA registered over (the UA's NAT binding / connection).
	Flow *Flow
	// RequestURI replaces the request-URI (AOR lookup), or is nil.
	RequestURI *sip.Uri
}

// errNotFound and errUnavailable map to 404 and 480.
type routeError struct {
	code   int
	reason string
}

func (e *routeError) Error() string { return fmt.Sprintf("%d %s", e.code, e.reason) }

var (
	errNotFound    = &routeError{404, "Not Found"}
	errUnavailable = &routeError{480, "Temporarily Unavailable"}
)

// isUs reports whether u names this proxy (host and port), as in our own
// Record-Route entries coming back as Route.
func (p *Proxy) isUs(u sip.Uri) bool {
	if !p.domains[strings.ToLower(u.Host)] {
		return false
	}
	port := u.Port
	if port == 0 {
		port = 5060
	}
	return p.ownPort(port)
}

// isLocalDomain reports whether a request-URI is served by our registrar.
func (p *Proxy) isLocalDomain(u sip.Uri) bool {
	return p.domains[strings.ToLower(u.Host)] && (u.Port == 0 || p.ownPort(u.Port))
}

// route decides where req goes, popping our own Route entry (loose routing,
// RFC 3261 §16.4). It may edit req's Route headers; it never edits the
// request-URI (the target says what to put there).
func (p *Proxy) route(req *sip.Request) (target, error) {
	if r := req.Route(); r != nil && p.isUs(r.Address) {
		req.RemoveHeader("Route")
	}
	if r := req.Route(); r != nil {
		return p.uriTarget(r.Address, req), nil
	}
	// The remote target of a mid-dialog request toward a registered UA is its
	// Contact: reach it over the flow it registered on.
	if b, ok := p.loc.ByContact(req.Recipient); ok {
		return flowTarget(b, nil), nil
	}
	// Without configured domains every domain's AORs are ours
	// (Config.Domains); a URI with another port than ours names a server
	// to send to (a Contact), not an address-of-record.
	local := p.isLocalDomain(req.Recipient)
	if req.Recipient.User != "" && (local || p.anyDomain && req.Recipient.Port == 0) {
		bs := p.loc.Lookup(AOR(req.Recipient))
		for _, b := range bs {
			if p.flowAlive(b.Flow) {
				uri := b.Contact
				return flowTarget(b, &uri), nil
			}
		}
		if len(bs) > 0 {
			return target{}, errUnavailable
		}
	}
	if local {
		return target{}, errNotFound
	}
	return p.uriTarget(req.Recipient, req), nil
}

func flowTarget(b Binding, uri *sip.Uri) target {
	f := b.Flow
	return target{Transport: f.Transport, Destination: f.Remote, Flow: &f, RequestURI: uri}
}

// uriTarget resolves a URI (next Route or request-URI) to a transport and
// address; the transport comes from ;transport=, else the inbound one.
func (p *Proxy) uriTarget(u sip.Uri, req *sip.Request) target {
	tr := strings.ToUpper(req.Transport())
	if v, ok := u.UriParams.Get("transport"); ok && v != "" {
		tr = strings.ToUpper(v)
	}
	if !p.hasTransport(tr) {
		tr = strings.ToUpper(p.cfg.Transports[0])
	}
	port := u.Port
	if port == 0 {
		port = sip.DefaultPort(tr)
	}
	return target{Transport: tr, Destination: net.JoinHostPort(u.Host, strconv.Itoa(port))}
}

func (p *Proxy) hasTransport(tr string) bool {
	if p.sec.ports[strings.ToUpper(tr)] != 0 {
		return true
	}
	for _, t := range p.cfg.Transports {
		if strings.EqualFold(t, tr) {
			return true
		}
	}
	return false
}

// flowAlive reports whether a registered flow can still carry a request:
// for a stream, its connection must still be open (RFC 5626 §5.3: a request
// for a binding whose flow failed is not sent to the Contact's address).
func (p *Proxy) flowAlive(f Flow) bool {
	if f.Transport == "UDP" {
		return true
	}
	c, err := p.ua.TransportLayer().GetConnection(f.Transport, f.Remote)
	if err != nil {
		return false
	}
	c.TryClose() // GetConnection took a reference
	return true
}
