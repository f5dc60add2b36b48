package proxy

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// onRegister is the registrar (RFC 3261 §10.3) with the RFC 5626 §6
// additions an edge proxy for NATed UAs needs: bindings remember the flow
// the REGISTER came over, and an outbound registration's 2xx carries
// Require: outbound and Flow-Timer, equal to the keep value sipkeep grants
// in the same response (RFC 6223 §5, R15).
func (p *Proxy) onRegister(req *sip.Request, tx sip.ServerTransaction) {
	to := req.To()
	if to == nil {
		p.mt.registers.WithLabelValues("400").Inc()
		p.respond(req, tx, 400, "Bad Request")
		return
	}
	// RFC 3261 §10.3 steps 1 and 5: with configured domains, a REGISTER
	// for another domain is refused rather than bound to an AOR that
	// routing would never look up.
	if !p.anyDomain && (!p.isLocalDomain(req.Recipient) || !p.domains[strings.ToLower(to.Address.Host)]) {
		p.mt.registers.WithLabelValues("404").Inc()
		p.respond(req, tx, 404, "Not Found")
		return
	}
	if _, chal := p.au.check(req); chal != nil {
		p.mt.registers.WithLabelValues("401").Inc()
		p.respond(req, tx, 401, "Unauthorized", chal)
		return
	}
	aor := AOR(to.Address)
	now := time.Now()
	expHdr := -1
	if h := req.GetHeader("Expires"); h != nil {
		if v, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && v >= 0 {
			expHdr = v
		}
	}
	outboundOK := p.k != nil && hasOptionTag(req, "Supported", "outbound")
	var bs []*Binding
	outbound := false
	callID := ""
	if c := req.CallID(); c != nil {
		callID = c.Value()
	}
	var cseq uint32
	if c := req.CSeq(); c != nil {
		cseq = c.SeqNo
	}
	flow := Flow{Transport: strings.ToUpper(req.Transport()), Remote: req.Source(), Local: p.Addr()}
	for _, h := range req.GetHeaders("Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			continue
		}
		if c.Address.Wildcard {
			if expHdr != 0 {
				p.respond(req, tx, 400, "Bad Request")
				return
			}
			p.loc.RemoveAll(aor)
			continue
		}
		exp := p.cfg.DefaultExpires
		if expHdr >= 0 {
			exp = time.Duration(expHdr) * time.Second
		}
		if v, ok := c.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(v); err == nil && n >= 0 {
				exp = time.Duration(n) * time.Second
			}
		}
		exp = min(exp, p.cfg.MaxExpires)
		b := &Binding{AOR: aor, Contact: *c.Address.Clone(), Expires: now.Add(exp), Flow: flow,
			CallID: callID, CSeq: cseq, Registered: now}
		b.Instance, _ = c.Params.Get("+sip.instance")
		b.RegID, _ = c.Params.Get("reg-id")
		if outboundOK && b.Instance != "" && b.RegID != "" {
			b.Outbound, outbound = true, true
		}
		bs = append(bs, b)
	}
	cur, err := p.loc.Update(aor, bs, p.cfg.MaxContacts)
	if err != nil {
		// Kamailio answers 503 here; 503 invites a retry elsewhere or
		// later (RFC 3261 §21.5.4), which cannot help: the limit is a
		// policy refusal, so 403 with the reason.
		p.mt.registers.WithLabelValues("403").Inc()
		p.respond(req, tx, 403, "Too Many Registered Contacts")
		return
	}
	p.mt.registers.WithLabelValues("200").Inc()

	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	for _, b := range cur {
		ch := &sip.ContactHeader{Address: *b.Contact.Clone()}
		ch.Params.Add("expires", strconv.Itoa(int(time.Until(b.Expires).Round(time.Second)/time.Second)))
		if b.Instance != "" {
			ch.Params.Add("+sip.instance", b.Instance)
		}
		if b.RegID != "" {
			ch.Params.Add("reg-id", b.RegID)
		}
		res.AppendHeader(ch)
	}
	if outbound {
		res.AppendHeader(sip.NewHeader("Require", "outbound"))
		if p.cfg.Keep.Seconds > 0 {
			res.AppendHeader(sip.NewHeader("Flow-Timer", strconv.Itoa(int(p.cfg.Keep.Seconds))))
		}
	}
	res.AppendHeader(sip.NewHeader("Date", now.UTC().Format(http.TimeFormat)))
	p.send(tx, res)
}

// hasOptionTag reports whether a Supported/Require-style header lists tag.
func hasOptionTag(req *sip.Request, header, tag string) bool {
	for _, h := range req.GetHeaders(header) {
		for _, t := range strings.Split(h.Value(), ",") {
			if strings.EqualFold(strings.TrimSpace(t), tag) {
				return true
			}
		}
	}
	return false
}
