package main

/*
#include <stdint.h>
*/
import "C"

import (
	"errors"
	"sync"
	"time"
	"unsafe"
)

// The service API of sipkeepc.h's skc_service_*: called only in the one
// server process that loads this library (after the fork), from its C thread.

var (
	svcMu   sync.Mutex
	svcs    = map[int64]*service{}
	svcNext int64
)

func svcLookup(id C.int64_t) *service {
	svcMu.Lock()
	defer svcMu.Unlock()
	return svcs[int64(id)]
}

//export sipkeep_svc_start
func sipkeep_svc_start(module, policy, options, sock, locals *C.char, errBuf *C.char, errCap C.int32_t) (id C.int64_t) {
	defer recoverAs("sipkeep_svc_start", &id, 0)
	s, err := startService(goString(module), goString(policy), goString(options), goString(sock), goString(locals))
	if err != nil {
		writeErr(errBuf, errCap, err)
		return 0
	}
	svcMu.Lock()
	svcNext++
	svcs[svcNext] = s
	id = C.int64_t(svcNext)
	svcMu.Unlock()
	return id
}

//export sipkeep_svc_next_action
func sipkeep_svc_next_action(id C.int64_t, out *C.uint8_t, outCap C.uint32_t, timeoutMs C.int32_t) (n C.int32_t) {
	defer recoverAs("sipkeep_svc_next_action", &n, -1)
	s := svcLookup(id)
	if s == nil || s.closed.Load() {
		return -1
	}
	s.publishGrant() // at least every step: catches reloads the host makes by itself
	if out == nil || outCap < actionSize {
		return 0
	}
	return C.int32_t(s.nextActions(bytesOf(out, outCap), time.Duration(timeoutMs)*time.Millisecond))
}

//export sipkeep_svc_event
func sipkeep_svc_event(id C.int64_t, frame *C.uint8_t, n C.uint32_t) (rc C.int32_t) {
	defer recoverAs("sipkeep_svc_event", &rc, -1)
	s := svcLookup(id)
	if s == nil {
		return -1
	}
	r, ok := decodeRequest(bytesOf(frame, n))
	if !ok || r.op != opCall {
		return -1
	}
	s.call(&r, time.Time{}, false)
	return 0
}

//export sipkeep_svc_share
func sipkeep_svc_share(id C.int64_t, mem *C.uint8_t, size C.uint32_t) (rc C.int32_t) {
	defer recoverAs("sipkeep_svc_share", &rc, -1)
	s := svcLookup(id)
	if s == nil || mem == nil || size != sharedSize {
		return -1 // not the skc_shared this library reads: share nothing
	}
	s.share(unsafe.Slice((*byte)(unsafe.Pointer(mem)), int(size)))
	return 0
}

//export sipkeep_svc_control
func sipkeep_svc_control(id C.int64_t, op C.uint8_t, arg *C.char, out *C.char, outCap C.int32_t) (rc C.int32_t) {
	defer recoverAs("sipkeep_svc_control", &rc, statusFailed)
	s := svcLookup(id)
	if s == nil {
		writeErr(out, outCap, errors.New("sipkeep service: not running"))
		return statusFailed
	}
	text, err := s.control(uint8(op), goString(arg))
	if err != nil {
		writeErr(out, outCap, err)
		return statusFailed
	}
	writeCString(out, outCap, text)
	return statusOK
}

//export sipkeep_svc_next_log
func sipkeep_svc_next_log(id C.int64_t, out *C.char, outCap C.int32_t) (level C.int32_t) {
	defer recoverAs("sipkeep_svc_next_log", &level, -1)
	s := svcLookup(id)
	if s == nil {
		return -1
	}
	l, ok := s.logs.pop()
	if !ok {
		return -1
	}
	writeCString(out, outCap, l.text)
	return C.int32_t(l.level)
}

//export sipkeep_svc_stop
func sipkeep_svc_stop(id C.int64_t) {
	var none int
	defer recoverAs("sipkeep_svc_stop", &none, 0)
	svcMu.Lock()
	s := svcs[int64(id)]
	delete(svcs, int64(id))
	svcMu.Unlock()
	if s != nil {
		s.stop()
	}
}
