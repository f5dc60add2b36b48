package sipscan

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// rfc4475Invalid are the messages RFC 4475 §3.1.2 calls syntactically
// invalid.
var rfc4475Invalid = map[string]bool{
	"badinv01": true, "clerr": true, "ncl": true, "scalar02": true, "scalarlg": true, "quotbal": true,
	"ltgtruri": true, "lwsruri": true, "lwsstart": true, "trws": true, "escruri": true, "baddate": true,
	"regbadct": true, "badaspec": true, "baddn": true, "badvers": true, "mismatch01": true,
	"mismatch02": true, "bigcode": true,
}

type torture struct {
	name string
	msg  []byte
}

// rfc4475 reads RFC 4475's torture messages (testdata/rfc4475), by name.
func rfc4475(tb testing.TB) []torture {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "rfc4475", "*.dat"))
	if err != nil || len(files) != 49 {
		tb.Fatalf("RFC 4475 messages: %d files (%v), want 49", len(files), err)
	}
	sort.Strings(files)
	var ts []torture
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		ts = append(ts, torture{strings.TrimSuffix(filepath.Base(f), ".dat"), b})
	}
	return ts
}

// TestRFC4475MatchesReference: every torture message scans exactly as
// the reference scanner scans it, and a message that scans keeps the
// invariants callers rely on. The scanner reads only what keep needs, so
// most invalid messages scan without error; which ones it refuses is
// logged (go test -v).
func TestRFC4475MatchesReference(t *testing.T) {
	for _, tc := range rfc4475(t) {
		if d := sameAsReference(tc.msg); d != "" {
			t.Errorf("%s: %s", tc.name, d)
		}
		var m Message
		err := Scan(tc.msg, &m)
		if err == nil {
			checkInvariants(t, tc.msg, &m)
		}
		t.Logf("%-10s invalid=%-5v vias=%d err=%v", tc.name, rfc4475Invalid[tc.name], m.NVias, err)
	}
}
