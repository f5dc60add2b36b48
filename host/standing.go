package host

import (
	"context"
	"net/netip"

	"github.com/sipkeep/sipkeep/abi"
)

// standing is the standing grant learnt for one generation and policy.
type standing struct {
	gen    *generation
	polVer uint64
	keep   uint32 // 0: none
}

// probeFlow is the flow the probe runs on: documentation addresses (RFC
// 5737) no real flow has, and Call keeps no record for it anyway.
var probeFlow = Flow{
	Transport: abi.TransportUDP,
	Local:     netip.MustParseAddrPort("192.0.2.1:5060"),
	Remote:    netip.MustParseAddrPort("192.0.2.1:5060"),
}

// StandingGrant reports the keep value the module in service grants on
// every response abi.StandingGrantSite accepts, when it declares
// abi.FeatureStandingGrant (0 otherwise, or when the receiver role is off).
// A host that would rather not wait for the plugin on such a response sets
// keep=N itself and shows the plugin the response afterwards with Handle
// and Event.Now set to when it was sent: the record comes out the same.
// The value is learnt once per generation and policy, by showing the module
// abi.StandingGrantProbe through Call (nothing stored); a probe that fails
// or edits anything else means no standing grant.
func (h *Host) StandingGrant(ctx context.Context) uint32 {
	g := h.gen.Load()
	_, ver := h.currentPolicy()
	if g == nil || !g.info.Features.Has(abi.FeatureStandingGrant) || g.budget.spent.Load() {
		return 0 // a generation whose crash budget is spent is not called: nor is its grant applied
	}
	if s := h.standing.Load(); s != nil && s.gen == g && s.polVer == ver {
		return s.keep
	}
	keep := h.probeStandingGrant(ctx)
	if h.gen.Load() == g {
		if _, v := h.currentPolicy(); v == ver {
			h.standing.Store(&standing{gen: g, polVer: ver, keep: keep})
		}
	}
	return keep
}

func (h *Host) probeStandingGrant(ctx context.Context) uint32 {
	msg := []byte(abi.StandingGrantProbe)
	at, ok := abi.StandingGrantSite(msg)
	if !ok {
		return 0
	}
	r := h.Call(ctx, &Event{Kind: abi.KindSIPResponse, Dir: abi.DirOut, Flow: probeFlow, Role: abi.RoleProxy, Message: msg}, nil)
	if r.FailedOpen || len(r.Edits) != 1 {
		return 0
	}
	e := r.Edits[0]
	if e.Op != abi.EditSetKeep || e.Via != 0 || int(e.Start) != at || int(e.End) != at || e.Value == 0 {
		return 0
	}
	return e.Value
}
