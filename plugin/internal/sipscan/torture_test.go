package sipscan

import (
	"testing"

	rfc4475data "github.com/sipkeep/sipkeep/plugin/internal/rfc4475"
)

// rfc4475Invalid are the messages RFC 4475 §3.1.2 calls syntactically
// invalid.
var rfc4475Invalid = map[string]bool{
	"badinv01": true, "clerr": true, "ncl": true, "scalar02": true, "scalarlg": true, "quotbal": true,
	"ltgtruri": true, "lwsruri": true, "lwsstart": true, "trws": true, "escruri": true, "baddate": true,
	"regbadct": true, "badaspec": true, "baddn": true, "badvers": true, "mismatch01": true,
	"mismatch02": true, "bigcode": true,
}

// TestRFC4475MatchesReference: every torture message scans exactly as
// the reference scanner scans it, and a message that scans keeps the
// invariants callers rely on. The scanner reads only what keep needs, so
// most invalid messages scan without error; which ones it refuses is
// logged (go test -v).
func TestRFC4475MatchesReference(t *testing.T) {
	for _, tc := range rfc4475data.Messages(t) {
		if d := sameAsReference(tc.Msg); d != "" {
			t.Errorf("%s: %s", tc.Name, d)
		}
		var m Message
		err := Scan(tc.Msg, &m)
		if err == nil {
			checkInvariants(t, tc.Msg, &m)
		}
		t.Logf("%-10s invalid=%-5v vias=%d err=%v", tc.Name, rfc4475Invalid[tc.Name], m.NVias, err)
	}
}
