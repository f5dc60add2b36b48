package sipscan

import (
	"strings"
	"testing"
)

// viaCase is one Via scenario. via holds the Via header lines (joined with
// CRLF, no final CRLF); the test wraps them in a minimal request. Every
// expected edit result is written as the Via lines after the edit, which
// is how the offsets are checked: by what applying them yields.
type viaCase struct {
	name  string
	via   string
	nvias int    // expected NVias
	at    int    // the Via value checked
	value string // msg[Start:End]
	keep  KeepState
	kv    uint32
	param string // msg[KeepStart:KeepEnd]
	ins   string // via after inserting ";keep" at Insert ("" = not checked)
	set   string // via after replacing KeepNameEnd..KeepEnd with "=30"
	strip string // via after deleting KeepNameEnd..KeepEnd
}

var viaCases = []viaCase{
	{
		name: "plain", via: "Via: SIP/2.0/UDP host.example.com;branch=z9hG4bK1",
		nvias: 1, value: "SIP/2.0/UDP host.example.com;branch=z9hG4bK1",
		ins: "Via: SIP/2.0/UDP host.example.com;branch=z9hG4bK1;keep",
	},
	{
		name: "bare keep", via: "Via: SIP/2.0/UDP h;branch=z9hG4bK1;keep",
		nvias: 1, value: "SIP/2.0/UDP h;branch=z9hG4bK1;keep", keep: KeepBare, param: "keep",
		set:   "Via: SIP/2.0/UDP h;branch=z9hG4bK1;keep=30",
		strip: "Via: SIP/2.0/UDP h;branch=z9hG4bK1;keep",
	},
	{
		name: "keep value", via: "Via: SIP/2.0/UDP h;keep=15;branch=z9hG4bK1",
		nvias: 1, value: "SIP/2.0/UDP h;keep=15;branch=z9hG4bK1", keep: KeepValue, kv: 15, param: "keep=15",
		set:   "Via: SIP/2.0/UDP h;keep=30;branch=z9hG4bK1",
		strip: "Via: SIP/2.0/UDP h;keep;branch=z9hG4bK1",
	},
	{
		name: "KEEP upper case", via: "Via: SIP/2.0/UDP h;KEEP",
		nvias: 1, value: "SIP/2.0/UDP h;KEEP", keep: KeepBare, param: "KEEP",
		set: "Via: SIP/2.0/UDP h;KEEP=30",
	},
	{
		name: "LWS around ; and =", via: "Via: SIP/2.0/UDP h ; keep = 30 ;branch=1",
		nvias: 1, value: "SIP/2.0/UDP h ; keep = 30 ;branch=1", keep: KeepValue, kv: 30, param: "keep = 30",
		set:   "Via: SIP/2.0/UDP h ; keep=30 ;branch=1",
		strip: "Via: SIP/2.0/UDP h ; keep ;branch=1",
	},
	{
		name: "leading zeros", via: "Via: SIP/2.0/UDP h;keep=0030",
		nvias: 1, value: "SIP/2.0/UDP h;keep=0030", keep: KeepValue, kv: 30, param: "keep=0030",
	},
	{
		name: "keep=0", via: "Via: SIP/2.0/UDP h;keep=0",
		nvias: 1, value: "SIP/2.0/UDP h;keep=0", keep: KeepValue, kv: 0, param: "keep=0",
	},
	{
		name: "max uint32", via: "Via: SIP/2.0/UDP h;keep=4294967295",
		nvias: 1, value: "SIP/2.0/UDP h;keep=4294967295", keep: KeepValue, kv: 4294967295, param: "keep=4294967295",
	},
	{
		name: "overflow", via: "Via: SIP/2.0/UDP h;keep=4294967296",
		nvias: 1, value: "SIP/2.0/UDP h;keep=4294967296", keep: KeepBad, param: "keep=4294967296",
		set: "Via: SIP/2.0/UDP h;keep=30",
	},
	{
		name: "huge overflow", via: "Via: SIP/2.0/UDP h;keep=99999999999999999999",
		nvias: 1, value: "SIP/2.0/UDP h;keep=99999999999999999999", keep: KeepBad, param: "keep=99999999999999999999",
		strip: "Via: SIP/2.0/UDP h;keep",
	},
	{
		name: "keep= empty", via: "Via: SIP/2.0/UDP h;keep=;branch=1",
		nvias: 1, value: "SIP/2.0/UDP h;keep=;branch=1", keep: KeepBad, param: "keep=",
		set:   "Via: SIP/2.0/UDP h;keep=30;branch=1",
		strip: "Via: SIP/2.0/UDP h;keep;branch=1",
	},
	{
		name: "keep= empty at end", via: "Via: SIP/2.0/UDP h;keep=",
		nvias: 1, value: "SIP/2.0/UDP h;keep=", keep: KeepBad, param: "keep=",
		set: "Via: SIP/2.0/UDP h;keep=30",
	},
	{
		name: "keep=abc", via: "Via: SIP/2.0/UDP h;keep=abc",
		nvias: 1, value: "SIP/2.0/UDP h;keep=abc", keep: KeepBad, param: "keep=abc",
	},
	{
		name: "keep=-1", via: "Via: SIP/2.0/UDP h;keep=-1",
		nvias: 1, value: "SIP/2.0/UDP h;keep=-1", keep: KeepBad, param: "keep=-1",
	},
	{
		name: "keep=1a", via: "Via: SIP/2.0/UDP h;keep=1a",
		nvias: 1, value: "SIP/2.0/UDP h;keep=1a", keep: KeepBad, param: "keep=1a",
	},
	{
		name: "keep quoted", via: `Via: SIP/2.0/UDP h;keep="30"`,
		nvias: 1, value: `SIP/2.0/UDP h;keep="30"`, keep: KeepBad, param: `keep="30"`,
		set: "Via: SIP/2.0/UDP h;keep=30",
	},
	{
		name: "duplicate", via: "Via: SIP/2.0/UDP h;keep=10;branch=1;keep",
		nvias: 1, value: "SIP/2.0/UDP h;keep=10;branch=1;keep", keep: KeepDuplicate, param: "keep=10",
	},
	{
		name: "keepalive is not keep", via: "Via: SIP/2.0/UDP h;keepalive=10;xkeep;keep-x",
		nvias: 1, value: "SIP/2.0/UDP h;keepalive=10;xkeep;keep-x",
		ins: "Via: SIP/2.0/UDP h;keepalive=10;xkeep;keep-x;keep",
	},
	{
		name: "sipgo: LWS around slashes", via: "Via: SIP / 2.0 / UDP host;branch=1",
		nvias: 1, value: "SIP / 2.0 / UDP host;branch=1",
		ins: "Via: SIP / 2.0 / UDP host;branch=1;keep",
	},
	{
		name: "sipgo: LWS before port", via: "Via: SIP/2.0/UDP host: 4000;keep",
		nvias: 1, value: "SIP/2.0/UDP host: 4000;keep", keep: KeepBare, param: "keep",
		set: "Via: SIP/2.0/UDP host: 4000;keep=30",
	},
	{
		name: "LWS both sides of port colon", via: "Via: SIP/2.0/UDP host : 4000",
		nvias: 1, value: "SIP/2.0/UDP host : 4000",
		ins: "Via: SIP/2.0/UDP host : 4000;keep",
	},
	{
		name: "no params, port", via: "Via: SIP/2.0/UDP 192.0.2.1:5060",
		nvias: 1, value: "SIP/2.0/UDP 192.0.2.1:5060",
		ins: "Via: SIP/2.0/UDP 192.0.2.1:5060;keep",
	},
	{
		name: "IPv6 with port", via: "Via: SIP/2.0/TCP [2001:db8::1]:5061;keep=20",
		nvias: 1, value: "SIP/2.0/TCP [2001:db8::1]:5061;keep=20", keep: KeepValue, kv: 20, param: "keep=20",
	},
	{
		name: "IPv6 received param", via: "Via: SIP/2.0/UDP [::1];received=2001:db8::9;rport=5060",
		nvias: 1, value: "SIP/2.0/UDP [::1];received=2001:db8::9;rport=5060",
		ins: "Via: SIP/2.0/UDP [::1];received=2001:db8::9;rport=5060;keep",
	},
	{
		name: "sipgo: quoted param with comma", via: `Via: SIP/2.0/UDP h;x="a,b;c";keep, SIP/2.0/TCP g`,
		nvias: 2, value: `SIP/2.0/UDP h;x="a,b;c";keep`, keep: KeepBare, param: "keep",
		set: `Via: SIP/2.0/UDP h;x="a,b;c";keep=30, SIP/2.0/TCP g`,
	},
	{
		name: "quoted param with escaped quote", via: `Via: SIP/2.0/UDP h;x="a\",b";keep=5`,
		nvias: 1, value: `SIP/2.0/UDP h;x="a\",b";keep=5`, keep: KeepValue, kv: 5, param: "keep=5",
	},
	{
		name: "comma list, first", via: "Via: SIP/2.0/UDP a;branch=1 , SIP/2.0/UDP b;keep",
		nvias: 2, value: "SIP/2.0/UDP a;branch=1",
		ins: "Via: SIP/2.0/UDP a;branch=1;keep , SIP/2.0/UDP b;keep",
	},
	{
		name: "comma list, second", via: "Via: SIP/2.0/UDP a;branch=1 , SIP/2.0/UDP b;keep",
		nvias: 2, at: 1, value: "SIP/2.0/UDP b;keep", keep: KeepBare, param: "keep",
		set: "Via: SIP/2.0/UDP a;branch=1 , SIP/2.0/UDP b;keep=30",
	},
	{
		name: "two lines and compact", via: "v: SIP/2.0/UDP a\r\nVIA : SIP/2.0/UDP b ;keep=7 ",
		nvias: 2, at: 1, value: "SIP/2.0/UDP b ;keep=7", keep: KeepValue, kv: 7, param: "keep=7",
		set: "v: SIP/2.0/UDP a\r\nVIA : SIP/2.0/UDP b ;keep=30 ",
		ins: "v: SIP/2.0/UDP a\r\nVIA : SIP/2.0/UDP b ;keep=7;keep ",
	},
	{
		name: "folded value", via: "Via: SIP/2.0/UDP a;branch=1,\r\n SIP/2.0/UDP b\r\n\t;keep",
		nvias: 2, at: 1, value: "SIP/2.0/UDP b\r\n\t;keep", keep: KeepBare, param: "keep",
		set: "Via: SIP/2.0/UDP a;branch=1,\r\n SIP/2.0/UDP b\r\n\t;keep=30",
	},
	{
		name: "folded inside sent-protocol", via: "Via: SIP/2.0/\r\n UDP b;keep=1",
		nvias: 1, value: "SIP/2.0/\r\n UDP b;keep=1", keep: KeepValue, kv: 1, param: "keep=1",
	},
	{
		name: "bare LF folding", via: "Via: SIP/2.0/UDP a\n ;keep",
		nvias: 1, value: "SIP/2.0/UDP a\n ;keep", keep: KeepBare, param: "keep",
	},
	{
		name: "keep folded around =", via: "Via: SIP/2.0/UDP a;keep\r\n =\r\n 30\r\n ;rport",
		nvias: 1, value: "SIP/2.0/UDP a;keep\r\n =\r\n 30\r\n ;rport", keep: KeepValue, kv: 30, param: "keep\r\n =\r\n 30",
		set:   "Via: SIP/2.0/UDP a;keep=30\r\n ;rport",
		strip: "Via: SIP/2.0/UDP a;keep\r\n ;rport",
	},
	{
		name: "insert before a fold and comma", via: "Via: SIP/2.0/UDP a;branch=1\r\n , SIP/2.0/UDP b",
		nvias: 2, value: "SIP/2.0/UDP a;branch=1",
		ins: "Via: SIP/2.0/UDP a;branch=1;keep\r\n , SIP/2.0/UDP b",
	},
	{
		name: "keep value then LWS then comma", via: "Via: SIP/2.0/UDP a;keep=5 \t, SIP/2.0/UDP b",
		nvias: 2, value: "SIP/2.0/UDP a;keep=5", keep: KeepValue, kv: 5, param: "keep=5",
		set:   "Via: SIP/2.0/UDP a;keep=30 \t, SIP/2.0/UDP b",
		strip: "Via: SIP/2.0/UDP a;keep \t, SIP/2.0/UDP b",
	},
	{
		name: "trailing dot host and underscore", via: "Via: SIP/2.0/WSS my_host.example.com.;keep",
		nvias: 1, value: "SIP/2.0/WSS my_host.example.com.;keep", keep: KeepBare, param: "keep",
	},
	{
		name: "valueless params", via: "Via: SIP/2.0/UDP a;rport;lr",
		nvias: 1, value: "SIP/2.0/UDP a;rport;lr",
		ins: "Via: SIP/2.0/UDP a;rport;lr;keep",
	},
	{
		name: "empty generic value", via: "Via: SIP/2.0/UDP a;x=",
		nvias: 1, value: "SIP/2.0/UDP a;x=",
		ins: "Via: SIP/2.0/UDP a;x=;keep",
	},
}

