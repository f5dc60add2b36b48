package keeptest

import (
	"strings"

	"github.com/sipkeep/sipkeep/abi"
)

// Realistic ~1 KB messages for benchmarks and allocation tests: a REGISTER
// and an INVITE as a record-routing edge proxy forwards them, with keep.
var (
	BenchRegister = CRLF(`REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-p1-8a2f7c
Via: SIP/2.0/UDP 192.0.2.10:5070;rport=5070;received=198.51.100.7;branch=z9hG4bK-a1b2c3d4e5;keep
Max-Forwards: 69
From: "Alice Liddell" <sip:alice@example.com>;tag=9fxced76sl
To: "Alice Liddell" <sip:alice@example.com>
Call-ID: 3848276298220188511@192.0.2.10
CSeq: 42 REGISTER
Contact: <sip:alice@192.0.2.10:5070;transport=udp;ob>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>";expires=600
Supported: path, outbound, gruu
Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, NOTIFY, MESSAGE, SUBSCRIBE, PRACK
User-Agent: sipkeep-bench/1.0 (a user agent string long enough to look like a real phone's firmware banner)
Path: <sip:127.0.0.1:5060;lr;ob>
Accept: application/sdp, application/pidf+xml, application/xpidf+xml, application/simple-message-summary
Accept-Language: en, fr;q=0.9, de;q=0.8
Authorization: Digest username="alice", realm="example.com", nonce="8d5f1c2a3b4e5f60718293a4b5c6d7e8", uri="sip:example.com", response="0123456789abcdef0123456789abcdef", algorithm=MD5, cnonce="abcdef12", qop=auth, nc=00000001
Content-Length: 0

`)
	BenchInvite = CRLF(`INVITE sip:bob@example.com SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-p1-77e1a0
Via: SIP/2.0/UDP 192.0.2.10:5070;rport=5070;received=198.51.100.7;branch=z9hG4bK-776asdhds;keep
Record-Route: <sip:127.0.0.1:5060;lr>
Max-Forwards: 69
From: "Alice Liddell" <sip:alice@example.com>;tag=1928301774
To: "Bob" <sip:bob@example.com>
Call-ID: a84b4c76e66710@192.0.2.10
CSeq: 314159 INVITE
Contact: <sip:alice@192.0.2.10:5070;transport=udp;ob>
Supported: 100rel, timer, replaces, outbound
Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, NOTIFY, MESSAGE, SUBSCRIBE, PRACK
Session-Expires: 1800;refresher=uac
Min-SE: 90
User-Agent: sipkeep-bench/1.0 (a user agent string long enough to look like a real phone's firmware banner)
P-Asserted-Identity: "Alice Liddell" <sip:alice@example.com>
Accept: application/sdp
Content-Type: application/sdp
Content-Length: 0

`)
)

// ResponseTo turns a forwarded request into the response the proxy sends
// upstream (its own Via removed), for the receiver-side benchmark.
func ResponseTo(req string, status string) string {
	lines := strings.Split(req, "\r\n")
	out := []string{"SIP/2.0 " + status}
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "Via: SIP/2.0/UDP 127.0.0.1:5060") || strings.HasPrefix(l, "Max-Forwards") {
			continue
		}
		if strings.HasPrefix(l, "To: ") {
			l += ";tag=as83kd9"
		}
		out = append(out, l)
	}
	return strings.Join(out, "\r\n")
}

var benchFlow = UDP(5070)

// BenchInput encodes an input for one benchmark call into the guest's buffer
// and returns its length.
func BenchInput(g abi.Guest, kind abi.Kind, dir abi.Direction, role abi.Role, msg []byte, rec []byte) int32 {
	f := benchFlow
	in := abi.Input{Kind: kind, Dir: dir, Transport: f.Transport, Role: role, Flags: abi.FlagInRouteSet,
		Now: 1_700_000_000_000, Random: 42, FlowID: 1, Remote: f.Remote, Local: f.Local, Record: rec, Message: msg}
	return int32(abi.EncodeInput(g.InputBuffer(), &in))
}

// RegistrarOK is the edge proxy's own 200 to a REGISTER refresh (sipgo's
// header order), keep=30 still to be granted on its top Via.
const RegistrarOK = "SIP/2.0 200 OK\r\n" +
	"Via: SIP/2.0/UDP 127.0.0.1:53788;branch=z9hG4bK-b1-1;keep\r\n" +
	"From: <sip:user1@127.0.0.1>;tag=b1\r\n" +
	"To: <sip:user1@127.0.0.1>;tag=87dfb3dc-d365-4204-b2c6-bb6eea94a24e\r\n" +
	"Call-ID: bench-1@127.0.0.1\r\n" +
	"CSeq: 1 REGISTER\r\n" +
	"Content-Length: 0\r\n" +
	"Contact: <sip:user1@127.0.0.1:53788>;expires=300\r\n" +
	"Date: Mon, 23 Nov 2026 21:18:11 GMT\r\n\r\n"
