package main

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/internal/testwasm"
)

// frame builds an skc_req as a worker's C code does.
func frame(seq uint32, op uint8, kind abi.Kind, dir abi.Direction, tr abi.Transport, local, remote string, payload string) []byte {
	b := make([]byte, reqSize+len(payload))
	le := binary.LittleEndian
	le.PutUint32(b[0:], skcMagic)
	le.PutUint32(b[4:], seq)
	b[8], b[9], b[10], b[11], b[12] = op, byte(kind), byte(dir), byte(tr), byte(abi.RoleProxy)
	le.PutUint32(b[20:], uint32(len(payload)))
	if local != "" {
		encodeAddr(b[24:44], netip.MustParseAddrPort(local))
		encodeAddr(b[44:64], netip.MustParseAddrPort(remote))
	}
	copy(b[reqSize:], payload)
	return b
}

// applyReply applies a CALL reply's splices as sipkeepc's skc_apply does.
func applyReply(t *testing.T, msg string, r []byte) (string, uint16) {
	t.Helper()
	le := binary.LittleEndian
	if len(r) < respSize || le.Uint32(r) != skcMagic {
		t.Fatalf("bad reply %x", r)
	}
	flags, n, textLen := le.Uint16(r[12:]), int(le.Uint16(r[14:])), int(le.Uint32(r[16:]))
	text := r[respSize+n*spliceSize:]
	if len(text) != textLen {
		t.Fatalf("text length %d, header says %d", len(text), textLen)
	}
	var out strings.Builder
	at := 0
	for i := 0; i < n; i++ {
		s := r[respSize+i*spliceSize:]
		off, del, to, tl := int(le.Uint32(s)), int(le.Uint32(s[4:])), int(le.Uint32(s[8:])), int(le.Uint32(s[12:]))
		out.WriteString(msg[at:off])
		out.Write(text[to : to+tl])
		at = off + del
	}
	out.WriteString(msg[at:])
	return out.String(), flags
}

func startTestService(t *testing.T, policy string) (*service, string) {
	t.Helper()
	dir := t.TempDir()
	sock := filepath.Join(dir, "svc.sock")
	s, err := startService(testwasm.Path(t), policy, "", sock, "127.0.0.1:5070")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.stop)
	return s, sock
}

func dialService(t *testing.T, sock string) net.Conn {
	t.Helper()
	c, err := net.Dial("unixpacket", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

func roundTrip(t *testing.T, c net.Conn, f []byte) []byte {
	t.Helper()
	if _, err := c.Write(f); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, maxFrameReply)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n]
}

// TestR10_ServiceSetsKeepOverIPC: a registrar's 200 OK to a REGISTER that
// offered ;keep, sent by a worker over the socket, comes back as splices
// that put keep=N on the top Via and strip lower values (R17).
func TestR10_ServiceSetsKeepOverIPC(t *testing.T) {
	_, sock := startTestService(t, "receiver_keep_seconds=30")
	c := dialService(t, sock)
	msg := "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:6000;branch=z9hG4bK1;keep\r\n" +
		"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK0;keep=40\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:a@x>;tag=2\r\n" +
		"Call-ID: c1\r\nCSeq: 1 REGISTER\r\nContact: <sip:a@127.0.0.1:6000>;expires=60\r\nContent-Length: 0\r\n\r\n"
	r := roundTrip(t, c, frame(7, opCall, abi.KindSIPResponse, abi.DirOut, abi.TransportUDP, "127.0.0.1:5070", "127.0.0.1:6000", msg))
	if binary.LittleEndian.Uint32(r[4:]) != 7 {
		t.Fatalf("seq not echoed")
	}
	got, flags := applyReply(t, msg, r)
	if flags&rChanged == 0 {
		t.Fatalf("no edit: flags %#x", flags)
	}
	if !strings.Contains(got, "branch=z9hG4bK1;keep=30\r\n") {
		t.Errorf("R10: top Via has no keep=30:\n%s", got)
	}
	if strings.Contains(got, "keep=40") {
		t.Errorf("R17: lower Via kept keep=40:\n%s", got)
	}
}

