package keep

import "github.com/sipkeep/sipkeep/abi"

// RFC 5626 §4.4.1 defaults when no value was negotiated (keep=0, R14, K5), ms.
const (
	defaultStreamLo = 95_000
	defaultStreamHi = 120_000
	defaultUDPLo    = 24_000
	defaultUDPHi    = 29_000
)

// onTimer runs everything that is due at now: binding expiries, STUN
// retransmissions and timeouts, pong deadlines, the next keep-alive, and the
// receiver's dead-flow check.
func (p *Plugin) onTimer(c *call) {
	now := c.in.Now
	r := &c.rec
	for i := r.n - 1; i >= 0; i-- {
		if b := r.at(i); b.expires() <= now {
			why := abi.ReasonDialogEnded
			if b.kind() == bkRegistration {
				why = abi.ReasonRegistrationEnded // R2: expiry ends it
			}
			if b.side() == sideSender {
				c.endReason = why
			}
			c.setReason(why)
			r.remove(i)
		}
	}
	s := &r.send
	if s.flags&sfSTUNOutstanding != 0 && s.txNext <= now {
		if uint32(s.txAttempt) >= p.pol.STUNMaxRequests {
			p.fail(c, abi.ReasonSTUNTimeout) // K4, R18
		} else {
			p.retransmitSTUN(c)
		}
	}
	if s.flags&sfPingOutstanding != 0 && s.pongDeadline <= now {
		p.fail(c, abi.ReasonPongTimeout) // K2
	}
	p.reconcile(c)
	if p.sending(r) && s.flags&(sfSTUNOutstanding|sfPingOutstanding) == 0 && s.nextSend <= now {
		p.sendKeepalive(c)
	}
	p.checkDead(c)
}

// sending reports whether keep-alives are running on the flow.
func (p *Plugin) sending(r *record) bool {
	return r.send.flags&sfActive != 0 && r.send.flags&sfFailed == 0
}

// sendKeepalive starts one keep-alive: a STUN Binding transaction on UDP
// (K3), a CRLFCRLF ping on streams (K1).
func (p *Plugin) sendKeepalive(c *call) {
	s := &c.rec.send
	now := c.in.Now
	s.sentAt = now
	if c.in.Transport.Stream() {
		s.flags |= sfPingOutstanding
		s.pongDeadline = now + int64(p.pol.PongTimeoutMs)
		c.act(abi.ActSendPing, abi.ReasonNone, p.pol.PongTimeoutMs)
		return
	}
	// A fresh 96-bit transaction id from the host's randomness.
	a, b := c.random(), c.random()
	for i := 0; i < 8; i++ {
		s.txID[i] = byte(a >> (8 * i))
	}
	for i := 0; i < 4; i++ {
		s.txID[8+i] = byte(b >> (8 * i))
	}
	s.flags |= sfSTUNOutstanding
	s.txAttempt = 0
	s.txRTO = p.pol.STUNRTOMs
	p.retransmitSTUN(c)
}

// retransmitSTUN sends request number txAttempt+1 of the transaction (RFC
// 5389 §7.2.1): RTO doubles after each request; after the last (Rc) the
// client waits Rm×RTO (the initial RTO) before giving up — 39.5 s by default.
func (p *Plugin) retransmitSTUN(c *call) {
	s := &c.rec.send
	s.txAttempt++
	if s.txAttempt > 1 {
		s.txRTO *= 2
	}
	wait := s.txRTO
	if uint32(s.txAttempt) >= p.pol.STUNMaxRequests {
		wait = p.pol.STUNFinalMultiplier * p.pol.STUNRTOMs
	}
	s.txNext = c.in.Now + int64(wait)
	a := c.act(abi.ActSendSTUN, abi.ReasonNone, wait)
	a.Attempt = uint16(s.txAttempt)
	a.TxID = s.txID
}

// fail stops the flow's keep-alives after a failure and tells the host
// (R18: for the rest of the dialog, or until a registration re-negotiates).
func (p *Plugin) fail(c *call, why abi.Reason) {
	s := &c.rec.send
	s.flags = (s.flags | sfFailed) &^ (sfSTUNOutstanding | sfPingOutstanding)
	c.act(abi.ActFlowFailed, why, 0)
	c.setReason(why)
}

