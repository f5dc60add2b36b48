package main

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
)

// put writes a frame the way sipkeepc's ring_put does (single-threaded
// here); publish=false claims the slot and leaves it unwritten.
func put(mem []byte, frame []byte, publish bool) {
	head := (*uint64)(unsafe.Pointer(&mem[sharedHeadOff]))
	t := atomic.AddUint64(head, 1) - 1
	slot := mem[sharedSlotsOff+int(t%ringSlots)*ringSlotSize:][:ringSlotSize]
	if !publish {
		return
	}
	binary.LittleEndian.PutUint32(slot[8:], uint32(len(frame)))
	copy(slot[ringSlotHeader:], frame)
	atomic.StoreUint64((*uint64)(unsafe.Pointer(&slot[0])), t+1)
}

// TestRingDrainsInOrderAndSkipsADeadWriter: frames come out in ticket
// order across the wrap; a slot claimed and never written holds the ring
// back for ringStall, then is skipped and the frames behind it come out.
func TestRingDrainsInOrderAndSkipsADeadWriter(t *testing.T) {
	mem := make([]byte, sharedSize+8)
	mem = mem[8-uintptr(unsafe.Pointer(&mem[0]))%8:][:sharedSize] // 8-byte aligned, as mmap's is
	r := newRing(mem)
	var got []string
	collect := func(f []byte) { got = append(got, string(f)) }
	for lap := 0; lap < 3; lap++ {
		for i := 0; i < ringSlots-1; i++ {
			put(mem, []byte(fmt.Sprint(lap, "/", i)), true)
		}
		got = got[:0]
		if n := r.drain(collect); n != ringSlots-1 || got[0] != fmt.Sprint(lap, "/0") || got[n-1] != fmt.Sprint(lap, "/", ringSlots-2) {
			t.Fatalf("lap %d: drained %d, first %q last %q", lap, n, got[0], got[len(got)-1])
		}
	}
	put(mem, nil, false) // a worker died between claiming and writing
	put(mem, []byte("after"), true)
	got = got[:0]
	if n := r.drain(collect); n != 0 {
		t.Fatalf("drained %d past an unwritten slot at once", n)
	}
	time.Sleep(ringStall + 50*time.Millisecond)
	if n := r.drain(collect); n != 0 { // the first look after the stall starts its clock
		if n != 1 || got[0] != "after" {
			t.Fatalf("after the stall: %q", got)
		}
	} else if r.drain(collect); len(got) != 1 || got[0] != "after" {
		t.Fatalf("after the stall: %q", got)
	}
	if r.skipped.Load() != 1 {
		t.Fatalf("skipped %d, want 1", r.skipped.Load())
	}
}

// The layout sipkeepc.h documents (TestSharedLayout checks the C side).
func TestSharedLayoutConstants(t *testing.T) {
	if sharedHeadOff != 64 || sharedTailOff != 128 || sharedSlotsOff != 192 || ringSlotSize != 2048 ||
		ringSlots != 1024 || sharedSize != 192+1024*2048 {
		t.Fatal("the ring's constants disagree with sipkeepc.h's skc_shared")
	}
}
