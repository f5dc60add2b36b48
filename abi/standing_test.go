package abi

import (
	"strings"
	"testing"
)

func TestStandingGrantSite(t *testing.T) {
	base := "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h:5062;branch=z9hG4bK1;keep\r\nVia: SIP/2.0/UDP p\r\n" +
		"CSeq: 7 REGISTER\r\nCall-ID: c\r\nContent-Length: 0\r\n\r\n"
	for _, c := range []struct {
		name, msg string
		ok        bool
	}{
		{"plain", base, true},
		{"probe", StandingGrantProbe, true},
		{"then a param", strings.Replace(base, ";keep", ";keep;rport=1", 1), true},
		{"compact via", strings.Replace(base, "Via: SIP/2.0/UDP h", "v:SIP/2.0/UDP h", 1), true},
		{"upper case", strings.Replace(base, ";keep", ";KEEP", 1), true},
		{"space before end", strings.Replace(base, ";keep", ";keep \t", 1), true},
		{"second via value follows", strings.Replace(base, ";keep", ";keep, SIP/2.0/UDP q", 1), true},
		{"202", strings.Replace(base, "200 OK", "202 Accepted", 1), true},
		{"a value", strings.Replace(base, ";keep", ";keep=30", 1), false},
		{"a spaced value", strings.Replace(base, ";keep", ";keep = 30", 1), false},
		{"not a param", strings.Replace(base, ";keep", ";xkeep", 1), false},
		{"longer name", strings.Replace(base, ";keep", ";keeper", 1), false},
		{"in the second via value", strings.Replace(base, ";branch=z9hG4bK1;keep", ", SIP/2.0/UDP q;keep", 1), false},
		{"in the second Via header", strings.Replace(strings.Replace(base, ";keep", "", 1), "UDP p", "UDP p;keep", 1), false},
		{"twice", strings.Replace(base, "Call-ID: c", "Call-ID: keep", 1), false},
		{"quoted before", strings.Replace(base, ";branch", ";x=\"a\";branch", 1), false},
		{"INVITE", strings.Replace(base, "7 REGISTER", "7 INVITE", 1), false},
		{"two CSeq", strings.Replace(base, "Call-ID", "CSeq: 8 REGISTER\r\nCall-ID", 1), false},
		{"no CSeq", strings.Replace(base, "CSeq: 7 REGISTER\r\n", "", 1), false},
		{"CSeq without number", strings.Replace(base, "7 REGISTER", "REGISTER", 1), false},
		{"Flow-Timer", strings.Replace(base, "Call-ID", "Flow-Timer: 40\r\nCall-ID", 1), false},
		{"180", strings.Replace(base, "200 OK", "180 Ringing", 1), false},
		{"404", strings.Replace(base, "200 OK", "404 Not Found", 1), false},
		{"a request", strings.Replace(base, "SIP/2.0 200 OK", "REGISTER sip:x SIP/2.0", 1), false},
		{"no header end", strings.TrimSuffix(base, "\r\n"), false},
		{"bare LF", strings.Replace(base, "\r\nCall-ID", "\nCall-ID", 1), false},
		{"keep on a continuation line", strings.Replace(base, ";keep", "\r\n ;keep", 1), false},
		{"keep only in the body", strings.Replace(strings.Replace(base, ";keep", "", 1), "\r\n\r\n", "\r\n\r\nkeep", 1), false},
	} {
		at, ok := StandingGrantSite([]byte(c.msg))
		if ok != c.ok {
			t.Errorf("%s: ok = %v, want %v", c.name, ok, c.ok)
			continue
		}
		if ok && !strings.EqualFold(c.msg[at-5:at], ";keep") {
			t.Errorf("%s: site %d follows %q, want ;keep", c.name, at, c.msg[at-5:at])
		}
	}
}
