package sipscan

import (
	"reflect"
	"testing"

	rfc4475data "github.com/sipkeep/sipkeep/plugin/internal/rfc4475"
	"github.com/sipkeep/sipkeep/plugin/internal/sipscan/internal/sipscanref"
)

// sameAsReference reports how Scan's result differs from the reference
// scanner's (the scanner before its wasm performance work), or "".
func sameAsReference(msg []byte) string {
	var m Message
	var r sipscanref.Message
	err := Scan(msg, &m)
	rerr := sipscanref.Scan(msg, &r)
	if (err == nil) != (rerr == nil) || (err != nil && err.Error() != rerr.Error()) {
		return "error " + errString(err) + ", reference " + errString(rerr)
	}
	if d := sameAsScan(msg, &m, err, 0); d != "" {
		return d
	}
	if d := sameAsScan(msg, &m, err, Need(len(msg)*7)%(NeedAll+1)); d != "" {
		return d
	}
	if err != nil {
		return "" // m's contents are unspecified on error
	}
	for k := m.NVias; k < MaxVias; k++ {
		m.Vias[k] = Via{}
	}
	for k := r.NVias; k < sipscanref.MaxVias; k++ {
		r.Vias[k] = sipscanref.Via{}
	}
	return diffValues("Message", reflect.ValueOf(m), reflect.ValueOf(r))
}

// sameAsScan reports how ScanFor(msg, need) differs from Scan, whose result
// is m and err: it may succeed where Scan fails, never the reverse, and
// when both succeed every field it does not leave out is the same.
func sameAsScan(msg []byte, m *Message, err error, need Need) string {
	var lean Message
	lerr := ScanFor(msg, &lean, need)
	what := "ScanFor(" + itoa(int(need)) + ")"
	if err != nil || lerr != nil {
		if err == nil {
			return what + ": error " + errString(lerr) + ", Scan nil"
		}
		return ""
	}
	want := *m
	if need&NeedOutbound == 0 {
		want.Outbound = false
	}
	if need&NeedFromTag == 0 {
		want.FromTag = nil
	}
	if need&NeedRecordRoutes == 0 {
		want.RecordRoutes = 0
	}
	switch {
	case need&NeedLowerVias != 0:
	case need&NeedLowerKeeps != 0 && lean.NVias == m.NVias:
	default:
		// Only the top Via; with NeedLowerKeeps, only when no Via
		// below it has keep.
		for k := 1; need&NeedLowerKeeps != 0 && k < m.NVias; k++ {
			if v := m.Vias[k]; v.Keep != KeepAbsent || v.KeepStart != 0 || v.KeepNameEnd != 0 || v.KeepEnd != 0 {
				return what + ": left out a Via with keep"
			}
		}
		want.NVias = 1
	}
	if need&NeedRegisterIDs == 0 && m.IsRequest && m.Method == MethodREGISTER {
		want.CallID, want.ToTag, want.ToURI = nil, nil, nil
	}
	if need&NeedRequestContacts == 0 && m.IsRequest && m.Method != MethodREGISTER {
		want.Contacts, want.ContactStar, want.Expires = 0, false, -1
		want.ContactExpiresMax, want.ContactExpiresMin = -1, -1
	}
	for k := want.NVias; k < MaxVias; k++ {
		want.Vias[k] = Via{}
	}
	for k := lean.NVias; k < MaxVias; k++ {
		lean.Vias[k] = Via{}
	}
	return diffValues(what, reflect.ValueOf(lean), reflect.ValueOf(want))
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}

// diffValues compares two values of structurally identical types field by
// field (the two packages declare the same types under different names).
func diffValues(path string, a, b reflect.Value) string {
	switch a.Kind() {
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			if !a.Type().Field(i).IsExported() {
				continue // scratch space of the scan, not a result
			}
			if d := diffValues(path+"."+a.Type().Field(i).Name, a.Field(i), b.FieldByName(a.Type().Field(i).Name)); d != "" {
				return d
			}
		}
	case reflect.Array:
		for i := 0; i < a.Len(); i++ {
			if d := diffValues(path+"["+itoa(i)+"]", a.Index(i), b.Index(i)); d != "" {
				return d
			}
		}
	case reflect.Slice: // []byte aliasing msg: same bytes, nil-ness and capacity
		if a.IsNil() != b.IsNil() || string(a.Bytes()) != string(b.Bytes()) || a.Cap() != b.Cap() {
			return path + ": " + quote(a) + " vs " + quote(b)
		}
	case reflect.Bool:
		if a.Bool() != b.Bool() {
			return path + " differs"
		}
	case reflect.Int, reflect.Int64:
		if a.Int() != b.Int() {
			return path + ": " + itoa(int(a.Int())) + " vs " + itoa(int(b.Int()))
		}
	case reflect.Uint8, reflect.Uint32:
		if a.Uint() != b.Uint() {
			return path + ": " + itoa(int(a.Uint())) + " vs " + itoa(int(b.Uint()))
		}
	default:
		return path + ": unhandled kind " + a.Kind().String()
	}
	return ""
}

