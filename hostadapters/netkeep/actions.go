package netkeep

import (
	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/host"
)

// HandleAction carries out one plugin action; pass it to
// host.WithActionHandler. Sends happen on the flow's own socket (UDP: looked
// up by local address; streams: by local and remote address).
func (k *Keeper) HandleAction(f host.Flow, a abi.Action) {
	log := k.log.With("flow", flowString(f), "action", a.Kind.String())
	at := k.clock()
	switch a.Kind {
	case abi.ActSendSTUN:
		p := k.packetFor(f.Local)
		if p == nil {
			log.Warn("sipkeep: cannot send STUN keep-alive", "err", errNoFlow)
			return
		}
		if err := p.sendSTUN(f.Remote, a.TxID); err != nil {
			log.Warn("sipkeep: STUN keep-alive not sent", "err", err)
			return
		}
		k.cnt.stunSent.Add(1)
		log.Debug("sipkeep: STUN keep-alive sent", "attempt", a.Attempt, "rto_ms", a.Value)
		k.emit(f, a, at)
	case abi.ActSendPing:
		if f.Transport == abi.TransportWS || f.Transport == abi.TransportWSS {
			k.sendWSPing(f, a, at, log)
			return
		}
		c := k.streamFor(f)
		if c == nil {
			log.Warn("sipkeep: cannot send ping", "err", errNoFlow)
			return
		}
		if err := c.sendPing(); err != nil {
			log.Warn("sipkeep: ping not sent", "err", err)
			return
		}
		log.Debug("sipkeep: ping sent", "pong_deadline_ms", a.Value)
		k.emit(f, a, at)
	case abi.ActFlowFailed:
		k.cnt.failed.Add(1)
		log.Warn("sipkeep: flow failed", "reason", a.Reason.String())
		k.emit(f, a, at) // why first; the close that follows reports Closed
		if f.Transport.Stream() {
			if c := k.streamFor(f); c != nil {
				_ = c.Close()
			}
			if c := k.wsStreams.get(f); c != nil {
				_ = c.Close()
			}
		}
	case abi.ActFlowDead:
		k.setKeepFlow(f, false) // the idle timeout governs the stream again
		k.cnt.dead.Add(1)
		log.Info("sipkeep: flow dead (no keep-alives)", "reason", a.Reason.String())
		k.emit(f, a, at)
	case abi.ActKeepaliveAnswered:
		k.cnt.answered.Add(1)
		log.Debug("sipkeep: keep-alive answered")
		k.emit(f, a, at)
	case abi.ActKeepaliveStarted, abi.ActReceiveStarted:
		k.setKeepFlow(f, true)
		log.Debug("sipkeep: action", "reason", a.Reason.String(), "value", a.Value)
		k.emit(f, a, at)
	case abi.ActKeepaliveStopped:
		k.setKeepFlow(f, false)
		log.Debug("sipkeep: action", "reason", a.Reason.String(), "value", a.Value)
		k.emit(f, a, at)
	default:
		log.Debug("sipkeep: action", "reason", a.Reason.String(), "value", a.Value)
		k.emit(f, a, at)
	}
}

// setKeepFlow marks a stream as carrying keep-alives (or no longer): such a
// stream is exempt from Limits.IdleTimeout, its keep-alive failure detection
// governs it.
func (k *Keeper) setKeepFlow(f host.Flow, on bool) {
	if !f.Transport.Stream() {
		return
	}
	if c := k.streamFor(f); c != nil && c.keepFlow.Swap(on) && !on {
		c.wakeReader() // its read may wait with no idle deadline
	}
}