// answered: the outstanding keep-alive got its answer; schedule the next one
// an interval after the one just answered was sent (R13).
func (p *Plugin) answered(c *call) {
	s := &c.rec.send
	s.flags &^= sfSTUNOutstanding | sfPingOutstanding
	a := c.act(abi.ActKeepaliveAnswered, abi.ReasonNone, 0)
	a.TxID = s.txID
	lo, hi, ok := p.senderInterval(c)
	if !ok {
		return
	}
	s.nextSend = s.sentAt + c.between(lo, hi)
	if s.nextSend < c.in.Now {
		s.nextSend = c.in.Now
	}
}

// onPong: a CRLF pong arrived on the stream (K1). An unsolicited pong is
// harmless (K6).
func (p *Plugin) onPong(c *call) {
	p.noteSeen(c)
	if c.rec.send.flags&sfPingOutstanding == 0 {
		c.setReason(abi.ReasonNotOurs)
		return
	}
	p.answered(c)
}

// onSTUN: a Binding request received (the host has answered it: the peer's
// keep-alive), or a response to one of ours.
func (p *Plugin) onSTUN(c *call, e entry) {
	p.noteSeen(c)
	if e == entryRequest {
		return
	}
	var st stunMessage
	if !st.parse(c.in.Message) {
		p.stats.malformed++
		c.setReason(abi.ReasonMalformed)
		return
	}
	s := &c.rec.send
	if s.flags&sfSTUNOutstanding == 0 || st.txID != s.txID {
		c.setReason(abi.ReasonNotOurs)
		return
	}
	if st.class == stunClassError {
		// The peer is there and answered: the flow works (RFC 5626 §4.4.2
		// only asks for a response); the address is unknown.
		c.setReason(abi.ReasonSTUNError)
		p.answered(c)
		return
	}
	p.answered(c)
	if !st.hasMapped {
		return
	}
	if s.flags&sfHaveMapped != 0 && s.mapped != st.mapped {
		s.mapped = st.mapped
		p.fail(c, abi.ReasonMappedAddrChanged) // K4: the NAT binding changed
		return
	}
	s.mapped = st.mapped
	s.flags |= sfHaveMapped
}

// noteSeen: something arrived on the flow; as a receiver, it is alive.
func (p *Plugin) noteSeen(c *call) {
	r := &c.rec.recv
	if r.flags&rfActive != 0 {
		r.lastSeen = c.in.Now
		r.flags &^= rfDeadReported
	}
}

// checkDead: as a receiver, report a flow on which nothing arrived for the
// dead-flow multiple of the granted interval.
func (p *Plugin) checkDead(c *call) {
	r := &c.rec.recv
	if r.flags&rfActive == 0 || r.flags&rfDeadReported != 0 || p.pol.DeadFlowDisabled {
		return
	}
	if c.in.Now >= p.deadAt(c) {
		r.flags |= rfDeadReported
		c.act(abi.ActFlowDead, abi.ReasonNoKeepalives, 0)
		c.setReason(abi.ReasonNoKeepalives)
	}
}

// deadAt is when the receiver gives up on the flow.
func (p *Plugin) deadAt(c *call) int64 {
	return p.deadAtFrom(c, p.summarize(c))
}

func (p *Plugin) deadAtFrom(c *call, s *bindingSummary) int64 {
	return c.rec.recv.lastSeen + s.recvIv*int64(p.pol.DeadFlowMultiple)
}

// senderInterval is the range each keep-alive interval is drawn from: the
// shortest over the flow's sender bindings, each N clamped to the policy's
// floor and ceiling and drawn in [0.8N, N] (R13); keep=0 uses RFC 5626's
// defaults (R14, K5).
func (p *Plugin) senderInterval(c *call) (lo, hi int64, ok bool) {
	s := p.summarize(c)
	return s.sendLo, s.sendHi, s.sendOK
}

// bindingSummary is what the rules read about the flow's bindings as a
// whole. summarize takes it in one pass: a flow can carry 48 bindings (a
// PBX registering its lines over one connection), and each pass over them
// is ~1 µs in wasm (BenchmarkRegistrarManyAORs).
type bindingSummary struct {
	sendLo, sendHi int64 // senderInterval
	sendOK         bool
	recvN          int   // receiver bindings
	recvIv         int64 // the shortest receiver interval, ms (deadAt); 0 with none
	minExpires     int64 // the earliest expiry, Unix ms; 0 with none
}

