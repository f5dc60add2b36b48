package main

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// The layout of sipkeepc.h's skc_shared: the standing grant word, then the
// deferred ring's head and tail (each on its own cache line) and its slots.
const (
	sharedGrantOff = 0
	sharedHeadOff  = 64
	sharedTailOff  = 128
	sharedSlotsOff = 192
	ringSlots      = 1024
	ringSlotSize   = 2048
	ringSlotHeader = 16 // seq (8), len (4), reserved (4)
	sharedSize     = sharedSlotsOff + ringSlots*ringSlotSize

	// ringStall is how long a claimed slot may stay unwritten before the
	// service gives up on it: a worker takes microseconds to fill one, so
	// a slot unwritten this long belongs to a worker that died mid-write.
	ringStall = time.Second
)

// ring is the one consumer of skc_shared's deferred ring. mem is memory the
// server mapped before forking; workers write it concurrently, so every
// access to the words they share (head, tail, a slot's seq) is atomic.
type ring struct {
	mem  []byte
	head *uint64
	tail *uint64

	mu         sync.Mutex // one drain at a time
	buf        []byte     // the frame being handled, copied out of its slot
	stalled    uint64     // ticket+1 of the slot found unwritten, 0 if none
	stallSince time.Time
	skipped    atomic.Uint64
}

func newRing(mem []byte) *ring {
	return &ring{
		mem:  mem,
		head: (*uint64)(unsafe.Pointer(&mem[sharedHeadOff])),
		tail: (*uint64)(unsafe.Pointer(&mem[sharedTailOff])),
		buf:  make([]byte, 0, ringSlotSize),
	}
}

// drain hands every frame written so far to handle, in ticket order, and
// returns how many it handled. Each slot is copied out and released before
// handle runs, so workers can reuse it at once.
func (r *ring) drain(handle func(frame []byte)) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for {
		t := atomic.LoadUint64(r.tail)
		slot := r.mem[sharedSlotsOff+int(t%ringSlots)*ringSlotSize:][:ringSlotSize]
		if atomic.LoadUint64((*uint64)(unsafe.Pointer(&slot[0]))) != t+1 {
			if atomic.LoadUint64(r.head) <= t || !r.givenUp(t) {
				return n
			}
			atomic.StoreUint64(r.tail, t+1) // claimed and never written: skip it
			r.skipped.Add(1)
			continue
		}
		l := int(binary.LittleEndian.Uint32(slot[8:]))
		if l > ringSlotSize-ringSlotHeader {
			l = 0 // not a frame: decodeRequest refuses the empty one
		}
		r.buf = append(r.buf[:0], slot[ringSlotHeader:ringSlotHeader+l]...)
		atomic.StoreUint64(r.tail, t+1)
		handle(r.buf)
		n++
	}
}

// givenUp reports whether the slot of ticket t, claimed but unwritten, has
// been so for ringStall.
func (r *ring) givenUp(t uint64) bool {
	now := time.Now()
	if r.stalled != t+1 {
		r.stalled, r.stallSince = t+1, now
		return false
	}
	return now.Sub(r.stallSince) >= ringStall
}

// pollRing drains the ring until the service stops: every millisecond while
// frames come, backing off to 16 ms when none do. Polling costs a timer per
// interval instead of a wake-up per message.
func (s *service) pollRing(r *ring) {
	wait := time.Millisecond
	for !s.closed.Load() {
		if s.drainRing(r) > 0 {
			wait = time.Millisecond
		} else if wait < 16*time.Millisecond {
			wait *= 2
		}
		time.Sleep(wait)
	}
}

// drainRing shows the plugin every deferred response on the ring. A call
// runs it first too, so a worker's deferred responses reach the plugin
// before its later messages on the socket.
func (s *service) drainRing(r *ring) int {
	if r == nil {
		return 0
	}
	return r.drain(func(frame []byte) {
		req, ok := decodeRequest(frame)
		if !ok || req.op != opDeferred {
			s.cnt.badFrames.Add(1)
			return
		}
		s.deferred(&req)
	})
}