// wrapVia builds a minimal request around Via lines.
func wrapVia(via string) string {
	return "OPTIONS sip:b@example.com SIP/2.0\r\n" + via + "\r\nCSeq: 1 OPTIONS\r\n\r\n"
}

func splice(s string, start, end int, text string) string {
	return s[:start] + text + s[end:]
}

func TestViaTable(t *testing.T) {
	for _, tc := range viaCases {
		t.Run(tc.name, func(t *testing.T) {
			msg := wrapVia(tc.via)
			var m Message
			if err := Scan([]byte(msg), &m); err != nil {
				t.Fatalf("Scan: %v", err)
			}
			if m.NVias != tc.nvias {
				t.Fatalf("NVias = %d, want %d", m.NVias, tc.nvias)
			}
			v := m.Vias[tc.at]
			if got := msg[v.Start:v.End]; got != tc.value {
				t.Errorf("value = %q, want %q", got, tc.value)
			}
			if v.Insert != v.End {
				t.Errorf("Insert = %d, End = %d", v.Insert, v.End)
			}
			if v.Keep != tc.keep {
				t.Errorf("Keep = %d, want %d", v.Keep, tc.keep)
			}
			if v.KeepValue != tc.kv {
				t.Errorf("KeepValue = %d, want %d", v.KeepValue, tc.kv)
			}
			if tc.keep != KeepAbsent {
				if got := msg[v.KeepStart:v.KeepEnd]; got != tc.param {
					t.Errorf("keep param = %q, want %q", got, tc.param)
				}
				if got := msg[v.KeepStart:v.KeepNameEnd]; !strings.EqualFold(got, "keep") {
					t.Errorf("keep name = %q", got)
				}
			}
			// Each expected edit is checked on the resulting message, which
			// must also scan back to what the edit meant.
			check := func(what, got, want string, keep KeepState, kv uint32) {
				t.Helper()
				if want == "" {
					return
				}
				if wantMsg := wrapVia(want); got != wantMsg {
					t.Errorf("%s:\n got %q\nwant %q", what, got, wantMsg)
					return
				}
				var m2 Message
				if err := Scan([]byte(got), &m2); err != nil {
					t.Errorf("%s: rescan: %v", what, err)
					return
				}
				if v2 := m2.Vias[tc.at]; v2.Keep != keep || v2.KeepValue != kv {
					t.Errorf("%s: rescan keep = %d/%d, want %d/%d", what, v2.Keep, v2.KeepValue, keep, kv)
				}
			}
			insKeep := KeepBare // inserting a second keep makes a duplicate
			if tc.keep != KeepAbsent {
				insKeep = KeepDuplicate
			}
			check("insert", splice(msg, v.Insert, v.Insert, ";keep"), tc.ins, insKeep, 0)
			check("set", splice(msg, v.KeepNameEnd, v.KeepEnd, "=30"), tc.set, KeepValue, 30)
			check("strip", splice(msg, v.KeepNameEnd, v.KeepEnd, ""), tc.strip, KeepBare, 0)
		})
	}
}

