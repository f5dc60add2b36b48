package abi

import (
	"bytes"
	"net/netip"
	"testing"
)

func TestInputRoundTrip(t *testing.T) {
	in := Input{Kind: KindSIPRequest, Dir: DirIn, Transport: TransportTCP, Role: RoleProxy,
		Flags: FlagInRouteSet, Now: 1700000000123, Random: 0xdeadbeef, FlowID: 42,
		Remote: netip.MustParseAddrPort("[2001:db8::1]:5060"), Local: netip.MustParseAddrPort("127.0.0.1:5070"),
		Record: []byte{1, 2, 3}, Message: []byte("OPTIONS sip:a SIP/2.0\r\n\r\n")}
	buf := make([]byte, MinInputCapacity)
	n := EncodeInput(buf, &in)
	if n != InputHeaderSize+3+len(in.Message) {
		t.Fatalf("EncodeInput = %d", n)
	}
	var got Input
	if e := DecodeInput(buf[:n], &got); e != ErrnoNone {
		t.Fatalf("DecodeInput: %v", e)
	}
	if got.Kind != in.Kind || got.Dir != in.Dir || got.Transport != in.Transport || got.Role != in.Role ||
		got.Flags != in.Flags || got.Now != in.Now || got.Random != in.Random || got.FlowID != in.FlowID ||
		got.Remote != in.Remote || got.Local != in.Local || !bytes.Equal(got.Record, in.Record) ||
		!bytes.Equal(got.Message, in.Message) {
		t.Fatalf("round trip mismatch:\n got %+v\nwant %+v", got, in)
	}
	if e := DecodeInput(buf[:n-1], &got); e != ErrnoShortInput {
		t.Fatalf("truncated input: got %v, want ErrnoShortInput", e)
	}
}

func TestOutputRoundTripAndApply(t *testing.T) {
	msg := []byte("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;keep;branch=z9\r\n\r\n")
	start := uint32(bytes.Index(msg, []byte(";keep")) + len(";keep"))
	text := []byte("=30")
	edits := []Edit{{Op: EditSetKeep, Via: 0, Value: 30, Start: start, End: start, TextOff: 0, TextLen: 3}}
	acts := []Action{{Kind: ActReceiveStarted, Value: 30, FlowID: 7, TxID: [12]byte{1}}}
	rec := []byte{9, 9}
	h := OutputHeader{Reason: ReasonEdited, Flags: OutRecordChanged, Edits: 1, Actions: 1, RecordLen: 2, TextLen: 3, Deadline: 99}
	buf := make([]byte, OutputSize(&h))
	PutOutputHeader(buf, &h)
	PutEdit(buf[OutputHeaderSize:], &edits[0])
	PutAction(buf[OutputHeaderSize+EditSize:], &acts[0])
	copy(buf[OutputHeaderSize+EditSize+ActionSize:], text)
	copy(buf[OutputHeaderSize+EditSize+ActionSize+3:], rec)
	var out Output
	if err := DecodeOutput(buf, len(msg), &out); err != nil {
		t.Fatal(err)
	}
	if out.OutputHeader != h || out.EditList[0] != edits[0] || out.ActionList[0] != acts[0] || !bytes.Equal(out.Record, rec) {
		t.Fatalf("decode mismatch: %+v", out)
	}
	got := ApplyEdits(nil, msg, out.EditList, out.Text)
	if want := "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;keep=30;branch=z9\r\n\r\n"; string(got) != want {
		t.Fatalf("ApplyEdits = %q", got)
	}
	if err := DecodeOutput(buf, int(start)-1, &out); err == nil {
		t.Fatal("edit beyond the message accepted")
	}
	if err := DecodeOutput(buf[:len(buf)-1], len(msg), &out); err == nil {
		t.Fatal("truncated output accepted")
	}
}
