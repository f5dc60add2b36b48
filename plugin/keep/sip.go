package keep

import (
	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/plugin/internal/sipscan"
)

// onSIP handles a SIP request or response, in either direction.
func (p *Plugin) onSIP(c *call) {
	m := &c.msg
	need := p.scanNeed(c)
	if err := sipscan.ScanFor(c.in.Message, m, need); err != nil {
		p.malformed(c, err)
		return
	}
	if m.IsRequest != (c.in.Kind == abi.KindSIPRequest) {
		p.stats.malformed++
		c.setReason(abi.ReasonMalformed) // a response passed as a request, or the reverse
		return
	}
	if c.in.Dir == abi.DirIn || !m.IsRequest {
		// Anything received shows the flow alive; so does a response we
		// send on it, which answers a request that arrived on it (RFC 3261
		// §18.2.2). That is what lets a host skip a quiet refresh
		// (abi.FeatureQuietRefresh).
		p.noteSeen(c)
	}
	var key uint64
	switch {
	case m.IsRequest && m.Method == sipscan.MethodREGISTER:
		// A REGISTER request reads its binding only to end it: a refresh
		// or a query leaves it to the 2xx. So the scan left its Call-ID
		// and To unread, and a de-registration (rare) is scanned again
		// for its AOR.
		if isDeregistration(m) {
			if err := sipscan.ScanFor(c.in.Message, m, need|sipscan.NeedRegisterIDs); err != nil {
				p.malformed(c, err)
				return
			}
			key = registrationKey(m)
		}
	case m.CSeqMethod == sipscan.MethodREGISTER && !m.IsRequest:
		key = registrationKey(m)
	default:
		key = hash(m.CallID) // a dialog's key
	}
	if m.IsRequest {
		if m.Method != sipscan.MethodREGISTER {
			p.touchDialog(c, key)
		}
		switch {
		case m.Method == sipscan.MethodBYE:
			// A BYE ends the INVITE dialog whichever way it goes (R3); a
			// subscription in the same dialog lives on (RFC 5057 §5).
			p.endBindings(c, key, bkDialog, sideSender, abi.ReasonDialogEnded)
			p.endBindings(c, key, bkDialog, sideReceiver, abi.ReasonDialogEnded)
		case m.Method == sipscan.MethodNOTIFY && m.SubscriptionTerminated:
			// The subscription's end (RFC 6665 §4.4.1) ends its dialog
			// usage, whichever way the NOTIFY goes.
			p.endBindings(c, key, bkSubscription, sideSender, abi.ReasonDialogEnded)
			p.endBindings(c, key, bkSubscription, sideReceiver, abi.ReasonDialogEnded)
		}
		if c.in.Dir == abi.DirOut {
			p.requestOut(c, key)
		} else {
			p.requestIn(c, key)
		}
		return
	}
	if c.in.Dir == abi.DirIn {
		p.responseIn(c, key)
	} else {
		p.responseOut(c, key)
	}
}

// malformed says in the result why the message could not be scanned.
func (p *Plugin) malformed(c *call, err error) {
	p.stats.malformed++
	if err == sipscan.ErrTooLarge {
		c.setReason(abi.ReasonTooLarge)
	} else {
		c.setReason(abi.ReasonMalformed)
	}
}

// scanNeed is what the rules read beyond the scan's minimum. They never
// read From, Record-Route (the route set is the host's InRouteSet) or
// Require/Supported, nor Contact and Expires in a request other than
// REGISTER, nor Call-ID and To in a REGISTER request that is not a
// de-registration (onSIP scans those again). The Vias below the top matter
// only to a proxy forwarding a response, and only those with keep (R17).
// A header left out costs the scan nothing.
func (p *Plugin) scanNeed(c *call) sipscan.Need {
	if c.in.Kind == abi.KindSIPResponse && c.in.Dir == abi.DirOut && c.in.Role == abi.RoleProxy && !p.pol.KeepLowerValues {
		return sipscan.NeedLowerKeeps
	}
	return 0
}