// summarize fills c.sum from the bindings and returns it.
func (p *Plugin) summarize(c *call) *bindingSummary {
	s := &c.sum
	s.sendLo, s.sendHi, s.sendOK, s.recvN, s.recvIv, s.minExpires = 0, 0, false, 0, 0, 0
	stream := c.in.Transport.Stream()
	for i := 0; i < c.rec.n; i++ {
		b := c.rec.at(i)
		if t := b.expires(); t > 0 && (s.minExpires == 0 || t < s.minExpires) {
			s.minExpires = t
		}
		keep := b.keep()
		switch b.side() {
		case sideReceiver:
			s.recvN++
			v := int64(keep) * 1000
			if keep == 0 {
				v = defaultUDPHi
				if stream {
					v = defaultStreamHi
				}
			}
			if s.recvIv == 0 || v < s.recvIv {
				s.recvIv = v
			}
		case sideSender:
			var l, h int64
			switch {
			case keep == 0 && stream:
				l, h = defaultStreamLo, defaultStreamHi
			case keep == 0:
				l, h = defaultUDPLo, defaultUDPHi
			default:
				n := keep
				if n < p.pol.FloorSeconds {
					n = p.pol.FloorSeconds
				}
				if n > p.pol.CeilingSeconds {
					n = p.pol.CeilingSeconds
				}
				h = int64(n) * 1000
				l = h * 8 / 10
			}
			if !s.sendOK || h < s.sendHi {
				s.sendLo, s.sendHi, s.sendOK = l, h, true
			}
		}
	}
	return s
}

// reconcile brings the flow's sender and receiver state in line with its
// bindings: keep-alives start with the first binding and stop with the last.
func (p *Plugin) reconcile(c *call) {
	s := &c.rec.send
	// The bindings do not change from here to the deadline (encode): one
	// summary serves both.
	sum := p.summarize(c)
	lo, hi, ok := sum.sendLo, sum.sendHi, sum.sendOK
	switch {
	case !ok:
		if s.flags&sfActive != 0 && s.flags&sfFailed == 0 {
			why := c.endReason
			if why == abi.ReasonNone {
				why = abi.ReasonRegistrationEnded
			}
			c.act(abi.ActKeepaliveStopped, why, 0)
		}
		s.reset()
	case s.flags&sfFailed != 0:
		// Stopped after a failure (R18).
	case s.flags&sfActive == 0:
		s.flags |= sfActive
		s.nextSend = c.in.Now + c.between(lo, hi)
		c.act(abi.ActKeepaliveStarted, abi.ReasonNone, uint32(hi/1000))
	case s.flags&(sfSTUNOutstanding|sfPingOutstanding) == 0 && s.nextSend > c.in.Now+hi:
		// A binding with a shorter interval arrived: do not wait the old one out.
		s.nextSend = c.in.Now + c.between(lo, hi)
	}
	r := &c.rec.recv
	switch n := sum.recvN; {
	case n == 0:
		*r = recvState{}
	case r.flags&rfActive == 0:
		r.flags |= rfActive
		r.lastSeen = c.in.Now
		c.act(abi.ActReceiveStarted, abi.ReasonNone, p.grantedInterval(c))
	}
}

// grantedInterval is the smallest value granted on the flow, in seconds.
func (p *Plugin) grantedInterval(c *call) uint32 {
	var g uint32
	first := true
	for i := 0; i < c.rec.n; i++ {
		if b := c.rec.at(i); b.side() == sideReceiver && (first || b.keep() < g) {
			g, first = b.keep(), false
		}
	}
	return g
}

// deadline is when on_timer must next run for the flow (0: never).
func (p *Plugin) deadline(c *call) int64 {
	var d int64
	at := func(t int64) {
		if t > 0 && (d == 0 || t < d) {
			d = t
		}
	}
	r := &c.rec
	sum := &c.sum // reconcile summarised the bindings, which have not changed since
	at(sum.minExpires)
	s := &r.send
	switch {
	case s.flags&sfSTUNOutstanding != 0:
		at(s.txNext)
	case s.flags&sfPingOutstanding != 0:
		at(s.pongDeadline)
	case p.sending(r):
		at(s.nextSend)
	}
	if r.recv.flags&rfActive != 0 && r.recv.flags&rfDeadReported == 0 && !p.pol.DeadFlowDisabled {
		at(p.deadAtFrom(c, sum))
	}
	return d
}
