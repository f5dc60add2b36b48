package siptest

import (
	"bufio"
	"slices"
	"strings"
	"testing"
)

// The server tests read keep values and status codes through these; a
// wrong reading would make them pass or fail for the wrong reason.
func TestHeadersViaKeepStatus(t *testing.T) {
	msg := "SIP/2.0 200 OK\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKa;rport=5062;keep=30, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKb;KEEP\r\n" +
		"v: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKc\r\n" +
		"Flow-Timer: 30\r\n\r\nVia: body, not a header"
	vias := Headers(msg, "Via")
	if len(vias) != 2 {
		t.Fatalf("Via values: %q", vias)
	}
	if v, ok := ViaKeep(vias[0]); !ok || v != "30" {
		t.Errorf("top Via keep: %q %v", v, ok)
	}
	if v, ok := ViaKeep(vias[1]); !ok || v != "" {
		t.Errorf("bare KEEP: %q %v", v, ok)
	}
	if _, ok := ViaKeep("SIP/2.0/UDP h;branch=z9hG4bKkeeper"); ok {
		t.Errorf("keep found inside a branch value")
	}
	if got := Headers(msg, "flow-timer"); !slices.Equal(got, []string{"30"}) {
		t.Errorf("Flow-Timer: %q", got)
	}
	if StatusCode(msg) != 200 || StatusCode("REGISTER sip:x SIP/2.0\r\n") != 0 || StatusCode("SIP/2.0 4") != 0 {
		t.Errorf("StatusCode misread")
	}
}

func TestReadStreamMessageFramesByContentLength(t *testing.T) {
	in := "\r\n\r\nSIP/2.0 200 OK\r\nl: 4\r\n\r\nabcdSIP/2.0 100 Trying\r\nContent-Length: 0\r\n\r\n"
	rd := bufio.NewReader(strings.NewReader(in))
	first, err := ReadStreamMessage(rd)
	if err != nil || first != "SIP/2.0 200 OK\r\nl: 4\r\n\r\nabcd" {
		t.Fatalf("first: %q, %v", first, err)
	}
	second, err := ReadStreamMessage(rd)
	if err != nil || StatusCode(second) != 100 {
		t.Fatalf("second: %q, %v", second, err)
	}
	if _, err := ReadStreamMessage(rd); err == nil {
		t.Errorf("no error at the end of the stream")
	}
}

func TestSippCounts(t *testing.T) {
	out := "| Successful call |  0  | 1998\n| Failed call | 0 | 2\n"
	if ok, failed := SippCounts(out); ok != 1998 || failed != 2 {
		t.Errorf("SippCounts: %d ok, %d failed", ok, failed)
	}
}
