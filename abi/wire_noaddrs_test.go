package abi

import (
	"net/netip"
	"testing"
)

// TestDecodeInputNoAddrs: the guest's decode agrees with DecodeInput on
// every field but the two addresses, and on every errno.
func TestDecodeInputNoAddrs(t *testing.T) {
	in := Input{Kind: KindSIPResponse, Dir: DirOut, Transport: TransportWSS, Role: RoleUA,
		Flags: FlagLocalReply, Now: 1700000000123, Random: 7, FlowID: 9,
		Remote: netip.MustParseAddrPort("192.0.2.1:5060"), Local: netip.MustParseAddrPort("[::1]:5070"),
		Record: []byte{1, 2}, Message: []byte("SIP/2.0 200 OK\r\n\r\n")}
	buf := make([]byte, MinInputCapacity)
	n := EncodeInput(buf, &in)
	bad := append([]byte(nil), buf[:n]...)
	bad[inTransport] = 9
	for _, b := range [][]byte{buf[:n], buf[:n-1], buf[:InputHeaderSize-1], bad, nil} {
		var full, light Input
		e1, e2 := DecodeInput(b, &full), DecodeInputNoAddrs(b, &light)
		if e1 != e2 {
			t.Fatalf("len %d: errno %v vs %v", len(b), e1, e2)
		}
		if light.Remote.IsValid() || light.Local.IsValid() {
			t.Fatalf("len %d: addresses decoded", len(b))
		}
		full.Remote, full.Local = netip.AddrPort{}, netip.AddrPort{}
		if full.Kind != light.Kind || full.Dir != light.Dir || full.Transport != light.Transport || full.Role != light.Role ||
			full.Flags != light.Flags || full.Now != light.Now || full.Random != light.Random || full.FlowID != light.FlowID ||
			string(full.Record) != string(light.Record) || string(full.Message) != string(light.Message) ||
			(full.Record == nil) != (light.Record == nil) || (full.Message == nil) != (light.Message == nil) {
			t.Fatalf("len %d:\n%+v\n%+v", len(b), full, light)
		}
	}
}