// requestOut: a request about to leave on this flow, with our own Via on top.
// Sender role: offer keep (R4) when the rules allow.
func (p *Plugin) requestOut(c *call, key uint64) {
	m := &c.msg
	top := &m.Vias[0]
	// R16: a forwarded request's top Via never carries a keep value.
	if top.KeepEnd > top.KeepNameEnd && (top.Keep == sipscan.KeepValue || top.Keep == sipscan.KeepBad) {
		c.edit(abi.EditStripKeepValue, 0, 0, top.KeepNameEnd, top.KeepEnd, nil)
	}
	switch {
	case m.Method == sipscan.MethodACK:
		c.setReason(abi.ReasonACK) // R7
		return
	case p.pol.SenderDisabled:
		c.setReason(abi.ReasonPolicy)
		return
	case p.sendMask&methodBitOf(m.Method) == 0:
		c.setReason(abi.ReasonMethodNotEligible)
		return
	}
	if m.Method == sipscan.MethodREGISTER {
		if isDeregistration(m) {
			// The registration ends: nothing to keep alive (R2).
			p.endBindings(c, key, bkRegistration, sideSender, abi.ReasonRegistrationEnded)
			c.setReason(abi.ReasonRegistrationEnded)
			return
		}
		// R1: every refresh re-negotiates.
	} else {
		if !c.in.InRouteSet() {
			c.setReason(abi.ReasonNotInRouteSet) // R8
			return
		}
		if len(m.ToTag) > 0 && c.rec.find(key, dialogKind(m.Method), sideSender) >= 0 {
			c.setReason(abi.ReasonAlreadyNegotiated) // R6
			return
		}
	}
	switch top.Keep {
	case sipscan.KeepAbsent:
		c.edit(abi.EditAddKeep, 0, 0, top.Insert, top.Insert, textKeep)
		c.setReason(abi.ReasonEdited)
	case sipscan.KeepBare, sipscan.KeepValue, sipscan.KeepBad:
		// Already offered (a value, if any, was stripped above).
		c.setReason(abi.ReasonEdited)
	case sipscan.KeepDuplicate:
		c.setReason(abi.ReasonDuplicateKeep)
	}
}

var textKeep = []byte(";keep")

// requestIn: a request received on this flow. Nothing is edited on the way
// in; the response carries the negotiation.
func (p *Plugin) requestIn(c *call, key uint64) {
	m := &c.msg
	if m.Method == sipscan.MethodACK && m.Vias[0].Keep != sipscan.KeepAbsent {
		c.setReason(abi.ReasonACK) // R7: ignored
		return
	}
	if m.Method == sipscan.MethodREGISTER && isDeregistration(m) {
		p.endBindings(c, key, bkRegistration, sideReceiver, abi.ReasonRegistrationEnded)
	}
}

// responseIn: a response received on this flow, our own Via on top. Sender
// role: keep=N there means keep-alives are negotiated (R5, R9).
func (p *Plugin) responseIn(c *call, key uint64) {
	m := &c.msg
	top := &m.Vias[0]
	granted := top.Keep == sipscan.KeepValue && !p.pol.SenderDisabled
	switch top.Keep {
	case sipscan.KeepBad:
		c.setReason(abi.ReasonBadKeepValue)
	case sipscan.KeepDuplicate:
		c.setReason(abi.ReasonDuplicateKeep)
	}
	now := c.in.Now
	switch {
	case m.CSeqMethod == sipscan.MethodREGISTER:
		if m.Status < 200 || m.Status >= 300 {
			return
		}
		exp := registrationExpiry(m, p.pol.DefaultRegistrationSeconds)
		if !granted || exp == 0 {
			// R2: a refresh that does not re-negotiate, or the end of the
			// registration, stops its keep-alives.
			p.endBindings(c, key, bkRegistration, sideSender, abi.ReasonRegistrationEnded)
			return
		}
		if c.rec.send.flags&sfFailed != 0 {
			// R18: a registration that re-negotiates restarts keep-alives
			// stopped by a failure.
			c.rec.send = sendState{mapped: c.rec.send.mapped, flags: c.rec.send.flags & sfHaveMapped}
		}
		c.rec.put(key, bkRegistration, sideSender, top.KeepValue, m.CSeqNum, now+exp*1000)
		c.setReason(abi.ReasonEdited)
	case dialogMethod(m.CSeqMethod):
		kind := dialogKind(m.CSeqMethod)
		i := c.rec.find(key, kind, sideSender)
		switch {
		case m.Status >= 300:
			// R3: a non-2xx final response to the request that formed
			// the dialog (INVITE, SUBSCRIBE, REFER) ends it.
			if i >= 0 && c.rec.at(i).cseq() == m.CSeqNum && formsDialog(m.CSeqMethod) {
				p.endBindings(c, key, kind, sideSender, abi.ReasonDialogEnded)
			}
		case m.Status > 100 && granted && i < 0:
			// R9: one response with a value is enough; R3: never re-negotiated.
			c.rec.put(key, kind, sideSender, top.KeepValue, m.CSeqNum, now+int64(p.pol.DialogMaxSeconds)*1000)
			c.setReason(abi.ReasonEdited)
		}
	}
}

