package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/host"
)

// service is the one plugin service of a pre-forking server: the process
// that loads this library serves every worker of the server over a Unix
// SOCK_SEQPACKET socket (hostadapters/sipkeepc). It runs the store-backed
// host (flow records, timers) in one place and hands the plugin's actions
// to the server's C thread (sipkeep_svc_next_action), which alone may call
// the server's functions.
type service struct {
	h      *host.Host
	ln     *net.UnixListener
	sock   string
	log    *slog.Logger
	logs   *logRing
	locals map[netip.AddrPort]struct{}

	modMu  sync.Mutex
	module string

	actions chan pendingAction
	timer   *time.Timer // next_action's wait; only the C thread uses it

	flowMu sync.Mutex
	flows  map[host.Flow]*flowInfo

	cnt svcCounters

	grantSlot      atomic.Pointer[uint32] // skc_shared's grant word, when the server shares one
	ring           atomic.Pointer[ring]   // skc_shared's deferred ring
	warnedMismatch atomic.Bool

	connMu sync.Mutex
	conns  map[*net.UnixConn]struct{}
	closed atomic.Bool
}

type pendingAction struct {
	f      host.Flow
	a      abi.Action
	connID int32
}

// flowInfo is what sipkeep.flows shows about a flow the plugin acted on.
type flowInfo struct {
	connID   int32
	interval uint32 // seconds, from KEEPALIVE_STARTED / RECEIVE_STARTED
	role     string // "sender" or "receiver"
	last     abi.ActionKind
	lastAt   time.Time
	sentAt   time.Time // last keep-alive sent
	answerAt time.Time // last keep-alive answered
	failed   bool
}

type svcCounters struct {
	calls, entered, edited, failedOpen, badFrames, dropped atomic.Uint64
	deferred, deferredMalformed, standingMismatch          atomic.Uint64
	byKind                                                 [16]atomic.Uint64
}

// maxTrackedFlows bounds sipkeep.flows' table; beyond it, new flows are not
// tracked (the host still serves them).
const maxTrackedFlows = 100000

func startService(module, policy, options, sock, locals string) (*service, error) {
	if module == "" || sock == "" {
		return nil, errors.New("sipkeep service: module path and socket path are required")
	}
	p, err := parsePolicy(policy)
	if err != nil {
		return nil, err
	}
	ring := newLogRing(1024)
	s := &service{
		sock:    sock,
		module:  module,
		logs:    ring,
		locals:  map[netip.AddrPort]struct{}{},
		actions: make(chan pendingAction, 4096),
		flows:   map[host.Flow]*flowInfo{},
		conns:   map[*net.UnixConn]struct{}{},
	}
	opts, level, err := parseHostOptions(options)
	if err != nil {
		return nil, err
	}
	s.log = slog.New(ring.handler(level))
	s.addLocals(locals)
	opts = append(opts,
		host.WithLogger(s.log),
		host.WithModuleFile(module),
		host.WithPolicy(p),
		host.WithActionHandler(s.onAction),
	)
	s.h, err = host.New(context.Background(), opts...)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", module, err)
	}
	_ = os.Remove(sock)
	s.ln, err = net.ListenUnix("unixpacket", &net.UnixAddr{Name: sock, Net: "unixpacket"})
	if err != nil {
		s.h.Close(context.Background())
		return nil, fmt.Errorf("sipkeep service: listen on %s: %w", sock, err)
	}
	// Workers run as the server's user, like this process: owner only.
	_ = os.Chmod(sock, 0o600)
	s.timer = time.NewTimer(time.Hour)
	s.timer.Stop()
	go s.accept()
	return s, nil
}

func (s *service) accept() {
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			if s.closed.Load() {
				return
			}
			s.log.Warn("sipkeep service: accept", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		s.connMu.Lock()
		s.conns[c] = struct{}{}
		s.connMu.Unlock()
		go s.serve(c)
	}
}

// serve answers one worker's requests until it hangs up. Reads park on
// Go's netpoller: a worker's connection costs no thread while idle (a
// blocking read per connection kept the scheduler's monitor retaking
// processors every few microseconds under load).
func (s *service) serve(c *net.UnixConn) {
	defer func() {
		s.connMu.Lock()
		delete(s.conns, c)
		s.connMu.Unlock()
		c.Close()
	}()
	in := make([]byte, reqSize+abi.MaxMessage+1)
	out := make([]byte, maxFrameReply)
	for {
		n, err := c.Read(in)
		if err != nil || n == 0 {
			return
		}
		m := s.handleFrame(in[:n], out)
		if m <= 0 {
			continue
		}
		if _, err := c.Write(out[:m]); err != nil {
			return
		}
	}
}