func TestViaErrors(t *testing.T) {
	for _, tc := range []struct{ name, via string }{
		{"empty header", "Via: "},
		{"trailing comma", "Via: SIP/2.0/UDP a,"},
		{"empty element", "Via: SIP/2.0/UDP a,,SIP/2.0/UDP b"},
		{"no host", "Via: SIP/2.0/UDP"},
		{"no LWS before host", "Via: SIP/2.0/UDPhost"},
		{"two slashes", "Via: SIP/2.0/ host"},
		{"missing transport", "Via: SIP/2.0 host"},
		{"port not digits", "Via: SIP/2.0/UDP h:abc"},
		{"junk after host", "Via: SIP/2.0/UDP h x"},
		{"comment", "Via: SIP/2.0/UDP h (comment)"},
		{"empty param name", "Via: SIP/2.0/UDP h;=1"},
		{"semicolon only", "Via: SIP/2.0/UDP h;"},
		{"bad IPv6", "Via: SIP/2.0/UDP [2001:db8::1"},
		{"junk after value", "Via: SIP/2.0/UDP h;keep=3 0"},
		{"quote after value", `Via: SIP/2.0/UDP h;keep=30"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m Message
			if err := Scan([]byte(wrapVia(tc.via)), &m); err != ErrBadVia {
				t.Errorf("err = %v, want ErrBadVia", err)
			}
		})
	}
	var m Message
	if err := Scan([]byte(wrapVia(`Via: SIP/2.0/UDP h;x="abc`)), &m); err != ErrTruncated {
		t.Errorf("unterminated quote: err = %v, want ErrTruncated", err)
	}
}

func TestTooManyVias(t *testing.T) {
	var sb strings.Builder
	for k := 0; k < MaxVias; k++ {
		sb.WriteString("Via: SIP/2.0/UDP h;branch=1\r\n")
	}
	msg := "OPTIONS sip:b SIP/2.0\r\n" + sb.String() + "CSeq: 1 OPTIONS\r\n\r\n"
	var m Message
	if err := Scan([]byte(msg), &m); err != nil || m.NVias != MaxVias {
		t.Fatalf("MaxVias: err = %v, NVias = %d", err, m.NVias)
	}
	msg = "OPTIONS sip:b SIP/2.0\r\n" + sb.String() + "Via: SIP/2.0/UDP a, SIP/2.0/UDP b\r\nCSeq: 1 OPTIONS\r\n\r\n"
	if err := Scan([]byte(msg), &m); err != ErrTooManyVias {
		t.Fatalf("err = %v, want ErrTooManyVias", err)
	}
}
