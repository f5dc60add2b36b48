package host

import (
	"context"
	"errors"
	"fmt"

	"github.com/sipkeep/sipkeep/abi/proto"
)

// Configure validates p on one instance (the plugin's own rules) and, if it
// is accepted, makes it the policy of every instance: those already running
// are reconfigured before their next call, and every future instance and
// generation gets it. A refused policy leaves the old one in force. It
// returns the effective policy (defaults filled in).
func (h *Host) Configure(ctx context.Context, p *proto.Policy) (*proto.Policy, error) {
	if p == nil {
		p = &proto.Policy{}
	}
	p = clonePolicy(p)
	h.swapMu.Lock()
	defer h.swapMu.Unlock()
	g := h.acquire()
	if g == nil {
		return nil, ErrClosed
	}
	defer g.release()
	var eff *proto.Policy
	err := g.pool.withInstance(ctx, func(in *instance) error {
		if in.ctl == nil {
			// No control plane: only the host's fast path uses the policy.
			eff = p
			h.polMu.Lock()
			h.pol = p
			h.polVer++
			h.polVerNow.Store(h.polVer)
			in.policyVer = h.polVer
			h.polMu.Unlock()
			return nil
		}
		rep, err := in.ctl.Configure(ctx, &proto.ConfigureRequest{Policy: p})
		if err != nil {
			return fmt.Errorf("configure: %w", err)
		}
		if rep.GetError() != "" {
			// The plugin kept its old policy, so this instance is still
			// consistent with the host's.
			return fmt.Errorf("policy refused: %s", rep.GetError())
		}
		eff = rep.GetEffective()
		h.polMu.Lock()
		h.pol = p
		h.polVer++
		h.polVerNow.Store(h.polVer)
		in.policyVer = h.polVer
		h.polMu.Unlock()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sipkeep host: %w", err)
	}
	if eff == nil {
		eff = p
	}
	h.fast.Store(newFastPolicy(eff))
	return eff, nil
}

// Policy returns the policy the host configures instances with (as given
// to WithPolicy or Configure, defaults not filled in).
func (h *Host) Policy() *proto.Policy {
	p, _ := h.currentPolicy()
	return clonePolicy(p)
}

// clonePolicy deep-copies through the vtproto codec (the generated
// messages' ProtoReflect is not usable with go-plugin's generator).
func clonePolicy(p *proto.Policy) *proto.Policy {
	b, err := p.MarshalVT()
	c := &proto.Policy{}
	if err == nil {
		_ = c.UnmarshalVT(b)
	}
	return c
}

// Describe asks the plugin what it is. A module without a control plane is
// described from its ABI markers.
func (h *Host) Describe(ctx context.Context) (*proto.DescribeReply, error) {
	g := h.acquire()
	if g == nil {
		return nil, ErrClosed
	}
	defer g.release()
	var rep *proto.DescribeReply
	err := g.pool.withInstance(ctx, func(in *instance) error {
		if in.ctl == nil {
			rep = &proto.DescribeReply{AbiVersion: g.info.ABI, Features: uint64(g.info.Features)}
			return nil
		}
		var err error
		rep, err = in.ctl.Describe(ctx, &proto.DescribeRequest{})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sipkeep host: describe: %w", err)
	}
	return rep, nil
}

// Stats sums the plugin's counters over the current generation's idle
// instances (busy ones are skipped rather than waited for; an instance
// that was replaced took its counters with it).
func (h *Host) Stats(ctx context.Context) (*proto.StatsReply, error) {
	g := h.acquire()
	if g == nil {
		return nil, ErrClosed
	}
	defer g.release()
	sum := &proto.StatsReply{}
	var taken []*instance
	defer func() {
		for _, in := range taken {
			g.pool.put(in)
		}
	}()
	var errs []error
	for {
		var in *instance
		select {
		case in = <-g.pool.idle:
		default:
		}
		if in == nil {
			break
		}
		taken = append(taken, in)
		if in.ctl == nil {
			continue
		}
		s, err := in.ctl.Stats(ctx, &proto.StatsRequest{})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sum.Calls += s.Calls
		sum.Edits += s.Edits
		sum.Actions += s.Actions
		sum.Malformed += s.Malformed
		sum.BadRecords += s.BadRecords
	}
	if err := errors.Join(errs...); err != nil {
		return sum, fmt.Errorf("sipkeep host: stats: %w", err)
	}
	return sum, nil
}
