package keep_test

import (
	"strings"
	"testing"

	"github.com/sipkeep/sipkeep/abi"
	rfc4475data "github.com/sipkeep/sipkeep/plugin/internal/rfc4475"
	"github.com/sipkeep/sipkeep/plugin/keep"
	"github.com/sipkeep/sipkeep/plugin/keeptest"
)

func guest(t *testing.T) *keeptest.Harness {
	g, _ := keep.Native()
	return keeptest.New(t, g.(keeptest.Guest))
}

// rfc4475Invalid are the messages RFC 4475 §3.1.2 calls syntactically
// invalid, and those §3.3 says an element must reject (insuf: required
// headers missing; multi01: two values in single-value headers).
var rfc4475Invalid = map[string]bool{
	"badinv01": true, "clerr": true, "ncl": true, "scalar02": true, "scalarlg": true, "quotbal": true,
	"ltgtruri": true, "lwsruri": true, "lwsstart": true, "trws": true, "escruri": true, "baddate": true,
	"regbadct": true, "badaspec": true, "baddn": true, "badvers": true, "mismatch01": true,
	"mismatch02": true, "bigcode": true, "insuf": true, "multi01": true,
}

// R4 against RFC 4475: each torture request, sent by a UA, either passes
// untouched or gets exactly one ";keep" on its top Via and nothing else.
// Which ones are offered keep is logged (go test -v): the plugin reads
// only what keep needs, so a request the RFC calls invalid for a reason
// keep does not look at (a bad Date, an unknown Content-Type, an
// unbalanced quote in a header it skips) is offered keep like a valid one.
func TestR4_RFC4475RequestsOfferedKeepOnlyOnTopVia(t *testing.T) {
	for _, tc := range rfc4475data.Messages(t) {
		if strings.HasPrefix(string(tc.Msg), "SIP/") {
			continue
		}
		h := guest(t)
		h.Role = abi.RoleUA
		// The harness sends CRLF line ends; mpart01's body has bare LFs.
		msg := keeptest.CRLF(string(tc.Msg))
		o := h.SIP(keeptest.UDP(5060), abi.DirOut, msg)
		offered := o.Message != msg
		if o.Errno != 0 {
			t.Errorf("%s: errno %v", tc.Name, o.Errno)
			continue
		}
		if offered {
			if len(o.Edits) != 1 || o.Edits[0].Op != abi.EditAddKeep || o.Edits[0].Via != 0 {
				t.Errorf("%s: edits %v, want one add-keep on Via #0", tc.Name, o)
			}
			if strings.Replace(o.Message, ";keep", "", 1) != msg {
				t.Errorf("%s: the edit changed more than one ;keep", tc.Name)
			}
			if o.Reason == abi.ReasonMalformed {
				t.Errorf("%s: edited a message it calls malformed", tc.Name)
			}
		}
		t.Logf("%-10s rfc-invalid=%-5v offered=%-5v reason=%v", tc.Name, rfc4475Invalid[tc.Name], offered, o.Reason)
	}
}