// handleFrame answers one request frame into out; returns the reply length
// (0: nothing to answer).
func (s *service) handleFrame(frame, out []byte) int {
	r, ok := decodeRequest(frame)
	if !ok {
		s.cnt.badFrames.Add(1)
		if len(frame) >= 8 {
			return encodeTextReply(out, leU32(frame[4:]), statusProto, "bad frame")
		}
		return 0
	}
	switch r.op {
	case opDeferred:
		s.deferred(&r)
		return 0
	case opCall:
		s.drainRing(s.ring.Load())
		res := s.call(&r, time.Time{}, false)
		n := encodeCallReply(out, r.seq, &res)
		if n < 0 {
			putReplyHeader(out, r.seq, statusOK, rFailedOpen, 0, 0)
			return respSize
		}
		return n
	default:
		text, err := s.control(r.op, string(r.payload))
		if err != nil {
			return encodeTextReply(out, r.seq, statusFailed, err.Error())
		}
		return encodeTextReply(out, r.seq, statusOK, text)
	}
}

func leU32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// addLocals reads the server's listening addresses ("ip:port ip:port ...",
// IPv6 in brackets), which tell a Record-Route naming this server (R12). One
// it cannot read is logged and skipped, not fatal: it only keeps dialogs
// record-routed through that address from being recognised, where refusing
// to start would leave every message without the plugin.
func (s *service) addLocals(locals string) {
	for _, l := range strings.Fields(locals) {
		a, err := netip.ParseAddrPort(l)
		if err != nil {
			s.log.Warn("sipkeep service: a listening address the server gave cannot be read; a Record-Route naming it is not recognised as this server's",
				"address", l, "err", err)
			continue
		}
		s.locals[netip.AddrPortFrom(a.Addr().Unmap(), a.Port())] = struct{}{}
	}
}

func flowOf(r *request) host.Flow {
	return host.Flow{Transport: r.tr, Local: r.local, Remote: r.remote}
}

// call shows one message to the plugin, at now (zero: the host's clock).
//
// sent: a worker already sent the message with the standing grant applied
// (deferred): the plugin updates the flow from it and its edits are only
// compared. Those messages are REGISTER 2xx, for which being in the route
// set (R12, dialogs) does not matter, so their Record-Route is not read.
func (s *service) call(r *request, now time.Time, sent bool) host.Result {
	s.cnt.calls.Add(1)
	f := flowOf(r)
	if r.connID != 0 && r.tr.Stream() {
		s.noteConn(f, r.connID)
	}
	ev := host.Event{Kind: r.kind, Dir: r.dir, Flow: f, Role: r.role, Message: r.payload, Now: now, Sent: sent}
	if ev.Role == 0 {
		ev.Role = abi.RoleProxy
	}
	if r.kind == abi.KindSIPRequest || r.kind == abi.KindSIPResponse {
		ev.InRouteSet = r.flags&fInRouteSet != 0 || ev.Role == abi.RoleUA || (!sent && recordRoutesUs(r.payload, s.locals))
		ev.LocalReply = r.flags&0x0002 != 0
	}
	res := s.h.Handle(context.Background(), ev)
	if res.Entered {
		s.cnt.entered.Add(1)
	}
	if res.FailedOpen {
		s.cnt.failedOpen.Add(1)
		s.log.Debug("sipkeep: plugin call failed open", "flow", flowText(f), "err", res.Err)
	} else if len(res.Edits) > 0 {
		s.cnt.edited.Add(1)
	}
	return res
}

func (s *service) noteConn(f host.Flow, id int32) {
	s.flowMu.Lock()
	if fi := s.flows[f]; fi != nil {
		fi.connID = id
	} else if len(s.flows) < maxTrackedFlows {
		s.flows[f] = &flowInfo{connID: id}
	}
	s.flowMu.Unlock()
}

// onAction is the host's ActionHandler: note the flow's state, queue the
// action for the server's C thread. A receive-started stays here (the
// flow table, sipkeep_flows, and the counters have it): the C thread has
// nothing to do for it, and with a flow per UA every first REGISTER makes
// one, each a wake-up of that thread.
func (s *service) onAction(f host.Flow, a abi.Action) {
	if int(a.Kind) < len(s.cnt.byKind) {
		s.cnt.byKind[a.Kind].Add(1)
	}
	now := time.Now()
	s.flowMu.Lock()
	fi := s.flows[f]
	if fi == nil && len(s.flows) < maxTrackedFlows {
		fi = &flowInfo{}
		s.flows[f] = fi
	}
	var connID int32
	if fi != nil {
		connID = fi.connID
		fi.last, fi.lastAt = a.Kind, now
		switch a.Kind {
		case abi.ActKeepaliveStarted:
			fi.interval, fi.role, fi.failed = a.Value, "sender", false
		case abi.ActReceiveStarted:
			fi.interval, fi.role = a.Value, "receiver"
		case abi.ActSendSTUN, abi.ActSendPing:
			fi.sentAt = now
		case abi.ActKeepaliveAnswered:
			fi.answerAt = now
		case abi.ActFlowFailed, abi.ActKeepaliveStopped, abi.ActFlowDead:
			fi.failed = a.Kind == abi.ActFlowFailed
		}
	}
	s.flowMu.Unlock()
	if a.Kind == abi.ActReceiveStarted {
		return
	}
	select {
	case s.actions <- pendingAction{f: f, a: a, connID: connID}:
	default:
		s.cnt.dropped.Add(1)
	}
}