// responseOut: a response about to leave on this flow toward the upstream
// entity, whose Via is now on top. Receiver role: grant keep=N (R10, R11,
// R15), only where the rules allow (R6, R12), and never let a value planted
// downstream through (R17).
func (p *Plugin) responseOut(c *call, key uint64) {
	p.grantTop(c, key)
	m := &c.msg
	if c.in.Role == abi.RoleProxy && !p.pol.KeepLowerValues {
		// After the top Via's edit: edits go out sorted by offset.
		for i := 1; i < m.NVias; i++ {
			if v := &m.Vias[i]; v.KeepEnd > v.KeepNameEnd && v.Keep != sipscan.KeepBare {
				c.edit(abi.EditStripKeepValue, i, 0, v.KeepNameEnd, v.KeepEnd, nil) // R17
			}
		}
	}
}

// grantTop sets keep=N on the top Via when granting, and strips any value
// there when not.
func (p *Plugin) grantTop(c *call, key uint64) {
	m := &c.msg
	top := &m.Vias[0]
	if top.Keep == sipscan.KeepAbsent {
		if m.CSeqMethod == sipscan.MethodREGISTER && m.Status >= 200 && m.Status < 300 {
			// A refresh that does not offer keep: the sender stops its
			// keep-alives (R2), so stop expecting them.
			p.endBindings(c, key, bkRegistration, sideReceiver, abi.ReasonRegistrationEnded)
		}
		return
	}
	g, why := p.grant(c, key)
	if why != abi.ReasonNone {
		c.setReason(why)
		if top.KeepEnd > top.KeepNameEnd {
			// Not granted here, so no value may reach the upstream entity.
			c.edit(abi.EditStripKeepValue, 0, 0, top.KeepNameEnd, top.KeepEnd, nil)
		}
		return
	}
	if top.Keep != sipscan.KeepValue || top.KeepValue != g {
		c.editValue(abi.EditSetKeep, 0, g, top.KeepNameEnd, top.KeepEnd)
	}
	c.setReason(abi.ReasonEdited)
	p.bindGranted(c, key, g)
}

// grant decides the value to grant on a response going upstream, or why not.
func (p *Plugin) grant(c *call, key uint64) (uint32, abi.Reason) {
	m := &c.msg
	top := &m.Vias[0]
	switch {
	case top.Keep == sipscan.KeepDuplicate:
		return 0, abi.ReasonDuplicateKeep
	case p.pol.ReceiverDisabled:
		return 0, abi.ReasonPolicy
	case p.recvMask&methodBitOf(m.CSeqMethod) == 0:
		return 0, abi.ReasonMethodNotEligible
	case m.Status <= 100 || m.Status >= 300:
		if m.Status >= 300 && formsDialog(m.CSeqMethod) {
			kind := dialogKind(m.CSeqMethod)
			if i := c.rec.find(key, kind, sideReceiver); i >= 0 && c.rec.at(i).cseq() == m.CSeqNum {
				p.endBindings(c, key, kind, sideReceiver, abi.ReasonDialogEnded) // R3
			}
		}
		return 0, abi.ReasonNoKeep
	}
	kind := bkRegistration
	if m.CSeqMethod != sipscan.MethodREGISTER {
		kind = dialogKind(m.CSeqMethod)
		if !c.in.InRouteSet() {
			return 0, abi.ReasonNotInRouteSet // R12
		}
	}
	g := p.pol.ReceiverKeepSeconds
	// Only a dialog's binding matters here; a registration's is not looked
	// up (a pass over up to 48 bindings on every REGISTER 2xx).
	if kind != bkRegistration {
		if i := c.rec.find(key, kind, sideReceiver); i >= 0 {
			if c.rec.at(i).cseq() != m.CSeqNum {
				return 0, abi.ReasonAlreadyNegotiated // R6: a later request of a negotiated dialog
			}
			g = c.rec.at(i).keep() // R11: the same value in every response of the transaction
		}
	}
	if m.FlowTimer >= 0 {
		g = clampU32(m.FlowTimer) // R15: keep equals Flow-Timer when both are present
	}
	return g, abi.ReasonNone
}

