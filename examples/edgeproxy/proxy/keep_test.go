package proxy

import "testing"

func TestIsRegisterResponse(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		want bool
	}{
		{"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCSeq: 7 REGISTER\r\n\r\n", true},
		{"SIP/2.0 200 OK\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\ncseq :  7 REGISTER \n\n", true},
		{"SIP/2.0 180 Ringing\r\nCSeq: 1 INVITE\r\n\r\n", false},
		{"SIP/2.0 200 OK\r\nVia: x\r\n\r\nCSeq: 1 REGISTER\r\n", false}, // in the body
		{"SIP/2.0 200 OK\r\nCSeq: 1 REGISTER", true},                    // no end of headers
		{"", false},
	} {
		if got := isRegisterResponse([]byte(tc.msg)); got != tc.want {
			t.Errorf("isRegisterResponse(%q) = %v, want %v", tc.msg, got, tc.want)
		}
	}
	msg := []byte("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCSeq: 7 REGISTER\r\n\r\n")
	if n := testing.AllocsPerRun(100, func() { isRegisterResponse(msg) }); n != 0 {
		t.Errorf("%v allocations per call; it runs on every response written", n)
	}
}