// nextActions waits up to timeout for actions and writes as many as fit.
func (s *service) nextActions(out []byte, timeout time.Duration) int {
	n := 0
	put := func(p pendingAction) {
		encodeAction(out[n*actionSize:], p.f, p.a, p.connID)
		n++
	}
	select {
	case p := <-s.actions:
		put(p)
	default:
		if timeout <= 0 {
			return 0
		}
		s.timer.Reset(timeout)
		select {
		case p := <-s.actions:
			put(p)
			if !s.timer.Stop() {
				select {
				case <-s.timer.C:
				default:
				}
			}
		case <-s.timer.C:
			return 0
		}
	}
	for (n+1)*actionSize <= len(out) {
		select {
		case p := <-s.actions:
			put(p)
		default:
			return n
		}
	}
	return n
}

// control runs RELOAD, STATS, FLOWS, POLICY.
func (s *service) control(op uint8, arg string) (string, error) {
	switch op {
	case opReload:
		s.modMu.Lock()
		defer s.modMu.Unlock()
		path := strings.TrimSpace(arg)
		if path == "" {
			path = s.module
		}
		if err := s.h.SwapFile(context.Background(), path); err != nil {
			s.log.Warn("sipkeep: reload refused; the current module keeps serving", "module", path, "err", err)
			return "", fmt.Errorf("reload %s refused: %w", path, err)
		}
		s.module = path
		s.publishGrant()
		g := s.h.Generation()
		s.log.Info("sipkeep: module reloaded", "module", path, "generation", g.Number)
		return fmt.Sprintf("generation %d\nmodule %s\n", g.Number, path), nil
	case opStats:
		return s.statsText(), nil
	case opFlows:
		return s.flowsText(), nil
	case opPolicy:
		p, err := parsePolicy(arg)
		if err != nil {
			return "", err
		}
		if _, err := s.h.Configure(context.Background(), p); err != nil {
			return "", err
		}
		s.publishGrant()
		return "ok\n", nil
	}
	return "", fmt.Errorf("unknown control op %d", op)
}

func (s *service) statsText() string {
	var b strings.Builder
	s.modMu.Lock()
	module := s.module
	s.modMu.Unlock()
	fmt.Fprintf(&b, "generation %d\nmodule %s\nflows %d\n", s.h.Generation().Number, module, s.h.Flows())
	fmt.Fprintf(&b, "calls %d\nentered %d\nedited %d\nfailed_open %d\nbad_frames %d\nactions_dropped %d\n",
		s.cnt.calls.Load(), s.cnt.entered.Load(), s.cnt.edited.Load(), s.cnt.failedOpen.Load(),
		s.cnt.badFrames.Load(), s.cnt.dropped.Load())
	if slot := s.grantSlot.Load(); slot != nil {
		fmt.Fprintf(&b, "standing_grant %d\n", atomic.LoadUint32(slot))
	}
	fmt.Fprintf(&b, "deferred %d\ndeferred_malformed %d\nstanding_mismatch %d\n",
		s.cnt.deferred.Load(), s.cnt.deferredMalformed.Load(), s.cnt.standingMismatch.Load())
	if r := s.ring.Load(); r != nil {
		fmt.Fprintf(&b, "ring_skipped %d\n", r.skipped.Load())
	}
	for k := range s.cnt.byKind {
		if v := s.cnt.byKind[k].Load(); v > 0 {
			fmt.Fprintf(&b, "%s %d\n", abi.ActionKind(k).String(), v)
		}
	}
	s.connMu.Lock()
	fmt.Fprintf(&b, "workers_connected %d\n", len(s.conns))
	s.connMu.Unlock()
	return b.String()
}

func (s *service) flowsText() string {
	now := time.Now()
	ago := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return fmt.Sprintf("%dms", now.Sub(t).Milliseconds())
	}
	s.flowMu.Lock()
	lines := make([]string, 0, len(s.flows))
	for f, fi := range s.flows {
		if fi.role == "" {
			continue
		}
		next := "-"
		if fi.role == "sender" && !fi.failed && fi.interval > 0 {
			base := fi.sentAt
			if base.IsZero() {
				base = fi.lastAt
			}
			next = fmt.Sprintf("%dms", base.Add(time.Duration(fi.interval)*time.Second).Sub(now).Milliseconds())
		}
		lines = append(lines, fmt.Sprintf("%s role=%s interval=%ds next_by=%s last=%s last_ago=%s answered_ago=%s failed=%v",
			flowText(f), fi.role, fi.interval, next, fi.last, ago(fi.lastAt), ago(fi.answerAt), fi.failed))
	}
	s.flowMu.Unlock()
	sort.Strings(lines)
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

func (s *service) stop() {
	if s.closed.Swap(true) {
		return
	}
	s.unpublishGrant()
	s.ln.Close()
	_ = os.Remove(s.sock)
	s.connMu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.connMu.Unlock()
	s.h.Close(context.Background())
}

func flowText(f host.Flow) string {
	return f.Transport.String() + " " + f.Local.String() + " " + f.Remote.String()
}