func quote(v reflect.Value) string {
	if v.IsNil() {
		return "nil"
	}
	return "\"" + string(v.Bytes()) + "\""
}

func itoa(n int) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// TestMatchesReference runs every message the other tests use through both
// scanners.
func TestMatchesReference(t *testing.T) {
	for _, s := range referenceSeeds() {
		if d := sameAsReference([]byte(s)); d != "" {
			t.Errorf("%q: %s", s, d)
		}
	}
}

// FuzzScanMatchesReference: the fast scanner returns exactly what the
// reference scanner returns, error for error and field for field.
func FuzzScanMatchesReference(f *testing.F) {
	for _, s := range referenceSeeds() {
		f.Add([]byte(s))
	}
	for _, tc := range rfc4475data.Messages(f) {
		f.Add(tc.Msg)
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		if d := sameAsReference(msg); d != "" {
			t.Fatalf("%q: %s", msg, d)
		}
	})
}

func referenceSeeds() []string {
	seeds := []string{registerMsg, inviteMsg, okMsg, hdrMsg("")}
	for _, tc := range viaCases {
		seeds = append(seeds, wrapVia(tc.via))
	}
	for _, s := range []string{
		"Call-ID: a\r\n",
		"From: \"A <b>;tag=no, x\" <sip:a@x;tag=u>;tag=yes\r\n",
		"Contact: <sip:a@x;expires=1>;q=0.5;expires=300, \"x,y\" <sip:b@x,c>;EXPIRES=20\r\nContact: *\r\n",
		"Record-Route: <sip:p1;lr>, <sip:p2;lr>\r\n",
		"k: outbound\r\nFlow-Timer: 30\r\nExpires: 0\r\n",
		"To: <sip:b@x>\r\n ;tag=f\r\n",
		"To:  \"B\" <sip:b@x> \r\nSubscription-State: Terminated ;reason=x\r\nSubscription-State: active\r\n",
		"Subscription-State:\r\n\tterminated\r\n",
		"Require: a, Outbound\r\nSupported:\r\nm: *, <sip:x>\r\nt: <sip:b>;tag=\r\nf: x;tag=\"q\"\r\n",
		"Via : SIP/2.0/UDP h2\r\nv:SIP/2.0/TCP h3;KEEP=5\r\nCSeq: 2 INVITE\r\n",
		"Expires: 99999999999\r\nFlow-Timer: 4294967296\r\nContact: <sip:a>;expires=x\r\n",
		"X-Long-Header-Name-Here: v\r\nRecord-Route: <sip:a;lr>,\r\n <sip:b>\r\nCall-ID:  spaced  \r\n",
	} {
		seeds = append(seeds, hdrMsg(s))
	}
	seeds = append(seeds,
		"SIP/2.0 200 OK\nv: SIP / 2.0 / UDP [::1] : 5060 ; keep = 0030 ; x = \"a,\\\"b\" ,\n\tSIP/2.0/TLS h\nCSeq: 1 INVITE\n",
		"\r\n\r\nINVITE sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h;keep;keep=1\r\nCSeq: 1 INVITE\r\n\r",
		"OPTIONS sip:b SIP/2.0\r\nVia: SIP/2.0/UDP h;keep\r\nCSeq: 1 OPTIONS\r\nVia",
		"OPTIONS sip:b SIP/2.0\r\nVia: SIP/2.0/UDP h;keep\r\nCSeq: 1 OPTIONS\r\nFrom: \"Alice",
		"OPTIONS sip:b SIP/2.0\r\nVia\x00: SIP/2.0/UDP h\r\nCSeq: 1 OPTIONS\r\n\r\n",
	)
	return seeds
}

// TestNameRun8 checks the word-at-a-time name test against the byte table
// for every byte value in every position.
func TestNameRun8(t *testing.T) {
	isName := func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
	}
	isValue := func(c byte) bool { return class[c]&cValue != 0 }
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			for _, fill := range []byte{'a', 'Z', '0', '-', 0xff, ':'} {
				var w [8]byte
				for k := range w {
					w[k] = 'x'
				}
				if fill != 'x' {
					for k := pos + 1; k < 8; k++ {
						w[k] = fill
					}
				}
				w[pos] = byte(c)
				x := le.Uint64(w[:])
				want := 0
				for want < 8 && isName(w[want]) {
					want++
				}
				if got := nameRun8(x); got != want {
					t.Fatalf("nameRun8(%q) = %d, want %d", w, got, want)
				}
				want = 0
				for want < 8 && isValue(w[want]) {
					want++
				}
				if got := valueRun8(x); got != want {
					t.Fatalf("valueRun8(%q) = %d, want %d", w, got, want)
				}
			}
		}
	}
}
