package sipscan

import (
	"testing"

	rfc4475data "github.com/sipkeep/sipkeep/plugin/internal/rfc4475"
)

// FuzzScan checks what callers rely on for any input: no panic, offsets
// inside msg and ordered, at most MaxVias values, and that the documented
// edits (insert ";keep" at Insert, replace or delete KeepNameEnd..KeepEnd)
// produce a message that scans back to what the edit meant.
func FuzzScan(f *testing.F) {
	for _, s := range []string{registerMsg, inviteMsg, okMsg} {
		f.Add([]byte(s))
	}
	for _, tc := range viaCases {
		f.Add([]byte(wrapVia(tc.via)))
	}
	for _, s := range []string{
		"Call-ID: a\r\n",
		"From: \"A <b>;tag=no, x\" <sip:a@x;tag=u>;tag=yes\r\n",
		"Contact: <sip:a@x;expires=1>;q=0.5;expires=300, \"x,y\" <sip:b@x,c>;EXPIRES=20\r\nContact: *\r\n",
		"Record-Route: <sip:p1;lr>, <sip:p2;lr>\r\n",
		"k: outbound\r\nFlow-Timer: 30\r\nExpires: 0\r\n",
		"To: <sip:b@x>\r\n ;tag=f\r\n",
	} {
		f.Add([]byte(hdrMsg(s)))
	}
	f.Add([]byte("SIP/2.0 200 OK\nv: SIP / 2.0 / UDP [::1] : 5060 ; keep = 0030 ; x = \"a,\\\"b\" ,\n\tSIP/2.0/TLS h\nCSeq: 1 INVITE\n"))
	for _, tc := range rfc4475data.Messages(f) {
		f.Add(tc.Msg)
	}
	f.Add([]byte("\r\n\r\nINVITE sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h;keep;keep=1\r\nCSeq: 1 INVITE\r\n\r"))

	f.Fuzz(func(t *testing.T, msg []byte) {
		var m Message
		if err := Scan(msg, &m); err != nil {
			return
		}
		checkInvariants(t, msg, &m)
		if len(msg) > MaxHeaderBytes-16 {
			return // an edit could push the header section past the limit
		}
		for k := 0; k < m.NVias; k++ {
			checkEdits(t, msg, &m, k)
		}
	})
}

func checkInvariants(t *testing.T, msg []byte, m *Message) {
	t.Helper()
	if m.NVias < 1 || m.NVias > MaxVias {
		t.Fatalf("NVias = %d", m.NVias)
	}
	if m.HeaderEnd < 0 || m.HeaderEnd > len(msg) {
		t.Fatalf("HeaderEnd = %d, len %d", m.HeaderEnd, len(msg))
	}
	prevEnd := 0
	for k := 0; k < m.NVias; k++ {
		v := &m.Vias[k]
		if !(prevEnd <= v.Start && v.Start < v.End && v.End <= m.HeaderEnd && v.Insert == v.End) {
			t.Fatalf("via %d: Start %d End %d Insert %d (prev end %d, HeaderEnd %d)", k, v.Start, v.End, v.Insert, prevEnd, m.HeaderEnd)
		}
		prevEnd = v.End
		if v.Keep > KeepDuplicate {
			t.Fatalf("via %d: Keep = %d", k, v.Keep)
		}
		if v.Keep == KeepAbsent {
			continue
		}
		if !(v.Start <= v.KeepStart && v.KeepStart < v.KeepNameEnd && v.KeepNameEnd <= v.KeepEnd && v.KeepEnd <= v.End) {
			t.Fatalf("via %d: keep offsets %d %d %d %d %d", k, v.Start, v.KeepStart, v.KeepNameEnd, v.KeepEnd, v.End)
		}
		if !eqFold(msg[v.KeepStart:v.KeepNameEnd], "keep") {
			t.Fatalf("via %d: keep name %q", k, msg[v.KeepStart:v.KeepNameEnd])
		}
		if v.Keep == KeepBare && v.KeepNameEnd != v.KeepEnd {
			t.Fatalf("via %d: bare keep with value %q", k, msg[v.KeepNameEnd:v.KeepEnd])
		}
	}
	for _, s := range [][]byte{m.CallID, m.FromTag, m.ToTag} {
		if len(s) > 0 && !within(msg, s) {
			t.Fatalf("slice %q does not alias msg", s)
		}
	}
	if m.IsRequest == (m.Status != 0) || (!m.IsRequest && (m.Status < 100 || m.Status > 699)) {
		t.Fatalf("IsRequest %v Status %d", m.IsRequest, m.Status)
	}
	if (m.ContactExpiresMin < 0) != (m.ContactExpiresMax < 0) || m.ContactExpiresMin > m.ContactExpiresMax {
		t.Fatalf("contact expires min %d max %d", m.ContactExpiresMin, m.ContactExpiresMax)
	}
}

// within reports whether s lies inside msg (shares its backing array).
func within(msg, s []byte) bool {
	if len(msg) == 0 {
		return false
	}
	for k := range msg {
		if &msg[k] == &s[0] {
			return k+len(s) <= len(msg)
		}
	}
	return false
}

// checkEdits applies each edit the plugin may make to Via k and rescans.
func checkEdits(t *testing.T, msg []byte, m *Message, k int) {
	t.Helper()
	v := m.Vias[k]
	rescan := func(what string, edited []byte, keep KeepState, kv uint32) {
		t.Helper()
		var m2 Message
		if err := Scan(edited, &m2); err != nil {
			t.Fatalf("via %d %s: rescan of %q: %v", k, what, edited, err)
		}
		if m2.NVias != m.NVias {
			t.Fatalf("via %d %s: NVias %d -> %d in %q", k, what, m.NVias, m2.NVias, edited)
		}
		if v2 := m2.Vias[k]; v2.Keep != keep || v2.KeepValue != kv {
			t.Fatalf("via %d %s: keep %d/%d, want %d/%d in %q", k, what, v2.Keep, v2.KeepValue, keep, kv, edited)
		}
	}
	edit := func(start, end int, text string) []byte {
		out := make([]byte, 0, len(msg)+len(text))
		out = append(out, msg[:start]...)
		out = append(out, text...)
		return append(out, msg[end:]...)
	}
	switch v.Keep {
	case KeepAbsent:
		rescan("insert", edit(v.Insert, v.Insert, ";keep"), KeepBare, 0)
	case KeepBare, KeepValue, KeepBad:
		rescan("set", edit(v.KeepNameEnd, v.KeepEnd, "=30"), KeepValue, 30)
		rescan("strip", edit(v.KeepNameEnd, v.KeepEnd, ""), KeepBare, 0)
	case KeepDuplicate:
		// The plugin does not edit a duplicated keep; it reports it.
	}
}
