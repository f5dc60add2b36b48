package host

import (
	"context"
	"fmt"
	"time"

	"github.com/sipkeep/sipkeep/abi"
)

// exportOf picks the entry point for an event (ABI.md "Which call, for
// which message") and rejects events that cannot be encoded, so a caller's
// mistake never reaches (or kills) a guest.
func exportOf(ev *Event) (export, error) {
	if len(ev.Message) > abi.MaxMessage {
		return 0, fmt.Errorf("message of %d bytes exceeds abi.MaxMessage", len(ev.Message))
	}
	if ev.Flow.Transport < abi.TransportUDP || ev.Flow.Transport > abi.TransportWSS {
		return 0, fmt.Errorf("flow transport %d is not an abi.Transport", ev.Flow.Transport)
	}
	if ev.Kind != abi.KindNone && ev.Dir != abi.DirIn && ev.Dir != abi.DirOut {
		return 0, fmt.Errorf("direction %d is neither DirIn nor DirOut", ev.Dir)
	}
	switch ev.Kind {
	case abi.KindNone:
		return expTimer, nil
	case abi.KindSIPRequest, abi.KindPing:
		return expRequest, nil
	case abi.KindSIPResponse, abi.KindPong:
		return expResponse, nil
	case abi.KindSTUN:
		if stunIsResponse(ev.Message) {
			return expResponse, nil
		}
		return expRequest, nil
	}
	return 0, fmt.Errorf("kind %d is not an abi.Kind", ev.Kind)
}

// stunIsResponse reads the STUN class bits (RFC 5389 §6): success and error
// responses go to on_response, requests and indications to on_request.
func stunIsResponse(b []byte) bool {
	if len(b) < 2 {
		return false
	}
	t := uint16(b[0])<<8 | uint16(b[1])
	return t&0x0100 != 0
}

// enter runs one call: it checks out an instance of the current generation,
// writes the input into the guest's buffer, calls the export and decodes
// the output. On success the caller owns g (a reference) and in, reads out
// (a view into guest memory), and must call leave. On failure everything
// is released and the instance, if it failed, discarded.
func (h *Host) enter(ctx context.Context, ev *Event, rec []byte, exp export) (*generation, *instance, *abi.Output, *CallError) {
	fail := func(cause string, err error) *CallError {
		return &CallError{Export: exp.String(), Cause: cause, Err: err}
	}
	if len(rec) > abi.MaxRecord {
		h.met.callOutcome(exp, outcomeFailed)
		return nil, nil, nil, fail(CauseBadInput, fmt.Errorf("record of %d bytes exceeds abi.MaxRecord", len(rec)))
	}
	g := h.acquire()
	if g == nil {
		h.met.callOutcome(exp, outcomeFailed)
		return nil, nil, nil, fail(CauseNoInstance, ErrClosed)
	}
	if g.budget.spent.Load() {
		g.release()
		h.met.callOutcome(exp, outcomeDisabled)
		if h.opt.failure == FailClosed {
			return nil, nil, nil, fail("disabled", ErrPluginDisabled)
		}
		return nil, nil, nil, fail("disabled", ErrPluginStopped)
	}
	in, err := g.pool.get(ctx)
	if err != nil {
		g.release()
		cause := CauseNoInstance
		if ctx.Err() != nil {
			cause = CauseCanceled
		}
		h.met.callOutcome(exp, outcomeFailed)
		h.met.failure(cause)
		return nil, nil, nil, fail(cause, err)
	}
	if err := in.configure(ctx); err != nil {
		in.dead = true
		return h.failCall(g, in, exp, fail(CauseTrap, err))
	}
	n := abi.InputHeaderSize + len(rec) + len(ev.Message)
	buf, ok := in.inputBuffer(n)
	if !ok {
		return h.failCall(g, in, exp, fail(CauseBadInput, fmt.Errorf("input of %d bytes does not fit the guest's buffer", n)))
	}
	now := ev.Now
	if now.IsZero() {
		now = h.opt.clock()
	}
	hdr := abi.Input{
		Kind: ev.Kind, Dir: ev.Dir, Transport: ev.Flow.Transport, Role: ev.Role,
		Now: now.UnixMilli(), Random: h.opt.random(), FlowID: ev.FlowID,
		Remote: ev.Flow.Remote, Local: ev.Flow.Local,
	}
	if ev.InRouteSet {
		hdr.Flags |= abi.FlagInRouteSet
	}
	if ev.LocalReply {
		hdr.Flags |= abi.FlagLocalReply
	}
	abi.PutInputHeader(buf, &hdr, len(rec), len(ev.Message))
	copy(buf[abi.InputHeaderSize:], rec)
	copy(buf[abi.InputHeaderSize+len(rec):], ev.Message)

	t0 := time.Now()
	outb, cause, err := in.invoke(ctx, exp, n)
	h.met.latency[exp].Observe(time.Since(t0).Seconds())
	if err != nil {
		return h.failCall(g, in, exp, fail(cause, err))
	}
	if err := abi.DecodeOutput(outb, len(ev.Message), &in.out); err != nil {
		in.dead = true
		return h.failCall(g, in, exp, fail(CauseBadOutput, err))
	}
	// A sent message's edits are never written (Event.Sent): nothing to check.
	if len(in.out.EditList) > 0 && !ev.Sent {
		fp := h.fast.Load()
		own := ev.Kind == abi.KindSIPRequest && ev.Dir == abi.DirOut
		if eerr := checkEdits(ev.Message, own, &in.out, fp.bounds); eerr != nil {
			// The instance is sound (its output decoded); the result is not.
			h.met.refused(eerr.Reason)
			if g.warnedEdit.CompareAndSwap(false, true) {
				h.log.Warn("sipkeep host: plugin result refused for its edits; message passed unchanged (logged once per generation, counted in sipkeep_refused_results_total)",
					"generation", g.info.Number, "err", eerr)
			}
			return h.failCall(g, in, exp, fail(CauseBadEdit, eerr))
		}
	}
	h.met.callOutcome(exp, outcomeOK)
	return g, in, &in.out, nil
}

