package keeptest

import (
	"fmt"
	"strings"
)

// Test messages, written with LF (the harness sends CRLF). Each builder takes
// the parameters the rules look at and fills the rest with plausible values.

// Register is a REGISTER as it leaves Alice's UA (Via params in via, e.g.
// ";keep"), with a Contact lifetime of expires seconds (-1: none given).
func Register(callID string, cseq int, via string, expires int) string {
	contact := "<sip:alice@127.0.0.1:5070>"
	if expires >= 0 {
		contact += fmt.Sprintf(";expires=%d", expires)
	}
	return fmt.Sprintf(`REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-r%d%s
Max-Forwards: 70
From: <sip:alice@example.com>;tag=a1
To: <sip:alice@example.com>
Call-ID: %s
CSeq: %d REGISTER
Contact: %s
Content-Length: 0

`, cseq, via, callID, cseq, contact)
}

// RegisterOK is the 2xx to Register with Alice's Via carrying via (e.g.
// ";keep=30") and the binding's expires (-1: no Contact at all).
func RegisterOK(callID string, cseq int, via string, expires int) string {
	contact := ""
	if expires >= 0 {
		contact = fmt.Sprintf("Contact: <sip:alice@127.0.0.1:5070>;expires=%d\n", expires)
	}
	return fmt.Sprintf(`SIP/2.0 200 OK
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-r%d%s;received=127.0.0.1
From: <sip:alice@example.com>;tag=a1
To: <sip:alice@example.com>;tag=reg
Call-ID: %s
CSeq: %d REGISTER
%sContent-Length: 0

`, cseq, via, callID, cseq, contact)
}

// Invite is an INVITE with the given Via lines (top first, each a full
// "SIP/2.0/UDP host;params" value) and To tag ("" for an initial INVITE).
func Invite(callID string, cseq int, toTag string, vias ...string) string {
	return request("INVITE", callID, cseq, toTag, vias...)
}

func request(method, callID string, cseq int, toTag string, vias ...string) string {
	s := method + " sip:bob@127.0.0.1:5080 SIP/2.0\n"
	for _, v := range vias {
		s += "Via: " + v + "\n"
	}
	to := "<sip:bob@example.com>"
	if toTag != "" {
		to += ";tag=" + toTag
	}
	return s + fmt.Sprintf(`Max-Forwards: 70
From: "Alice" <sip:alice@example.com>;tag=a1
To: %s
Call-ID: %s
CSeq: %d %s
Contact: <sip:alice@127.0.0.1:5070>
Content-Length: 0

`, to, callID, cseq, method)
}

// Notify is an in-dialog NOTIFY (To tag b1) with the given
// Subscription-State value.
func Notify(callID string, cseq int, state string, vias ...string) string {
	r := request("NOTIFY", callID, cseq, "b1", vias...)
	return strings.Replace(r, "Content-Length: 0\n", "Event: presence\nSubscription-State: "+state+"\nContent-Length: 0\n", 1)
}

// Request builds any request (BYE, ACK, UPDATE, OPTIONS...).
func Request(method, callID string, cseq int, toTag string, vias ...string) string {
	return request(method, callID, cseq, toTag, vias...)
}

// Response builds a response to method with the given status and Vias, and
// extra header lines (each ending in LF).
func Response(status int, method, callID string, cseq int, extra string, vias ...string) string {
	s := fmt.Sprintf("SIP/2.0 %d %s\n", status, reasonPhrase(status))
	for _, v := range vias {
		s += "Via: " + v + "\n"
	}
	return s + fmt.Sprintf(`From: "Alice" <sip:alice@example.com>;tag=a1
To: <sip:bob@example.com>;tag=b1
Call-ID: %s
CSeq: %d %s
%sContent-Length: 0

`, callID, cseq, method, extra)
}

func reasonPhrase(status int) string {
	switch status {
	case 100:
		return "Trying"
	case 180:
		return "Ringing"
	case 183:
		return "Session Progress"
	case 200:
		return "OK"
	case 486:
		return "Busy Here"
	}
	return "Whatever"
}

// Via values used by the cases.
const (
	ViaAlice = "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-alice"
	ViaP1    = "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-p1"
	ViaP2    = "SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bK-p2"
)
