// Package sipkeepc is the C core the Kamailio and OpenSIPS modules share
// (sipkeepc.c, sipkeepc.h: see the header). This Go file only exposes the
// core's pure functions to Go tests, which hold them to their Go
// counterparts; no Go program links it.
package sipkeepc

/*
#cgo CFLAGS: -O2 -Wall
#cgo LDFLAGS: -ldl
#include <stdlib.h>
#include <sys/mman.h>
#include "sipkeepc.h"

// fast_path_times runs skc_fast_path n times (benchmarks: the cgo call and
// the message's copy are paid once, not per message).
static int fast_path_times(const skc_fast_cfg *cfg, int dir, const char *msg, uint32_t len, int n)
{
	int i, k = 0;
	for (i = 0; i < n; i++)
		k |= skc_fast_path(cfg, dir, msg, len);
	return k;
}
*/
import "C"

import "unsafe"

// StandingSite is skc_standing_site: the offset after the top Via's keep
// in a response the standing grant covers, else 0.
func StandingSite(msg []byte) int {
	return withC(msg, func(p *C.char, n C.uint32_t) C.int {
		return C.int(C.skc_standing_site(p, n))
	})
}

// withC calls f with a C copy of msg (0 for an empty msg: the C functions
// take a non-NULL buffer).
func withC(msg []byte, f func(p *C.char, n C.uint32_t) C.int) int {
	if len(msg) == 0 {
		return 0
	}
	p := C.CBytes(msg)
	defer C.free(p)
	return int(f((*C.char)(p), C.uint32_t(len(msg))))
}

// FastPathTimes runs FastPath's call n times in C and returns the kinds
// or-ed together: what benchmarks of the scan time.
func FastPathTimes(dir int, msg []byte, n int) int {
	var cfg C.skc_fast_cfg
	cfg.sender = 1
	C.skc_fast_cfg_methods(&cfg, nil)
	return withC(msg, func(p *C.char, l C.uint32_t) C.int {
		return C.fast_path_times(&cfg, C.int(dir), p, l, C.int(n))
	})
}

// FastPath is skc_fast_path with the default sender methods (sender on):
// the skc_kind a message crosses as, 0 when it passes.
func FastPath(dir int, msg []byte) int { return FastPathTimes(dir, msg, 1) }

// HeaderEnd is skc_header_end.
func HeaderEnd(msg []byte) int {
	return withC(msg, func(p *C.char, n C.uint32_t) C.int {
		return C.int(C.skc_header_end(p, n))
	})
}

// Directions and kinds of skc_fast_path.
const (
	DirIn        = 1
	DirOut       = 2
	KindRequest  = 1
	KindResponse = 2
)

// ReqSize is sizeof(skc_req), which the Go service decodes.
const ReqSize = int(unsafe.Sizeof(C.skc_req{}))

// The layout of skc_shared, which the Go service reads
// (hostadapters/capi/ring.go holds the same numbers).
const (
	SharedHeadOff  = int(unsafe.Offsetof(C.skc_shared{}.head))
	SharedTailOff  = int(unsafe.Offsetof(C.skc_shared{}.tail))
	SharedSlotsOff = int(unsafe.Offsetof(C.skc_shared{}.slots))
	SharedSize     = int(unsafe.Sizeof(C.skc_shared{}))
	RingSlotSize   = int(unsafe.Sizeof(C.skc_ring_slot{}))
)

// Standing runs skc_standing on msg, one response after another on one
// client, under each grant in turn (each a value the service published):
// the text of the edit it applied, "" when it applied none.
func Standing(msg []byte, grants []uint32) []string {
	sh := C.skc_shared_create()
	if sh == nil {
		panic("skc_shared_create failed")
	}
	defer C.munmap(unsafe.Pointer(sh), C.sizeof_skc_shared)
	c := (*C.skc_client)(C.calloc(1, C.sizeof_skc_client))
	defer C.free(unsafe.Pointer(c))
	C.skc_client_init(c, nil, 100)
	c.shared = sh
	p := C.CBytes(msg)
	defer C.free(p)
	var hdr C.skc_req
	var out C.skc_reply
	texts := make([]string, len(grants))
	for i, g := range grants {
		sh.grant = C.uint32_t(g)
		if C.skc_standing(c, &hdr, (*C.uint8_t)(p), C.uint32_t(len(msg)), &out) == 1 {
			texts[i] = C.GoStringN((*C.char)(unsafe.Pointer(out.text)), C.int(out.text_len))
		}
	}
	return texts
}
