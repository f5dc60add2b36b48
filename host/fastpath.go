package host

import (
	"bytes"
	"strings"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/abi/proto"
	"github.com/sipkeep/sipkeep/internal/asciifold"
)

// The plugin's own defaults for what the policy leaves unset (plugin/keep's
// DefaultMethods, DefaultFloorSeconds, DefaultCeilingSeconds: the host does
// not import the plugin; TestFastPathDefaultsArePlugins ties them).
var defaultSenderMethods = []string{"REGISTER", "INVITE", "SUBSCRIBE", "REFER", "UPDATE"}

const (
	defaultFloorSeconds   = 10
	defaultCeilingSeconds = 3600
)

// fastPolicy is what the host itself needs from the policy in force: the
// fast path's methods, and the keep bounds edits are checked against.
type fastPolicy struct {
	senderMethods [][]byte // upper case; nil when the sender role is disabled
	bounds        keepBounds
}

func newFastPolicy(p *proto.Policy) *fastPolicy {
	fp := &fastPolicy{bounds: keepBounds{floor: p.GetFloorSeconds(), ceiling: p.GetCeilingSeconds()}}
	if fp.bounds.floor == 0 {
		fp.bounds.floor = defaultFloorSeconds
	}
	if fp.bounds.ceiling == 0 {
		fp.bounds.ceiling = defaultCeilingSeconds
	}
	if p.GetSenderDisabled() {
		return fp
	}
	ms := p.GetSenderMethods()
	if len(ms) == 0 {
		ms = defaultSenderMethods
	}
	for _, m := range ms {
		fp.senderMethods = append(fp.senderMethods, []byte(strings.ToUpper(strings.TrimSpace(m))))
	}
	return fp
}

// mayNeedGuest reports whether a message on a flow that has no record can
// matter to the plugin: an outgoing request the sender would offer ;keep
// on, an outgoing request or any response that mentions "keep" (any case).
// A received request never does: the plugin edits nothing on the way in and
// a received request only updates bindings the flow already has (liveness,
// BYE, de-registration); the negotiation happens on its response. Everything
// else — most SIP traffic, and STUN, pings and pongs on flows with nothing
// negotiated — passes without entering the guest.
func (fp *fastPolicy) mayNeedGuest(ev *Event) bool {
	switch ev.Kind {
	case abi.KindSIPRequest:
		if ev.Dir != abi.DirOut {
			return false
		}
		return fp.coversMethod(ev.Message) || asciifold.Contains(ev.Message, "keep")
	case abi.KindSIPResponse:
		return asciifold.Contains(ev.Message, "keep")
	}
	return false
}

func (fp *fastPolicy) coversMethod(msg []byte) bool {
	sp := bytes.IndexByte(msg[:min(len(msg), 32)], ' ')
	if sp <= 0 {
		return false
	}
	m := msg[:sp]
	for _, s := range fp.senderMethods {
		if bytes.Equal(m, s) {
			return true
		}
	}
	return false
}

// quietRefresh reports a received REGISTER on a flow with a record that the
// plugin need not see: it declares FeatureQuietRefresh (such a REGISTER
// changes only the flow's liveness, which it notes again on the response
// sent back on the flow) and the REGISTER cannot be a de-registration. A
// registration refresh then costs one guest call (its response), not two.
func (h *Host) quietRefresh(ev *Event) bool {
	if ev.Kind != abi.KindSIPRequest || ev.Dir != abi.DirIn || !bytes.HasPrefix(ev.Message, registerPrefix) {
		return false
	}
	g := h.gen.Load()
	return g != nil && g.info.Features.Has(abi.FeatureQuietRefresh) && !abi.MayDeregister(ev.Message)
}

var registerPrefix = []byte("REGISTER ")
