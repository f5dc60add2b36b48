package host

import (
	"context"
	"sync"
	"time"

	"github.com/sipkeep/sipkeep/abi"
)

// recBuf is scratch for the flow record read from the Store.
var recBuf = sync.Pool{New: func() any { return new([abi.MaxRecord]byte) }}

// Handle runs the plugin on one event with the flow's record from the
// Store: it serialises calls per flow, stores or deletes the updated
// record, schedules or cancels the flow's timer, and hands the actions to
// the ActionHandler after the flow is unlocked. A message that cannot
// matter to the plugin (see fastpath.go) does not enter the guest. Handle
// never fails: on any error the message passes unchanged (FailedOpen).
func (h *Host) Handle(ctx context.Context, ev Event) Result {
	exp, err := exportOf(&ev)
	if err == nil && exp == expTimer {
		return h.Timer(ctx, ev.Flow)
	}
	if err != nil {
		h.met.failure(CauseBadInput)
		return failOpen(&ev, &CallError{Export: "none", Cause: CauseBadInput, Err: err})
	}
	unlock := h.store.Lock(ev.Flow)
	sc := recBuf.Get().(*[abi.MaxRecord]byte)
	rec, ok := h.store.Get(ev.Flow, sc[:0])
	if (!ok && !h.fast.Load().mayNeedGuest(&ev)) || (ok && h.quietRefresh(&ev)) {
		unlock()
		recBuf.Put(sc)
		h.met.callOutcome(exp, outcomeFast)
		return Result{Message: ev.Message}
	}
	res := h.handleLocked(ctx, &ev, rec, exp)
	unlock()
	recBuf.Put(sc)
	h.dispatch(ev.Flow, res.Actions)
	return res
}

// Timer runs on_timer for a flow now (the timer scheduler calls it at the
// flow's deadline; hosts using WithoutTimers call it themselves). A flow
// without a record has nothing to do.
func (h *Host) Timer(ctx context.Context, f Flow) Result {
	ev := Event{Kind: abi.KindNone, Flow: f}
	if _, err := exportOf(&ev); err != nil {
		return failOpen(&ev, &CallError{Export: abi.ExportOnTimer, Cause: CauseBadInput, Err: err})
	}
	unlock := h.store.Lock(f)
	sc := recBuf.Get().(*[abi.MaxRecord]byte)
	rec, ok := h.store.Get(f, sc[:0])
	if !ok {
		unlock()
		recBuf.Put(sc)
		if h.tim != nil {
			h.tim.cancel(f)
		}
		return Result{}
	}
	res := h.handleLocked(ctx, &ev, rec, expTimer)
	if res.FailedOpen && h.tim != nil {
		// The scheduler already took the flow's deadline off its queue:
		// without a new one the flow's keep-alives would stop for good. Try
		// again later (a disabled plugin fails these calls without entering
		// any guest, so the retries are cheap).
		h.tim.set(f, h.opt.clock().Add(timerRetry).UnixMilli())
	}
	unlock()
	recBuf.Put(sc)
	h.dispatch(f, res.Actions)
	return res
}

// timerRetry is how long a flow waits after a failed on_timer.
const timerRetry = time.Second

// Forget drops a flow's record and timer without calling the plugin: the
// adapter saw the flow end (a stream closed, a socket went away), so there
// is nothing left to keep alive or to watch.
func (h *Host) Forget(f Flow) {
	unlock := h.store.Lock(f)
	h.store.Delete(f)
	if h.tim != nil {
		h.tim.cancel(f)
	}
	unlock()
}

// handleLocked calls the guest and applies the flow-state changes; the
// flow is locked by the caller.
func (h *Host) handleLocked(ctx context.Context, ev *Event, rec []byte, exp export) Result {
	g, in, out, cerr := h.enter(ctx, ev, rec, exp)
	if cerr != nil {
		// The record stays as it was: the next message retries with the
		// same state (Timer re-arms the flow's timer).
		return failOpen(ev, cerr)
	}
	var res Result
	h.fill(&res, ev, out)
	switch {
	case out.Flags&abi.OutRecordDelete != 0:
		h.store.Delete(ev.Flow)
		if h.tim != nil {
			h.tim.cancel(ev.Flow)
		}
	case out.Flags&abi.OutRecordChanged != 0:
		h.store.Put(ev.Flow, out.Record) // Put copies: out.Record is guest memory
		if out.Deadline > 0 {
			res.Deadline = time.UnixMilli(out.Deadline)
		}
		if h.tim != nil {
			if out.Deadline > 0 {
				when := out.Deadline
				if exp == expTimer {
					// A deadline that is already due right after on_timer
					// would spin; give the flow a breath.
					when = max(when, h.opt.clock().UnixMilli()+minTimerGap)
				}
				h.tim.set(ev.Flow, when)
			} else {
				h.tim.cancel(ev.Flow)
			}
		}
	}
	h.leave(g, in)
	return res
}

const minTimerGap = 10 // ms

// dispatch counts the actions and hands them to the ActionHandler.
func (h *Host) dispatch(f Flow, acts []abi.Action) {
	if len(acts) == 0 {
		return
	}
	h.met.countActions(acts)
	if h.opt.actions == nil {
		return
	}
	for _, a := range acts {
		h.opt.actions(f, a)
	}
}