// bindGranted records what was granted, so that the flow is watched for the
// peer's keep-alives and later requests of the dialog are recognised (R6).
func (p *Plugin) bindGranted(c *call, key uint64, g uint32) {
	m := &c.msg
	now := c.in.Now
	if m.CSeqMethod == sipscan.MethodREGISTER {
		if m.Status >= 300 || m.Status < 200 {
			return
		}
		exp := registrationExpiry(m, p.pol.DefaultRegistrationSeconds)
		if exp == 0 {
			p.endBindings(c, key, bkRegistration, sideReceiver, abi.ReasonRegistrationEnded)
			return
		}
		c.rec.put(key, bkRegistration, sideReceiver, g, m.CSeqNum, now+exp*1000)
		return
	}
	if kind := dialogKind(m.CSeqMethod); c.rec.find(key, kind, sideReceiver) < 0 {
		c.rec.put(key, kind, sideReceiver, g, m.CSeqNum, now+int64(p.pol.DialogMaxSeconds)*1000)
	}
}

// endBindings removes the binding (key, kind, side) if present; the flow's
// keep-alives stop with its last binding (reconcile).
func (p *Plugin) endBindings(c *call, key uint64, kind, side uint8, why abi.Reason) {
	if i := c.rec.find(key, kind, side); i >= 0 {
		c.rec.remove(i)
		if side == sideSender {
			c.endReason = why
		}
		c.setReason(why)
	}
}

// touchDialog pushes back the safety-net expiry of a dialog that is still
// sending requests on this flow.
func (p *Plugin) touchDialog(c *call, key uint64) {
	exp := c.in.Now + int64(p.pol.DialogMaxSeconds)*1000
	for i := 0; i < c.rec.n; i++ {
		if b := c.rec.at(i); b.key() == key && b.kind() != bkRegistration {
			c.rec.setExpires(i, exp)
		}
	}
}

// registrationExpiry is the lifetime, in seconds, a 2xx to REGISTER (or a
// REGISTER) gives: the largest Contact expires, else Expires, else def. A
// 2xx with no Contact at all means no binding is left: 0.
func registrationExpiry(m *sipscan.Message, def uint32) int64 {
	switch {
	case m.ContactExpiresMax >= 0:
		return m.ContactExpiresMax
	case m.Expires >= 0:
		return m.Expires
	case !m.IsRequest && m.Contacts == 0:
		return 0
	}
	return int64(def)
}

// isDeregistration reports a REGISTER that removes its bindings.
func isDeregistration(m *sipscan.Message) bool {
	if m.ContactStar {
		return true
	}
	if m.Contacts == 0 {
		return false // a query
	}
	return m.ContactExpiresMax == 0 || (m.ContactExpiresMax < 0 && m.Expires == 0)
}

func dialogMethod(mt sipscan.Method) bool {
	switch mt {
	case sipscan.MethodINVITE, sipscan.MethodSUBSCRIBE, sipscan.MethodREFER, sipscan.MethodUPDATE, sipscan.MethodNOTIFY:
		return true
	}
	return false
}

// dialogKind is the kind of binding a dialog request of method mt negotiates
// or belongs to: the INVITE usage of a dialog (INVITE, UPDATE) or a
// subscription usage (SUBSCRIBE, REFER, NOTIFY), which ends on its own
// (RFC 5057): a BYE does not end a subscription, a NOTIFY with
// Subscription-State: terminated does not end a call.
func dialogKind(mt sipscan.Method) uint8 {
	switch mt {
	case sipscan.MethodSUBSCRIBE, sipscan.MethodREFER, sipscan.MethodNOTIFY:
		return bkSubscription
	}
	return bkDialog
}

