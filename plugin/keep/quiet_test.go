package keep

import (
	"testing"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/plugin/internal/sipscan"
)

// FuzzMayDeregisterCovers: abi.MayDeregister, which hosts use to skip a
// received REGISTER (abi.FeatureQuietRefresh), is true for every REGISTER
// the plugin reads as a de-registration, so no de-registration is skipped.
func FuzzMayDeregisterCovers(f *testing.F) {
	for _, s := range []string{
		"Contact: <sip:a@h>;expires=0\r\n",
		"Contact: <sip:a@h>\r\nExpires: 0\r\n",
		"Contact: *\r\nExpires: 0\r\n",
		"m: *\r\n",
		"Contact: <sip:a@h>;EXPIRES = 0, <sip:b@h>;expires=0\r\n",
		"Contact: <sip:a@h>;expires=3600\r\nExpires: 0\r\n",
		"Contact: <sip:a@h>\r\nExpires:\r\n 0\r\n",
		"Contact: \"x\" <sip:a@h;expires=5>;expires=00\r\n",
	} {
		f.Add("REGISTER sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h;keep\r\nCSeq: 1 REGISTER\r\nCall-ID: c\r\n" + s + "\r\n")
	}
	f.Fuzz(func(t *testing.T, msg string) {
		var m sipscan.Message
		if sipscan.Scan([]byte(msg), &m) != nil || m.Method != sipscan.MethodREGISTER {
			return
		}
		if isDeregistration(&m) && !abi.MayDeregister([]byte(msg)) {
			t.Fatalf("a de-registration that MayDeregister passes: %q", msg)
		}
	})
}
