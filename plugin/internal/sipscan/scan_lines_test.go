package sipscan

import (
	"strings"
	"testing"
)

// scanLinesCases are header sections that take every way through the
// lines scanLines reads itself (in wasm: scan_wasm.s) and every way back
// to Go: the usual forms, each just off them, and each near the end of
// the message, where the word-at-a-time reads must not look past it.
var scanLinesCases = []string{
	// CSeq: the usual form, then each condition of it broken.
	"CSeq: 1 REGISTER\r\n", "CSeq: 4711 INVITE\r\n", "CSeq: 1234567 BYE\r\n",
	"CSeq:  1 INVITE\r\n", "CSeq:1 INVITE\r\n", "CSeq: 12345678 INVITE\r\n", "CSeq: 1  INVITE\r\n",
	"CSeq: 1 SUBSCRIBE\r\n", "CSeq: 1 invite\r\n", "CSeq: 1 X-Y\r\n", "CSeq: 1 INVITE \r\n",
	"CSeq: 1 IN.VITE\r\n", "CSeq: 1\r\n", "CSeq: x INVITE\r\n", "CSeq: 1 INVITE\r\nCSeq: 2 INVITE\r\n",
	"CSeq: 1 REGISTER", "CSeq: 1 R\r\n\r\n", "CSeq: 99 OPTIONS\r\n\r\n",
	// Call-ID: trimmed, compact, repeated, empty, folded.
	"Call-ID: a@b\r\n", "i:   x@y  \r\n", "Call-ID: one\r\nCall-ID: two\r\n", "Call-ID:\r\n",
	"Call-ID: \r\n\tfolded\r\n", "Call-ID: last",
	// To: name-addr with and without tag, addr-spec, repeated, unclosed.
	"To: <sip:b@x>;tag=t1\r\n", "To: \"B, b\" <sip:b@x>\r\n", "t: sip:b@x;tag=t2\r\n",
	"To: <sip:b@x>;TAG=\"q\";tag=z\r\nTo: <sip:c@x>;tag=no\r\n", "To: <sip:b@x\r\n", "To: <sip:b@x>;tag\r\n",
	"To:\r\n", "To: <sip:b@x>;tag=t3",
	// Contact: expires of every length, quoted, bad, star, lists, lines.
	"Contact: <sip:a@x>;expires=3600\r\n", "Contact: <sip:a@x>;expires=1234567, <sip:b@x>;expires=5\r\n",
	"Contact: <sip:a@x>;expires=12345678\r\n", "Contact: <sip:a@x>;expires=\"60\"\r\n",
	"Contact: <sip:a@x>;expires=\r\n", "Contact: <sip:a@x>;expires=6x\r\n", "Contact: *\r\n",
	"m: <sip:a@x>,\r\n", "Contact: <sip:a@x>\r\nContact: <sip:b@x>;expires=7\r\n",
	"Contact: <sip:a@x;expires=9>;expires=08\r\n", "Contact: <sip:a@x\r\n", "Contact: <sip:a@x>;expires=60",
	"Contact: <sip:a@x>;expires=60\r\n\r\n",
	// Expires: the usual form and off it.
	"Expires: 3600\r\n", "Expires:  3600\r\n", "Expires:3600\r\n", "Expires: 12345678\r\n", "Expires: 36a\r\n",
	"Expires: 1\r\nExpires: 2\r\n", "Expires: 0", "Expires: 60 \r\n", "Expires: 7\r\n\r\n",
	// Headers scanLines leaves to Go, among those it reads.
	"Flow-Timer: 30\r\nContact: <sip:a@x>;expires=5\r\nSubscription-State: active\r\nExpires: 9\r\n",
	"From: <sip:a@x>;tag=f\r\nRecord-Route: <sip:p;lr>\r\nSupported: outbound\r\nTo: <sip:b@x>;tag=g\r\n",
}

// scanLinesMessages puts headers after a top Via and, unless they have
// one, a CSeq, in a response and in a REGISTER.
func scanLinesMessages(headers string) []string {
	cseq := "CSeq: 5 REGISTER\r\n"
	if strings.Contains(strings.ToLower(headers), "cseq") {
		cseq = ""
	}
	var out []string
	for _, start := range []string{"SIP/2.0 200 OK\r\n", "REGISTER sip:x SIP/2.0\r\n"} {
		for _, via := range []string{
			"Via: SIP/2.0/UDP h;keep\r\n",
			"v: SIP/2.0/UDP h;branch=z9;keep=30, SIP/2.0/TCP g;keep\r\n",
			"Via: SIP/2.0/UDP h\r\nVia: SIP/2.0/UDP g;keep=5\r\n",
			"Via: SIP/2.0/UDP h;;\r\n",
		} {
			// With a line after them, with only the empty line that
			// ends the headers (reads near the end of the message),
			// and without (the last line then runs to the end: Go
			// reads it).
			m := start + via + cseq + headers
			out = append(out, m+"Content-Length: 0\r\n\r\n", m+"\r\n", m)
		}
	}
	return out
}

// scanLinesNeeds are the Need bits that change what scanLines reads
// itself (the others only take other headers out).
const scanLinesNeeds = NeedLowerVias | NeedLowerKeeps | NeedRequestContacts | NeedRegisterIDs

// TestScanLinesMatchesReference: for every message above, Scan matches
// the reference scanner and ScanFor, under every combination of
// scanLinesNeeds, matches Scan. Then the same for random edits of them,
// which land on every boundary of the word-at-a-time reads, each under
// one combination.
func TestScanLinesMatchesReference(t *testing.T) {
	check := func(msg []byte, needs ...Need) {
		t.Helper()
		if d := sameAsReference(msg); d != "" {
			t.Fatalf("%q: %s", msg, d)
		}
		var m Message
		err := Scan(msg, &m)
		for _, need := range needs {
			if d := sameAsScan(msg, &m, err, need); d != "" {
				t.Fatalf("%q: %s", msg, d)
			}
		}
	}
	var all []Need
	for need := Need(0); need <= NeedAll; need++ {
		if need&^scanLinesNeeds == 0 {
			all = append(all, need)
		}
	}
	var msgs []string
	for _, h := range scanLinesCases {
		msgs = append(msgs, scanLinesMessages(h)...)
	}
	// Status lines, read by scanLines when usual, each alone too.
	for _, start := range []string{
		"SIP/2.0 200 OK\r\n", "sip/2.0 699 x\r\n", "SiP/2.0 100 \r\n", "SIP/2.0 099 x\r\n",
		"SIP/2.0 700 No\r\n", "SIP/2.0 2000 OK\r\n", "SIP/2.0 200\r\n", "SIP/2.0 20 OK\r\n",
		"SIP/2.0  200 OK\r\n", "SIP/2.1 200 OK\r\n", "SIP/2.0 200 OK\n", "\r\nSIP/2.0 486 Busy Here\r\n",
		"SIP/2.0 200 OK, with a reason phrase longer than a word or two\r\n", "SIP/2.0 200 O\rK\r\n",
	} {
		msgs = append(msgs, start+"Via: SIP/2.0/UDP h;keep\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
			start+"v: SIP/2.0/UDP h\r\nCSeq: 1 INVITE\r\n", start)
	}
	for _, s := range msgs {
		check([]byte(s), all...)
	}
	r, n := randomRounds(t, 6223, 5626, 2000, 200)
	for range n {
		msg := []byte(msgs[r.IntN(len(msgs))])
		check(mutate(r, msg, " \t\r\n;,=:<>\"0123456789eExpirsTtagCSeqINVTE", true), all[r.IntN(len(all))])
	}
}
