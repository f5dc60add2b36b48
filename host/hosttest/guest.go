package hosttest

import (
	"context"
	"fmt"
	"time"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/host"
	"github.com/sipkeep/sipkeep/plugin/keep"
)

// Guest is a keeptest.Guest whose every call goes through a host.Host.
type Guest struct {
	h     *host.Host
	st    *store
	now   time.Time
	rnd   uint64
	in    [abi.MinInputCapacity]byte
	out   []byte
	due   map[host.Flow]int64 // the deadline the host holds for each flow
	fails []error             // calls that failed open
	// entered and fast count the calls that did and did not enter the guest.
	entered, fast int
	skipped       bool // the last call did not enter the guest
}

// Options are the host options the kit needs on top of the caller's: its
// Store, the harness's clock and random numbers, and no timer scheduler.
func (g *Guest) Options() []host.Option {
	return []host.Option{
		host.WithStore(g.st),
		host.WithClock(func() time.Time { return g.now }),
		host.WithRandom(func() uint64 { return g.rnd }),
		host.WithoutTimers(),
	}
}

// NewGuest returns a Guest without a host; Attach gives it one built with
// Options.
func NewGuest() *Guest {
	return &Guest{st: newStore(), now: time.UnixMilli(1), out: make([]byte, abi.OutputHeaderSize+abi.MaxEdits*abi.EditSize+abi.MaxActions*abi.ActionSize+abi.MaxMessage+abi.MaxRecord), due: map[host.Flow]int64{}}
}

// Attach sets the host the guest calls.
func (g *Guest) Attach(h *host.Host) { g.h = h }

// Failures returns the errors of the calls that failed open.
func (g *Guest) Failures() []error { return g.fails }

// Calls reports how many calls entered the plugin and how many the host
// answered itself (fast path, quiet refresh).
func (g *Guest) Calls() (entered, skipped int) { return g.entered, g.fast }

// reset forgets every flow, as a fresh host would have none.
func (g *Guest) reset() {
	g.st.mu.Lock()
	clear(g.st.recs)
	g.st.mu.Unlock()
	clear(g.due)
	g.fails = nil
}

// Skipped reports whether the last call was answered by the host alone
// (keeptest.Skipper).
func (g *Guest) Skipped() bool { return g.skipped }

func (g *Guest) InputBuffer() []byte  { return g.in[:] }
func (g *Guest) OutputBuffer() []byte { return g.out }

func (g *Guest) OnRequest(n int32) int32  { return g.call(n, false) }
func (g *Guest) OnResponse(n int32) int32 { return g.call(n, false) }
func (g *Guest) OnTimer(n int32) int32    { return g.call(n, true) }

// Configure applies p through the host (validated by the plugin).
func (g *Guest) Configure(p keep.Policy) error {
	_, err := g.h.Configure(context.Background(), p.ToProto())
	return err
}

func (g *Guest) call(n int32, timer bool) int32 {
	var in abi.Input
	if e := abi.DecodeInput(g.in[:n], &in); e != 0 {
		return -int32(e)
	}
	f := host.Flow{Transport: in.Transport, Local: in.Local, Remote: in.Remote}
	g.now, g.rnd = time.UnixMilli(in.Now), in.Random
	g.st.load(f, in.Record)
	ctx := context.Background()
	var res host.Result
	if timer {
		res = g.h.Timer(ctx, f)
	} else {
		res = g.h.Handle(ctx, host.Event{
			Kind: in.Kind, Dir: in.Dir, Flow: f, Role: in.Role,
			InRouteSet: in.Flags&abi.FlagInRouteSet != 0, LocalReply: in.Flags&abi.FlagLocalReply != 0,
			Message: append([]byte(nil), in.Message...), Now: g.now, FlowID: in.FlowID,
		})
	}
	if res.FailedOpen {
		g.fails = append(g.fails, fmt.Errorf("%v %v on %v: %w", in.Kind, in.Dir, f.Remote, res.Err))
		return -int32(abi.ErrnoNotReady)
	}
	g.skipped = !res.Entered
	if res.Entered {
		g.entered++
	} else {
		g.fast++
	}
	// host.Host names flows by host.Flow; the ABI's flow id is the caller's
	// optional handle, which Timer has no way to know. Adapters get the
	// Flow with every action; the harness checks the id, so the kit puts it
	// on actions that come back without one.
	for i := range res.Actions {
		if res.Actions[i].FlowID == 0 {
			res.Actions[i].FlowID = in.FlowID
		}
	}
	return int32(g.encode(f, &res))
}

// encode writes res as the guest output the harness decodes; the record
// part comes from what the host did to its Store.
func (g *Guest) encode(f host.Flow, res *host.Result) int {
	rec, put, deleted := g.st.last(f)
	hd := abi.OutputHeader{Reason: res.Reason, Edits: len(res.Edits), Actions: len(res.Actions), TextLen: len(res.Text)}
	switch {
	case deleted:
		hd.Flags |= abi.OutRecordDelete
		delete(g.due, f)
	case put:
		hd.Flags |= abi.OutRecordChanged
		hd.RecordLen = len(rec)
		if res.Deadline.IsZero() {
			delete(g.due, f)
		} else {
			g.due[f] = res.Deadline.UnixMilli()
		}
	}
	// A call that left the record alone leaves the host's timer alone: the
	// harness reads a zero deadline as "no timer", so report the one held.
	hd.Deadline = g.due[f]
	b := g.out
	abi.PutOutputHeader(b, &hd)
	off := abi.OutputHeaderSize
	for i := range res.Edits {
		abi.PutEdit(b[off:], &res.Edits[i])
		off += abi.EditSize
	}
	for i := range res.Actions {
		abi.PutAction(b[off:], &res.Actions[i])
		off += abi.ActionSize
	}
	off += copy(b[off:], res.Text)
	if put {
		off += copy(b[off:], rec)
	}
	return off
}