// formsDialog reports a method whose initial request creates a dialog, so
// that a non-2xx final response to it means there is none (R3).
func formsDialog(mt sipscan.Method) bool {
	switch mt {
	case sipscan.MethodINVITE, sipscan.MethodSUBSCRIBE, sipscan.MethodREFER:
		return true
	}
	return false
}

func methodBitOf(mt sipscan.Method) methodBit {
	switch mt {
	case sipscan.MethodREGISTER:
		return mREGISTER
	case sipscan.MethodINVITE:
		return mINVITE
	case sipscan.MethodSUBSCRIBE:
		return mSUBSCRIBE
	case sipscan.MethodREFER:
		return mREFER
	case sipscan.MethodUPDATE:
		return mUPDATE
	case sipscan.MethodNOTIFY:
		return mNOTIFY
	}
	return 0
}

func clampU32(v int64) uint32 {
	if v > 0xFFFFFFFF {
		return 0xFFFFFFFF
	}
	return uint32(v)
}

// registrationKey identifies the registration a REGISTER or its response
// belongs to on its flow (a dialog is its Call-ID's hash). A
// registration is its address of record, the To URI (RFC 3261 §10.2): a UA
// may change Call-ID between refreshes (after a reboot, say), and its
// refresh or de-registration must still find the binding; a proxy
// forwarding many users' REGISTERs over one flow gets one binding per user,
// not one per Call-ID. Without a To URI it falls back to the Call-ID's key.
func registrationKey(m *sipscan.Message) uint64 {
	if len(m.ToURI) > 0 {
		return hashFold(m.ToURI)
	}
	return hash(m.CallID)
}

// hash is FNV-1a; hashFold is FNV-1a of the ASCII lower-cased bytes (an AOR's
// scheme and host are case-insensitive; its user part is not, but two users
// of one flow differing only in case is not a case worth a URI parser).
func hash(b []byte) uint64 {
	// FNV-1a is byte by byte, and records keep these keys across a hot
	// swap, so the result must not change; the loop takes eight bytes per
	// iteration only because in wasm each iteration pays a dispatch.
	h := uint64(fnvOffset)
	for len(b) >= 8 {
		x := le.Uint64(b)
		h = (h ^ x&0xff) * fnvPrime
		h = (h ^ x>>8&0xff) * fnvPrime
		h = (h ^ x>>16&0xff) * fnvPrime
		h = (h ^ x>>24&0xff) * fnvPrime
		h = (h ^ x>>32&0xff) * fnvPrime
		h = (h ^ x>>40&0xff) * fnvPrime
		h = (h ^ x>>48&0xff) * fnvPrime
		h = (h ^ x>>56) * fnvPrime
		b = b[8:]
	}
	for _, x := range b {
		h ^= uint64(x)
		h *= fnvPrime
	}
	return h
}

func hashFold(b []byte) uint64 {
	// Eight bytes at a time: in wasm every further iteration of a loop is
	// a jump back through the function's dispatch, and this runs on every
	// REGISTER. The tail of an AOR of eight bytes or more is read as the
	// last eight, shifted: the same word the byte loop below builds.
	h := uint64(fnvOffset)
	n := len(b)
	i := 0
	for ; i+8 <= n; i += 8 {
		h = (h ^ lower8(le.Uint64(b[i:]))) * fnvPrime
	}
	t := n - i
	w := uint64(t) << 59 // "a" and "a\x00" differ
	switch {
	case t == 0:
	case n >= 8:
		w |= le.Uint64(b[n-8:]) >> (8 * (8 - t))
	default:
		for j, c := range b {
			w |= uint64(c) << (8 * j)
		}
	}
	h = (h ^ lower8(w)) * fnvPrime
	return h ^ h>>32
}

// lower8 lower-cases the ASCII letters among the eight bytes of x (SWAR: a
// byte's top bit marks 'A' <= c <= 'Z' for c < 0x80, moved to its 0x20 bit).
func lower8(x uint64) uint64 {
	const ones, hi = 0x0101010101010101, 0x8080808080808080
	low := x &^ hi
	ge := low + ones*(0x80-'A')   // top bit: c >= 'A'
	gt := low + ones*(0x80-'Z'-1) // top bit: c > 'Z'
	return x | (ge&^gt&^x&hi)>>2
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)
