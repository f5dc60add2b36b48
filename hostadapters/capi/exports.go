package main

/*
#include <stdint.h>
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime/debug"
	"time"
	"unsafe"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/host"
)

// Negative returns (SIPKEEP_E_*).
const (
	eHandle = -1
	eArg    = -2
	eSpace  = -3
	eFailed = -4
)

//export sipkeep_open
func sipkeep_open(modulePath, policy, options *C.char, errBuf *C.char, errCap C.int32_t) (id C.int64_t) {
	defer recoverAs("sipkeep_open", &id, 0)
	h, err := open(goString(modulePath), goString(policy), goString(options))
	if err != nil {
		writeErr(errBuf, errCap, err)
		return 0
	}
	return C.int64_t(register(h))
}

func open(path, policy, options string) (*host.Host, error) {
	if path == "" {
		return nil, errors.New("sipkeep_open: empty module path")
	}
	p, err := parsePolicy(policy)
	if err != nil {
		return nil, err
	}
	opts, err := parseOptions(options)
	if err != nil {
		return nil, err
	}
	opts = append(opts, host.WithModuleFile(path), host.WithPolicy(p))
	h, err := host.New(context.Background(), opts...)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return h, nil
}

//export sipkeep_swap
func sipkeep_swap(id C.int64_t, modulePath *C.char, errBuf *C.char, errCap C.int32_t) (rc C.int32_t) {
	defer recoverAs("sipkeep_swap", &rc, eFailed)
	h, ok := lookup(int64(id))
	if !ok {
		writeErr(errBuf, errCap, errors.New("sipkeep_swap: bad handle"))
		return eHandle
	}
	if err := h.SwapFile(context.Background(), goString(modulePath)); err != nil {
		writeErr(errBuf, errCap, err)
		return eFailed
	}
	return 0
}

//export sipkeep_configure
func sipkeep_configure(id C.int64_t, policy *C.char, errBuf *C.char, errCap C.int32_t) (rc C.int32_t) {
	defer recoverAs("sipkeep_configure", &rc, eFailed)
	h, ok := lookup(int64(id))
	if !ok {
		writeErr(errBuf, errCap, errors.New("sipkeep_configure: bad handle"))
		return eHandle
	}
	p, err := parsePolicy(goString(policy))
	if err != nil {
		writeErr(errBuf, errCap, err)
		return eArg
	}
	if _, err := h.Configure(context.Background(), p); err != nil {
		writeErr(errBuf, errCap, err)
		return eFailed
	}
	return 0
}

//export sipkeep_generation
func sipkeep_generation(id C.int64_t) (gen C.uint64_t) {
	defer recoverAs("sipkeep_generation", &gen, 0)
	h, ok := lookup(int64(id))
	if !ok {
		return 0
	}
	return C.uint64_t(h.Generation().Number)
}

//export sipkeep_close
func sipkeep_close(id C.int64_t) {
	var none int
	defer recoverAs("sipkeep_close", &none, 0)
	release(int64(id))
}

//export sipkeep_call
func sipkeep_call(id C.int64_t, kind, dir, transport, role C.uint8_t, flags C.uint16_t, nowMs C.int64_t,
	local, remote *C.char, rec *C.uint8_t, recLen C.uint32_t, msg *C.uint8_t, msgLen C.uint32_t,
	out *C.uint8_t, outCap C.uint32_t) (rc C.int32_t) {
	defer recoverAs("sipkeep_call", &rc, eFailed)
	h, ok := lookup(int64(id))
	if !ok {
		return eHandle
	}
	if out == nil || outCap < resultHeaderSize || recLen > abi.MaxRecord || msgLen > abi.MaxMessage {
		return eArg
	}
	la, err1 := netip.ParseAddrPort(goString(local))
	ra, err2 := netip.ParseAddrPort(goString(remote))
	if err1 != nil || err2 != nil {
		return eArg
	}
	ev := host.Event{
		Kind:       abi.Kind(kind),
		Dir:        abi.Direction(dir),
		Flow:       host.Flow{Transport: abi.Transport(transport), Local: la, Remote: ra},
		Role:       abi.Role(role),
		InRouteSet: flags&C.uint16_t(abi.FlagInRouteSet) != 0,
		LocalReply: flags&C.uint16_t(abi.FlagLocalReply) != 0,
		Message:    bytesOf(msg, msgLen),
	}
	if nowMs != 0 {
		ev.Now = time.UnixMilli(int64(nowMs))
	}
	viaShift := 0
	if flags&flagDropTopVia != 0 && len(ev.Message) > 0 {
		if m, ok := dropTopVia(ev.Message); ok {
			ev.Message, viaShift = m, 1
		}
	}
	r := h.Call(context.Background(), &ev, bytesOf(rec, recLen))
	changed := len(r.Edits) > 0 && !r.FailedOpen
	n := encodeResult(bytesOf(out, outCap), &r, h.Generation().Number, viaShift, changed, flags&flagNoMessage == 0)
	if n < 0 {
		return eSpace
	}
	return C.int32_t(n)
}

//export sipkeep_stun_request
func sipkeep_stun_request(txid *C.uint8_t, out *C.uint8_t, outCap C.uint32_t) (rc C.int32_t) {
	defer recoverAs("sipkeep_stun_request", &rc, eFailed)
	if txid == nil || out == nil {
		return eArg
	}
	var id [12]byte
	copy(id[:], bytesOf(txid, 12))
	return copyOut(stunRequest(id), out, outCap)
}

//export sipkeep_stun_parse
func sipkeep_stun_parse(buf *C.uint8_t, n C.uint32_t, txid *C.uint8_t, mapped *C.char, mappedCap C.int32_t) (rc C.int32_t) {
	defer recoverAs("sipkeep_stun_parse", &rc, 0)
	if buf == nil {
		return 0
	}
	class, id, addr := parseSTUN(bytesOf(buf, n))
	if class == 0 {
		return 0
	}
	if txid != nil {
		copy(bytesOf(txid, 12), id[:])
	}
	writeCString(mapped, mappedCap, addr)
	return C.int32_t(class)
}

//export sipkeep_stun_response
func sipkeep_stun_response(req *C.uint8_t, reqLen C.uint32_t, mapped *C.char, out *C.uint8_t, outCap C.uint32_t) (rc C.int32_t) {
	defer recoverAs("sipkeep_stun_response", &rc, eFailed)
	if req == nil || out == nil {
		return eArg
	}
	b, err := stunResponse(bytesOf(req, reqLen), goString(mapped))
	if err != nil {
		return eArg
	}
	return copyOut(b, out, outCap)
}

// recoverAs keeps a panic inside the library from killing the server: it is
// logged and the export returns fallback (the caller fails open).
func recoverAs[T any](export string, ret *T, fallback T) {
	if r := recover(); r != nil {
		slog.Error("sipkeep: panic in export", "export", export, "panic", r, "stack", string(debug.Stack()))
		*ret = fallback
	}
}

// bytesOf views C memory as a Go slice without copying. Only for the
// duration of the call: nothing may keep it.
func bytesOf(p *C.uint8_t, n C.uint32_t) []byte {
	if p == nil || n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), int(n))
}

func goString(p *C.char) string {
	if p == nil {
		return ""
	}
	return C.GoString(p)
}

func copyOut(b []byte, out *C.uint8_t, outCap C.uint32_t) C.int32_t {
	if len(b) > int(outCap) {
		return eSpace
	}
	return C.int32_t(copy(bytesOf(out, outCap), b))
}

func writeErr(buf *C.char, n C.int32_t, err error) { writeCString(buf, n, err.Error()) }

// writeCString copies s, truncated, NUL-terminated, into a C buffer of n bytes.
func writeCString(buf *C.char, n C.int32_t, s string) {
	if buf == nil || n <= 0 {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(n))
	k := copy(b[:len(b)-1], s)
	b[k] = 0
}
