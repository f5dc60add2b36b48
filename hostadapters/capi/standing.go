package main

import (
	"context"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/sipkeep/sipkeep/abi"
)

// The standing grant (abi.FeatureStandingGrant) lets workers answer the
// commonest message that crosses — a REGISTER 2xx carrying the client's
// bare ;keep — without waiting for the service: the service publishes the
// module's grant in a word of memory the server shares with every worker
// (sipkeepc's skc_shared), the worker sets keep=N itself and sends the
// response to the service afterwards (opDeferred) for the flow's record.

// share takes the server's skc_shared (mapped before forking): the word
// the service publishes its standing grant in, and the deferred ring it
// polls from now on.
func (s *service) share(mem []byte) {
	r := newRing(mem)
	s.ring.Store(r)
	s.grantSlot.Store((*uint32)(unsafe.Pointer(&mem[sharedGrantOff])))
	s.publishGrant()
	go s.pollRing(r)
}

// publishGrant writes the current standing grant (0: none) to the shared
// word. The C thread calls it every step (≤ 100 ms), and control ops that
// change the module or policy call it at once.
func (s *service) publishGrant() {
	slot := s.grantSlot.Load()
	if slot == nil {
		return
	}
	var g uint32
	if !s.closed.Load() {
		g = s.h.StandingGrant(context.Background())
	}
	if atomic.LoadUint32(slot) != g {
		atomic.StoreUint32(slot, g)
		s.log.Info("sipkeep: standing grant for REGISTER 2xx", "keep", g)
	}
}

// unpublishGrant withdraws the grant (service stopping): workers call again.
func (s *service) unpublishGrant() {
	if slot := s.grantSlot.Load(); slot != nil {
		atomic.StoreUint32(slot, 0)
	}
}

// deferred shows the plugin a response a worker already sent with the
// standing grant applied, at the time it was sent, and checks the plugin
// agrees with what went out.
func (s *service) deferred(r *request) {
	s.cnt.deferred.Add(1)
	now := time.Now()
	sent := time.UnixMilli(r.sentMs)
	if r.sentMs <= 0 || sent.After(now) || now.Sub(sent) > time.Minute {
		sent = now // a worker clock we cannot use: the service's own
	}
	res := s.call(r, sent, true)
	if res.FailedOpen {
		return
	}
	if res.Reason == abi.ReasonMalformed || res.Reason == abi.ReasonTooLarge {
		s.cnt.deferredMalformed.Add(1)
		return
	}
	if len(res.Edits) == 1 && res.Edits[0].Op == abi.EditSetKeep && res.Edits[0].Via == 0 && res.Edits[0].Value == r.granted {
		return
	}
	s.cnt.standingMismatch.Add(1)
	if s.warnedMismatch.CompareAndSwap(false, true) {
		s.log.Warn("sipkeep: the plugin decided otherwise on a response sent with its standing grant (counted in standing_mismatch)",
			"flow", flowText(flowOf(r)), "granted", r.granted, "reason", res.Reason.String(), "edits", len(res.Edits))
	}
}