// failCall accounts a failed call, releases the instance (a dead one is
// closed and replaced) and the generation, and charges the crash budget.
func (h *Host) failCall(g *generation, in *instance, exp export, cerr *CallError) (*generation, *instance, *abi.Output, *CallError) {
	h.met.callOutcome(exp, outcomeFailed)
	h.met.failure(cerr.Cause)
	dead := in.dead
	g.pool.put(in)
	if dead {
		h.log.Warn("sipkeep host: plugin call failed; message passed unchanged, instance replaced",
			"generation", g.info.Number, "export", cerr.Export, "cause", cerr.Cause, "err", cerr.Err)
		g.noteFailure()
	} else {
		h.log.Debug("sipkeep host: plugin call failed; message passed unchanged",
			"generation", g.info.Number, "export", cerr.Export, "cause", cerr.Cause, "err", cerr.Err)
	}
	g.release()
	return nil, nil, nil, cerr
}

func (h *Host) leave(g *generation, in *instance) {
	g.pool.put(in)
	g.release()
}

// fill copies the plugin's decision into r (Result owns its slices).
func (h *Host) fill(r *Result, ev *Event, out *abi.Output) {
	r.Entered = true
	r.Reason = out.Reason
	r.Message = ev.Message
	if len(out.EditList) > 0 {
		r.Edits = append([]abi.Edit(nil), out.EditList...)
		r.Text = append([]byte(nil), out.Text...)
		if !ev.Sent { // a sent message's edits are compared, not applied (Event.Sent)
			r.Message = abi.ApplyEdits(make([]byte, 0, len(ev.Message)+len(out.Text)), ev.Message, out.EditList, out.Text)
		}
		for i := range out.EditList {
			h.met.edit(out.EditList[i].Op)
		}
	}
	if len(out.ActionList) > 0 {
		r.Actions = append([]abi.Action(nil), out.ActionList...)
	}
}

func failOpen(ev *Event, err *CallError) Result {
	return Result{Message: ev.Message, FailedOpen: true, Err: err}
}

// Call runs the plugin on one event with a record the caller keeps
// (store-less: nothing is stored, no timer is scheduled, actions are only
// returned). rec is the flow's record, nil if it has none. An Event with
// Kind == abi.KindNone runs on_timer. Call never fails: on any error the
// result fails open. A quiet refresh (see quietRefresh) on a flow with a
// record does not enter the guest: the record is unchanged.
func (h *Host) Call(ctx context.Context, ev *Event, rec []byte) CallResult {
	var cr CallResult
	exp, err := exportOf(ev)
	if err != nil {
		h.met.failure(CauseBadInput)
		cr.Result = failOpen(ev, &CallError{Export: "none", Cause: CauseBadInput, Err: err})
		return cr
	}
	if len(rec) > 0 && h.quietRefresh(ev) {
		h.met.callOutcome(exp, outcomeFast)
		cr.Message = ev.Message
		return cr
	}
	g, in, out, cerr := h.enter(ctx, ev, rec, exp)
	if cerr != nil {
		cr.Result = failOpen(ev, cerr)
		return cr
	}
	h.fill(&cr.Result, ev, out)
	switch {
	case out.Flags&abi.OutRecordDelete != 0:
		cr.RecordDeleted = true
	case out.Flags&abi.OutRecordChanged != 0:
		cr.RecordChanged = true
		cr.Record = append([]byte(nil), out.Record...)
		if out.Deadline > 0 {
			cr.Deadline = time.UnixMilli(out.Deadline)
		}
	}
	h.leave(g, in)
	h.met.countActions(cr.Actions)
	return cr
}
