package netkeep

import (
	"net/netip"
	"testing"

	"github.com/sipkeep/sipkeep/abi"
)

// R8/R12 for a proxy: the in-route-set flag is true only when a
// Record-Route names one of the proxy's sockets, whatever the header's case,
// port default or position.
func TestDefaultInRouteSet(t *testing.T) {
	k := New(WithRole(abi.RoleProxy))
	k.addLocal(netip.MustParseAddrPort("127.0.0.1:5060"))
	k.addLocal(netip.MustParseAddrPort("[::1]:5070"))
	const head = "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\n"
	for _, tc := range []struct {
		name, hdrs string
		want       bool
	}{
		{"none", "", false},
		{"ours", "Record-Route: <sip:127.0.0.1:5060;lr>\r\n", true},
		{"ours default port", "Record-Route: <sip:127.0.0.1;lr>\r\n", true},
		{"ours upper case", "RECORD-ROUTE: <sip:127.0.0.1:5060;lr>\r\n", true},
		{"ours lower case", "record-route: <sip:127.0.0.1:5060;lr>\r\n", true},
		{"ours second in list", "Record-Route: <sip:192.0.2.1;lr>, <sip:127.0.0.1:5060;lr>\r\n", true},
		{"ours in second header", "Record-Route: <sip:192.0.2.1;lr>\r\nRecord-Route: <sip:[::1]:5070;lr>\r\n", true},
		{"other host", "Record-Route: <sip:192.0.2.1:5060;lr>\r\n", false},
		{"other port", "Record-Route: <sip:127.0.0.1:5080;lr>\r\n", false},
		{"sips default port is 5061", "Record-Route: <sips:127.0.0.1;lr>\r\n", false},
		{"only mentioned in a value", "Subject: record-route <sip:127.0.0.1:5060>\r\n", false},
	} {
		msg := []byte(head + tc.hdrs + "Content-Length: 0\r\n\r\n")
		if got := k.defaultInRouteSet(msg, abi.DirOut); got != tc.want {
			t.Errorf("%s: in route set = %v, want %v", tc.name, got, tc.want)
		}
	}
	if !New(WithRole(abi.RoleUA)).defaultInRouteSet([]byte(head+"\r\n"), abi.DirOut) {
		t.Error("a UA is always in the route set")
	}
}