// TestServiceBadFrames: garbage and truncated frames get an error reply or
// none, and the connection keeps serving.
func TestServiceBadFrames(t *testing.T) {
	s, sock := startTestService(t, "")
	c := dialService(t, sock)
	r := roundTrip(t, c, []byte("garbage-garbage-garbage"))
	if int32(binary.LittleEndian.Uint32(r[8:])) != statusProto {
		t.Errorf("garbage: status %d", int32(binary.LittleEndian.Uint32(r[8:])))
	}
	f := frame(1, opCall, abi.KindSIPResponse, abi.DirOut, abi.TransportUDP, "127.0.0.1:5070", "127.0.0.1:6000", "SIP/2.0 200 OK\r\n\r\n")
	binary.LittleEndian.PutUint32(f[20:], 9999) // length disagrees
	roundTrip(t, c, f)
	if s.cnt.badFrames.Load() != 2 {
		t.Errorf("bad frames counted %d, want 2", s.cnt.badFrames.Load())
	}
	r = roundTrip(t, c, frame(2, opStats, 0, 0, 0, "", "", ""))
	if !strings.Contains(string(r[respSize:]), "generation 1") {
		t.Errorf("stats after bad frames: %q", r[respSize:])
	}
}

// TestServiceReloadRefusesBrokenModule: a module that does not load is
// refused and the old one keeps serving; a good one swaps.
func TestServiceReloadRefusesBrokenModule(t *testing.T) {
	s, sock := startTestService(t, "")
	c := dialService(t, sock)
	bad := filepath.Join(t.TempDir(), "bad.wasm")
	os.WriteFile(bad, []byte("\x00asm-not-really"), 0o644)
	r := roundTrip(t, c, frame(1, opReload, 0, 0, 0, "", "", bad))
	if int32(binary.LittleEndian.Uint32(r[8:])) != statusFailed {
		t.Fatalf("broken module accepted: %q", r[respSize:])
	}
	if g := s.h.Generation().Number; g != 1 {
		t.Fatalf("generation %d after a refused reload", g)
	}
	r = roundTrip(t, c, frame(2, opReload, 0, 0, 0, "", "", testwasm.Path(t)))
	if int32(binary.LittleEndian.Uint32(r[8:])) != statusOK || s.h.Generation().Number != 2 {
		t.Fatalf("good reload: %q gen %d", r[respSize:], s.h.Generation().Number)
	}
}

func TestRecordRoutesUs(t *testing.T) {
	locals := map[netip.AddrPort]struct{}{netip.MustParseAddrPort("127.0.0.1:5070"): {}}
	for _, c := range []struct {
		msg  string
		want bool
	}{
		{"SIP/2.0 200 OK\r\nRecord-Route: <sip:127.0.0.1:5070;lr>\r\n\r\n", true},
		{"SIP/2.0 200 OK\r\nrecord-route: <sip:10.0.0.1;lr>, <sip:127.0.0.1:5070;lr;ftag=x>\r\n\r\n", true},
		{"SIP/2.0 200 OK\r\nRecord-Route: <sip:127.0.0.1:5071;lr>\r\n\r\n", false},
		{"SIP/2.0 200 OK\r\nTo: <sip:127.0.0.1:5070>\r\n\r\nRecord-Route: <sip:127.0.0.1:5070>", false},
	} {
		if got := recordRoutesUs([]byte(c.msg), locals); got != c.want {
			t.Errorf("%q: got %v", c.msg, got)
		}
	}
}

// BenchmarkServiceRoundTrip is one worker's call to the plugin service over
// its socket: a registrar's 200 OK offering keep, framed, served (plugin
// call included) and answered with splices. This is what a message that
// crosses costs, on top of the worker's own work.
func BenchmarkServiceRoundTrip(b *testing.B) {
	s, sock := benchService(b)
	defer s.stop()
	c, err := net.Dial("unixpacket", sock)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	f := benchFrame()
	buf := make([]byte, maxFrameReply)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Write(f); err != nil {
			b.Fatal(err)
		}
		n, err := c.Read(buf)
		if err != nil || binary.LittleEndian.Uint16(buf[12:])&rChanged == 0 || n < respSize {
			b.Fatalf("reply %x %v", buf[:n], err)
		}
	}
}

// BenchmarkServiceHandleFrame is the service's own work per REGISTER 200
// (decode, plugin call, encode) without any IPC: the floor under sipkeepc's
// round trip (make ipc-bench measures that one).
func BenchmarkServiceHandleFrame(b *testing.B) {
	s, _ := benchService(b)
	defer s.stop()
	in := benchFrame()
	out := make([]byte, maxFrameReply)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if n := s.handleFrame(in, out); n <= respSize || binary.LittleEndian.Uint16(out[12:])&rChanged == 0 {
			b.Fatalf("no edit: %d bytes", n)
		}
	}
}

