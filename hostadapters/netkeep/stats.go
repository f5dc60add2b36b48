package netkeep

import "sync/atomic"

// Stats counts what the wrappers did on the wire. All counters only grow.
type Stats struct {
	STUNRequestsSent   uint64 // our Binding requests (retransmissions included)
	STUNRequestsServed uint64 // Binding requests received and answered
	STUNResponsesIn    uint64 // STUN responses received (handed to the plugin)
	PingsSent          uint64 // our CRLFCRLF pings
	PingsAnswered      uint64 // CRLFCRLF pings received and answered with a pong
	PongsIn            uint64 // lone CRLFs received at a message boundary
	KeepalivesAnswered uint64 // the plugin matched an answer to our keep-alive
	FlowsFailed        uint64 // flow-failed actions
	FlowsDead          uint64 // flow-dead actions
	StrayUDPCRLF       uint64 // CRLF datagrams dropped on UDP (K1)
	SIPIn, SIPOut      uint64 // SIP messages read and written through the wrappers
	FramingErrors      uint64 // streams closed for a framing error (see ErrFraming)
	RejectsAnswered    uint64 // of those, answered with a 400 or 513 first
	StreamTimeouts     uint64 // streams closed by Limits.MessageTimeout or IdleTimeout
	DatagramsRejected  uint64 // UDP datagrams dropped by the same header checks
}

type counters struct {
	stunSent, stunServed, stunIn         atomic.Uint64
	pingsSent, pingsAnswered, pongsIn    atomic.Uint64
	answered, failed, dead, strayUDPCRLF atomic.Uint64
	sipIn, sipOut                        atomic.Uint64
	framingErrors, rejectsAnswered       atomic.Uint64
	timeouts, datagramsRejected          atomic.Uint64
}

// Stats returns a snapshot of the counters.
func (k *Keeper) Stats() Stats {
	c := &k.cnt
	return Stats{
		STUNRequestsSent:   c.stunSent.Load(),
		STUNRequestsServed: c.stunServed.Load(),
		STUNResponsesIn:    c.stunIn.Load(),
		PingsSent:          c.pingsSent.Load(),
		PingsAnswered:      c.pingsAnswered.Load(),
		PongsIn:            c.pongsIn.Load(),
		KeepalivesAnswered: c.answered.Load(),
		FlowsFailed:        c.failed.Load(),
		FlowsDead:          c.dead.Load(),
		StrayUDPCRLF:       c.strayUDPCRLF.Load(),
		SIPIn:              c.sipIn.Load(),
		SIPOut:             c.sipOut.Load(),
		FramingErrors:      c.framingErrors.Load(),
		RejectsAnswered:    c.rejectsAnswered.Load(),
		StreamTimeouts:     c.timeouts.Load(),
		DatagramsRejected:  c.datagramsRejected.Load(),
	}
}