// benchService starts a service for the benchmarks; it returns its socket.
func benchService(b *testing.B) (*service, string) {
	b.Helper()
	sock := filepath.Join(b.TempDir(), "svc.sock")
	s, err := startService(testwasm.Path(b), "receiver_keep_seconds=30", "", sock, "127.0.0.1:5070")
	if err != nil {
		b.Fatal(err)
	}
	return s, sock
}

// benchFrame is the CALL frame of the benchmarks: a REGISTER 200 granting keep.
func benchFrame() []byte {
	return frame(1, opCall, abi.KindSIPResponse, abi.DirOut, abi.TransportUDP, "127.0.0.1:5070", "127.0.0.1:6000", benchMessage)
}

const benchMessage = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:6000;branch=z9hG4bK1;rport=6000;keep\r\n" +
	"From: <sip:a@x>;tag=1\r\nTo: <sip:a@x>;tag=2\r\nCall-ID: c1\r\nCSeq: 1 REGISTER\r\n" +
	"Contact: <sip:a@127.0.0.1:6000>;expires=60\r\nContent-Length: 0\r\n\r\n"

// BenchmarkServiceDeferred is the plugin service's work per REGISTER 200 a
// worker sent with the standing grant (opDeferred, off the ring): decode,
// plugin call, the agreement check. Every frame registers a new AOR on one
// flow, as the module benchmarks' sipp does over TCP, so the flow's record
// holds the most bindings it can.
func BenchmarkServiceDeferred(b *testing.B) {
	benchDeferred(b, func(i int) (string, string) {
		return "127.0.0.1:6000", strings.ReplaceAll(benchMessage, "sip:a@", fmt.Sprintf("sip:line%03d@", i%256))
	})
}

// BenchmarkServiceDeferredNewFlows is the same work when every REGISTER 200
// is a new UA's first, from its own address: a flow per UA, each 200 OK
// starting a flow's record and timer (the OpenSIPS benchmark's
// UDPSocketPerUA load).
func BenchmarkServiceDeferredNewFlows(b *testing.B) {
	benchDeferred(b, func(i int) (string, string) {
		return fmt.Sprintf("127.0.%d.%d:%d", i>>16&255, i>>8&255, 1024+i&255), benchMessage
	})
}

// benchDeferred shows the service b.N deferred REGISTER 200s over TCP, the
// i-th from the remote address and with the message next(i) gives.
func benchDeferred(b *testing.B, next func(i int) (remote, msg string)) {
	s, _ := benchService(b)
	defer s.stop()
	frames := make([][]byte, b.N)
	for i := range frames {
		remote, msg := next(i)
		f := frame(1, opDeferred, abi.KindSIPResponse, abi.DirOut, abi.TransportTCP, "127.0.0.1:5070", remote, msg)
		binary.LittleEndian.PutUint64(f[64:], uint64(time.Now().UnixMilli()))
		binary.LittleEndian.PutUint32(f[72:], 30)
		frames[i] = f
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, ok := decodeRequest(frames[i])
		if !ok {
			b.Fatal("frame refused")
		}
		s.deferred(&r)
	}
	b.StopTimer()
	if m := s.cnt.standingMismatch.Load(); m != 0 {
		b.Fatalf("%d standing mismatches", m)
	}
}

// TestServiceSkipsAnUnreadableLocalAddress: a listening address the server
// gives in a form the service cannot read (OpenSIPS's IPv6 address_str,
// bracketed once more, did this) is logged and skipped; the service starts
// and knows the others.
func TestServiceSkipsAnUnreadableLocalAddress(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "svc.sock")
	s, err := startService(testwasm.Path(t), "", "", sock, "127.0.0.1:5070 [[0:0:0:0:0:0:0:1]]:5070 [::1]:5070")
	if err != nil {
		t.Fatalf("the service did not start: %v", err)
	}
	defer s.stop()
	want := []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:5070"), netip.MustParseAddrPort("[::1]:5070")}
	if len(s.locals) != len(want) {
		t.Fatalf("locals %v, want %v", s.locals, want)
	}
	for _, a := range want {
		if _, ok := s.locals[a]; !ok {
			t.Errorf("locals %v lack %v", s.locals, a)
		}
	}
}
