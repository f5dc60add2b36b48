package sipscan

import (
	"reflect"
	"strings"
	"testing"

	"github.com/sipkeep/sipkeep/plugin/internal/sipscan/internal/sipscanref"
)

func TestStartLine(t *testing.T) {
	for _, tc := range []struct {
		line      string
		err       error
		isRequest bool
		method    Method
		status    int
	}{
		{line: "INVITE sip:b@x SIP/2.0", isRequest: true, method: MethodINVITE},
		{line: "REGISTER sip:x sip/2.0", isRequest: true, method: MethodREGISTER},
		{line: "ACK sip:b@x SIP/2.0", isRequest: true, method: MethodACK},
		{line: "BYE sip:b@x SIP/2.0", isRequest: true, method: MethodBYE},
		{line: "CANCEL sip:b@x SIP/2.0", isRequest: true, method: MethodCANCEL},
		{line: "SUBSCRIBE sip:b@x SIP/2.0", isRequest: true, method: MethodSUBSCRIBE},
		{line: "NOTIFY sip:b@x SIP/2.0", isRequest: true, method: MethodNOTIFY},
		{line: "REFER sip:b@x SIP/2.0", isRequest: true, method: MethodREFER},
		{line: "UPDATE sip:b@x SIP/2.0", isRequest: true, method: MethodUPDATE},
		{line: "OPTIONS sip:b@x SIP/2.0", isRequest: true, method: MethodOPTIONS},
		{line: "PRACK sip:b@x SIP/2.0", isRequest: true, method: MethodPRACK},
		{line: "MESSAGE sip:b@x SIP/2.0", isRequest: true, method: MethodMESSAGE},
		{line: "INFO sip:b@x SIP/2.0", isRequest: true, method: MethodINFO},
		{line: "PUBLISH sip:b@x SIP/2.0", isRequest: true, method: MethodPUBLISH},
		{line: "invite sip:b@x SIP/2.0", isRequest: true, method: MethodOther}, // methods are case-sensitive
		{line: "FOO sip:b@x SIP/2.0", isRequest: true, method: MethodOther},
		{line: "SIP/2.0 200 OK", status: 200},
		{line: "SIP/2.0 100 Trying", status: 100},
		{line: "sip/2.0 699 Whatever it is", status: 699},
		{line: "SIP/2.0 180", status: 180},
		{line: "SIP/2.0 099 Low", err: ErrNotSIP},
		{line: "SIP/2.0 700 High", err: ErrNotSIP},
		{line: "SIP/2.0 20 OK", err: ErrNotSIP},
		{line: "SIP/2.0 2000 OK", err: ErrNotSIP},
		{line: "SIP/2.0 abc OK", err: ErrNotSIP},
		{line: "HTTP/1.1 200 OK", err: ErrNotSIP},
		{line: "GET / HTTP/1.1", err: ErrNotSIP},
		{line: "INVITE sip:b@x SIP/3.0", err: ErrNotSIP},
		{line: "INVITE  SIP/2.0", err: ErrNotSIP},
		{line: "INVITE sip:b@x", err: ErrNotSIP},
		{line: "INVITE", err: ErrNotSIP},
		{line: "", err: ErrNotSIP},
	} {
		t.Run(tc.line, func(t *testing.T) {
			msg := tc.line + "\r\nVia: SIP/2.0/UDP h\r\nCSeq: 1 INVITE\r\n\r\n"
			var m Message
			err := Scan([]byte(msg), &m)
			if err != tc.err {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			if m.IsRequest != tc.isRequest || m.Method != tc.method || m.Status != tc.status {
				t.Errorf("got request=%v method=%d status=%d", m.IsRequest, m.Method, m.Status)
			}
		})
	}
}

// TestStartLineMatchesReference: every prefix of a few start lines, and
// every byte value in every position of the whole lines, scan as the
// reference scanner scans them (the method and the Request-URI are read
// eight bytes at a time, the version with two loads). Only what the start
// line decides is compared: sameAsReference is too slow for this many
// messages in wasm.
func TestStartLineMatchesReference(t *testing.T) {
	const rest = "\r\nVia: SIP/2.0/UDP h\r\nCSeq: 1 INVITE\r\n\r\n"
	check := func(b []byte) {
		var m Message
		var r sipscanref.Message
		err, rerr := Scan(b, &m), sipscanref.Scan(b, &r)
		if errString(err) != errString(rerr) ||
			err == nil && (m.IsRequest != r.IsRequest || int(m.Method) != int(r.Method) || m.Status != r.Status) {
			t.Fatalf("%q: %v %v %d %d, reference %v %v %d %d", b,
				err, m.IsRequest, m.Method, m.Status, rerr, r.IsRequest, r.Method, r.Status)
		}
	}
	for _, line := range []string{
		"REGISTER sip:registrar.example.com;transport=tcp SIP/2.0",
		"SIP/2.0 200 OK",
		"ACK sip:b@x sIp/2.0",
	} {
		for l := 0; l <= len(line); l++ {
			check([]byte(line[:l] + rest))
		}
		b := []byte(line + rest)
		for p := range len(line) {
			for v := 0; v < 256; v++ {
				b[p] = byte(v)
				check(b)
			}
			b[p] = line[p]
		}
	}
}

// hdrMsg wraps extra header lines in a minimal response.
func hdrMsg(lines string) string {
	return "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\r\nCSeq: 7 REGISTER\r\n" + lines + "\r\n"
}

func TestHeaders(t *testing.T) {
	type want struct {
		callID, fromTag, toTag string
		expires, flowTimer     int64
		contacts               int
		star                   bool
		cmin, cmax             int64
		rr                     int
		outbound               bool
		to                     string
		subTerminated          bool
	}
	none := want{expires: -1, flowTimer: -1, cmin: -1, cmax: -1}
	with := func(f func(*want)) want { w := none; f(&w); return w }
	for _, tc := range []struct {
		name, lines string
		want        want
	}{
		{"nothing", "", none},
		{"call-id trimmed", "Call-ID:   abc@host  \r\n", with(func(w *want) { w.callID = "abc@host" })},
		{"compact call-id", "i:x1\r\n", with(func(w *want) { w.callID = "x1" })},
		{"first call-id wins", "Call-ID: a\r\nCall-ID: b\r\n", with(func(w *want) { w.callID = "a" })},
		{"from tag", "From: <sip:a@x>;tag=abc\r\n", with(func(w *want) { w.fromTag = "abc" })},
		{"from tag in URI is not the header's", "From: <sip:a@x;tag=uri>\r\n", none},
		{"from tag after URI tag", "f: <sip:a@x;tag=uri>;tag=hdr\r\n", with(func(w *want) { w.fromTag = "hdr" })},
		{"from quoted display name", `From: "A <b>;tag=no, x" <sip:a@x>;TAG=yes` + "\r\n", with(func(w *want) { w.fromTag = "yes" })},
		{"from token display name", "From: Alice Smith <sip:a@x> ; tag = t1 \r\n", with(func(w *want) { w.fromTag = "t1" })},
		{"from bare URI params are header params", "From: sip:a@x;tag=bare\r\n", with(func(w *want) { w.fromTag = "bare" })},
		{"to tag and compact", "t: <sip:b@x>;foo;tag=9\r\n", with(func(w *want) { w.toTag, w.to = "9", "sip:b@x" })},
		{"to without tag", "To:  <sip:b@x> \r\n", with(func(w *want) { w.to = "sip:b@x" })},
		{"to with empty tag", "To: <sip:b@x>;tag=\r\n", with(func(w *want) { w.to = "sip:b@x" })}, // present but empty: len(ToTag) == 0
		{"folded to", "To: <sip:b@x>\r\n ;tag=f\r\n", with(func(w *want) { w.toTag, w.to = "f", "sip:b@x" })},
		{"first to wins", "To:<sip:b@x>\r\nTo: <sip:c@x>\r\n", with(func(w *want) { w.to = "sip:b@x" })},
		{"to URI past a quoted display name", `To: "a <b>;\"c" <sip:x@y;transport=tcp>;tag=t` + "\r\n", with(func(w *want) { w.toTag, w.to = "t", "sip:x@y;transport=tcp" })},
		{"to token display name", "To: Alice <sip:a@x>\r\n", with(func(w *want) { w.to = "sip:a@x" })},
		{"to addr-spec", "To:  sip:bare@x;tag=2\r\n", with(func(w *want) { w.toTag, w.to = "2", "sip:bare@x" })},
		{"to addr-spec folded", "To: sip:bare@x\r\n ;tag=3\r\n", with(func(w *want) { w.toTag, w.to = "3", "sip:bare@x" })},
		{"subscription-state terminated", "Subscription-State: terminated\r\n", with(func(w *want) { w.subTerminated = true })},
		{"subscription-state any case, params", "subscription-STATE: Terminated;reason=timeout\r\n", with(func(w *want) { w.subTerminated = true })},
		{"subscription-state LWS", "Subscription-State:   terminated  ;retry-after=5\r\n", with(func(w *want) { w.subTerminated = true })},
		{"subscription-state folded", "Subscription-State:\r\n terminated\r\n", with(func(w *want) { w.subTerminated = true })},
		{"subscription-state active", "Subscription-State: active;expires=600\r\n", none},
		{"subscription-state pending", "Subscription-State: pending\r\n", none},
		{"subscription-state first wins (active)", "Subscription-State: active\r\nSubscription-State: terminated\r\n", none},
		{"subscription-state first wins (terminated)", "Subscription-State: terminated\r\nSubscription-State: active\r\n", with(func(w *want) { w.subTerminated = true })},
		{"subscription-state bogus", "Subscription-State: terminatedx\r\n", none},
		{"subscription-state two words", "Subscription-State: terminated soon\r\n", none},
		{"subscription-state empty", "Subscription-State:\r\n", none},
		{"expires", "Expires: 3600\r\n", with(func(w *want) { w.expires = 3600 })},
		{"expires zero", "Expires: 0\r\n", with(func(w *want) { w.expires = 0 })},
		{"expires bad", "Expires: soon\r\n", none},
		{"expires negative", "Expires: -1\r\n", none},
		{"expires saturates", "Expires: 99999999999999999999\r\n", with(func(w *want) { w.expires = 1<<32 - 1 })},
		{"flow-timer", "Flow-Timer: 25\r\n", with(func(w *want) { w.flowTimer = 25 })},
		{"flow-timer bad", "Flow-Timer: 2x\r\n", none},
		{"flow-timer overflow", "Flow-Timer: 4294967296\r\n", none},
		{"contact", "Contact: <sip:a@x>\r\n", with(func(w *want) { w.contacts = 1 })},
		{"contact star", "Contact: *\r\n", with(func(w *want) { w.star = true })},
		{"contact star display name", "Contact: *x <sip:a@x>\r\n", with(func(w *want) { w.contacts = 1 })},
		{"contact expires", "m: <sip:a@x>;expires=60\r\n", with(func(w *want) { w.contacts, w.cmin, w.cmax = 1, 60, 60 })},
		{
			"contact list min max",
			"Contact: <sip:a@x;expires=1>;q=0.5;expires=300, \"x,y\" <sip:b@x,c>;EXPIRES=20\r\nContact: sip:c@x;expires=7000\r\n",
			with(func(w *want) { w.contacts, w.cmin, w.cmax = 3, 20, 7000 }),
		},
		{"contact expires in URI only", "Contact: <sip:a@x;expires=5>\r\n", with(func(w *want) { w.contacts = 1 })},
		{"contact bad expires", "Contact: <sip:a@x>;expires=abc\r\n", with(func(w *want) { w.contacts = 1 })},
		{"contact quoted params", "Contact: <sip:a@x>;+sip.instance=\"<urn:a,b>\";expires=10, <sip:b@x>\r\n", with(func(w *want) { w.contacts, w.cmin, w.cmax = 2, 10, 10 })},
		{"contact junk skipped", "Contact: <sip:a@x> junk;expires=5, <sip:b@x>\r\n", with(func(w *want) { w.contacts, w.cmin, w.cmax = 2, 5, 5 })},
		{"record-route", "Record-Route: <sip:p1;lr>, <sip:p2;lr>\r\nRecord-Route: <sip:p3;lr>\r\n", with(func(w *want) { w.rr = 3 })},
		{"record-route quoted comma", "Record-Route: \"a,b\" <sip:p1;lr>\r\n", with(func(w *want) { w.rr = 1 })},
		{"require outbound", "Require: outbound\r\n", with(func(w *want) { w.outbound = true })},
		{"supported list", "Supported: path, Outbound ,gruu\r\n", with(func(w *want) { w.outbound = true })},
		{"compact supported", "k: timer,outbound\r\n", with(func(w *want) { w.outbound = true })},
		{"outbound elsewhere", "Proxy-Require: outbound\r\nSupported: outbound-x\r\n", none},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := hdrMsg(tc.lines)
			var m Message
			if err := Scan([]byte(msg), &m); err != nil {
				t.Fatalf("Scan: %v", err)
			}
			got := want{
				callID: string(m.CallID), fromTag: string(m.FromTag), toTag: string(m.ToTag),
				expires: m.Expires, flowTimer: m.FlowTimer,
				contacts: m.Contacts, star: m.ContactStar, cmin: m.ContactExpiresMin, cmax: m.ContactExpiresMax,
				rr: m.RecordRoutes, outbound: m.Outbound, to: string(m.ToURI), subTerminated: m.SubscriptionTerminated,
			}
			if got != tc.want {
				t.Errorf("\n got %+v\nwant %+v", got, tc.want)
			}
			if m.HeaderEnd != len(msg) {
				t.Errorf("HeaderEnd = %d, want %d", m.HeaderEnd, len(msg))
			}
		})
	}
}

func TestCSeq(t *testing.T) {
	for _, tc := range []struct {
		lines  string
		err    error
		num    uint32
		method Method
	}{
		{lines: "CSeq: 1 INVITE", num: 1, method: MethodINVITE},
		{lines: "cseq:\t4294967295  BYE  ", num: 4294967295, method: MethodBYE},
		{lines: "CSeq: 0012 FOO", num: 12, method: MethodOther},
		{lines: "CSeq: 1\r\n INVITE", num: 1, method: MethodINVITE},
		{lines: "CSeq: 4294967296 INVITE", err: ErrBadCSeq},
		{lines: "CSeq: INVITE", err: ErrBadCSeq},
		{lines: "CSeq: 1INVITE", err: ErrBadCSeq},
		{lines: "CSeq: 1 INVITE x", err: ErrBadCSeq},
		{lines: "CSeq: 1", err: ErrBadCSeq},
		{lines: "CSeq: -1 INVITE", err: ErrBadCSeq},
		{lines: "CSeq: 1 INVITE\r\nCSeq: 2 INVITE", err: ErrBadCSeq},
		{lines: "X-No-CSeq: 1", err: ErrBadCSeq},
	} {
		t.Run(tc.lines, func(t *testing.T) {
			msg := "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\r\n" + tc.lines + "\r\n\r\n"
			var m Message
			err := Scan([]byte(msg), &m)
			if err != tc.err {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err == nil && (m.CSeqNum != tc.num || m.CSeqMethod != tc.method) {
				t.Errorf("got %d %d", m.CSeqNum, m.CSeqMethod)
			}
		})
	}
}

func TestFraming(t *testing.T) {
	const head = "OPTIONS sip:b SIP/2.0\r\nVia: SIP/2.0/UDP h;keep\r\nCSeq: 1 OPTIONS\r\n"
	for _, tc := range []struct {
		name      string
		msg       string
		err       error
		headerEnd int // -1: len(msg)
	}{
		{name: "CRLF, body", msg: head + "\r\nbody\r\n\r\n", headerEnd: len(head) + 2},
		{name: "no empty line", msg: head, headerEnd: -1},
		{name: "last line unterminated", msg: head[:len(head)-2], headerEnd: -1},
		{name: "lone CR at end", msg: head + "\r", headerEnd: -1},
		{name: "bare LF", msg: strings.ReplaceAll(head, "\r\n", "\n") + "\nbody", headerEnd: len(head) - 3 + 1},
		{name: "leading CRLFs", msg: "\r\n\r\n" + head + "\r\n", headerEnd: -1},
		{name: "LWS before colon", msg: "OPTIONS sip:b SIP/2.0\r\nVia  :SIP/2.0/UDP h\r\nCSeq\t: 1 OPTIONS\r\n\r\n", headerEnd: -1},
		{name: "unknown headers skipped", msg: "OPTIONS sip:b SIP/2.0\r\nX-A: ;;;\"\r\nVia: SIP/2.0/UDP h\r\nX-B:\r\nCSeq: 1 OPTIONS\r\n\r\n", headerEnd: -1},
		{name: "no via", msg: "OPTIONS sip:b SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n", err: ErrNoVia},
		{name: "via after body is not read", msg: "OPTIONS sip:b SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\nVia: SIP/2.0/UDP h\r\n", err: ErrNoVia},
		{name: "line without colon", msg: "OPTIONS sip:b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\ngarbage\r\nCSeq: 1 OPTIONS\r\n\r\n", err: ErrBadHeader},
		{name: "fold after start line", msg: "OPTIONS sip:b SIP/2.0\r\n Via: SIP/2.0/UDP h\r\nCSeq: 1 OPTIONS\r\n\r\n", err: ErrBadHeader},
		{name: "control byte in header name", msg: "OPTIONS sip:b SIP/2.0\r\nVia\x00: SIP/2.0/UDP h\r\nCSeq: 1 OPTIONS\r\n\r\n", err: ErrBadHeader},
		{name: "empty header name", msg: "OPTIONS sip:b SIP/2.0\r\n: x\r\nVia: SIP/2.0/UDP h\r\nCSeq: 1 OPTIONS\r\n\r\n", err: ErrBadHeader},
		{name: "name cut off", msg: head + "Via", err: ErrTruncated},
		{name: "name cut off before colon", msg: head + "Via \r", err: ErrTruncated},
		{name: "terminated name without colon", msg: head + "Via\r\n", err: ErrBadHeader},
		{name: "quoted display name cut off", msg: head + "From: \"Alice", err: ErrTruncated},
		{name: "angle bracket cut off", msg: head + "Contact: <sip:a@x", err: ErrTruncated},
		{name: "empty", msg: "", err: ErrNotSIP},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m Message
			err := Scan([]byte(tc.msg), &m)
			if err != tc.err {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			want := tc.headerEnd
			if want < 0 {
				want = len(tc.msg)
			}
			if m.HeaderEnd != want {
				t.Errorf("HeaderEnd = %d, want %d", m.HeaderEnd, want)
			}
		})
	}
}

func TestTooLarge(t *testing.T) {
	filler := "X-Filler: " + strings.Repeat("a", 1000) + "\r\n"
	head := "OPTIONS sip:b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nCSeq: 1 OPTIONS\r\n"
	var sb strings.Builder
	sb.WriteString(head)
	for sb.Len()+len(filler)+2 <= MaxHeaderBytes {
		sb.WriteString(filler)
	}
	// Pad so that the empty line ends exactly at MaxHeaderBytes.
	pad := MaxHeaderBytes - sb.Len() - 2 - len("X-Pad: \r\n")
	sb.WriteString("X-Pad: " + strings.Repeat("p", pad) + "\r\n\r\n")
	fits := sb.String()
	if len(fits) != MaxHeaderBytes {
		t.Fatalf("setup: len %d", len(fits))
	}
	var m Message
	if err := Scan([]byte(fits+"body"), &m); err != nil || m.HeaderEnd != MaxHeaderBytes {
		t.Fatalf("at the limit: err = %v, HeaderEnd = %d", err, m.HeaderEnd)
	}
	over := fits[:len(fits)-4] + "p\r\n\r\n"
	if err := Scan([]byte(over), &m); err != ErrTooLarge {
		t.Fatalf("one byte over: err = %v", err)
	}
	// No empty line and longer than the limit.
	if err := Scan([]byte(fits[:len(fits)-2]+filler), &m); err != ErrTooLarge {
		t.Fatalf("no end: err = %v", err)
	}
}

// TestReuse checks that Scan resets everything: scanning into a Message
// filled by another scan gives the same result as into a fresh one.
func TestReuse(t *testing.T) {
	msgs := []string{registerMsg, inviteMsg, okMsg, hdrMsg(""), hdrMsg("To: <sip:b@x>\r\nSubscription-State: terminated\r\n")}
	for _, a := range msgs {
		for _, b := range msgs {
			var dirty, fresh Message
			if err := Scan([]byte(a), &dirty); err != nil {
				t.Fatal(err)
			}
			if err := Scan([]byte(b), &dirty); err != nil {
				t.Fatal(err)
			}
			if err := Scan([]byte(b), &fresh); err != nil {
				t.Fatal(err)
			}
			for k := dirty.NVias; k < MaxVias; k++ {
				dirty.Vias[k] = Via{}
			}
			if !reflect.DeepEqual(dirty, fresh) { // compares every field, new ones too
				t.Errorf("reuse differs:\n%+v\n%+v", dirty, fresh)
			}
		}
	}
}

func TestSampleMessages(t *testing.T) {
	var m Message
	if err := Scan([]byte(registerMsg), &m); err != nil {
		t.Fatal(err)
	}
	if !m.IsRequest || m.Method != MethodREGISTER || m.CSeqNum != 2 || m.CSeqMethod != MethodREGISTER ||
		m.NVias != 2 || m.Vias[0].Keep != KeepBare || m.Vias[1].Keep != KeepAbsent ||
		m.Contacts != 1 || m.ContactExpiresMax != 3600 || m.Expires != 3600 || !m.Outbound ||
		string(m.FromTag) != "9f8e7d6c" || m.ToTag != nil || m.HeaderEnd != len(registerMsg) {
		t.Errorf("REGISTER: %+v", m)
	}
	if err := Scan([]byte(inviteMsg), &m); err != nil {
		t.Fatal(err)
	}
	if m.Method != MethodINVITE || m.NVias != 3 || m.Vias[1].Keep != KeepValue || m.Vias[1].KeepValue != 30 ||
		m.RecordRoutes != 2 || string(m.FromTag) != "1928301774" || string(m.CallID) != "a84b4c76e66710@pc33.atlanta.example.com" ||
		m.Contacts != 1 || !m.Outbound || inviteMsg[m.HeaderEnd:m.HeaderEnd+3] != "v=0" {
		t.Errorf("INVITE: %+v", m)
	}
	if got := inviteMsg[m.Vias[2].Start:m.Vias[2].End]; got != `SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKnashds8;x="a,b;c"` {
		t.Errorf("INVITE via 2 = %q", got)
	}
	if err := Scan([]byte(okMsg), &m); err != nil {
		t.Fatal(err)
	}
	if m.IsRequest || m.Status != 200 || m.CSeqMethod != MethodREGISTER || m.Vias[0].KeepValue != 15 ||
		m.FlowTimer != 15 || m.Contacts != 2 || m.ContactExpiresMin != 600 || m.ContactExpiresMax != 3600 ||
		string(m.ToTag) != "2493k59kd" {
		t.Errorf("200: %+v", m)
	}
}

func TestNoAllocs(t *testing.T) {
	for name, msg := range map[string]string{"REGISTER": registerMsg, "INVITE": inviteMsg, "200": okMsg} {
		b := []byte(msg)
		var m Message
		allocs := testing.AllocsPerRun(100, func() {
			if err := Scan(b, &m); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocs per Scan", name, allocs)
		}
	}
}

func BenchmarkScan(b *testing.B) {
	for _, bc := range []struct{ name, msg string }{
		{"REGISTER", registerMsg},
		{"INVITE", inviteMsg},
		{"200", okMsg},
	} {
		b.Run(bc.name, func(b *testing.B) {
			msg := []byte(bc.msg)
			var m Message
			b.ReportAllocs()
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				if err := Scan(msg, &m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkScanHeaders is what each header a response's rules read costs
// ScanFor (NeedLowerKeeps, as the plugin scans a response it sends): the
// edge proxy's 200 to a REGISTER, whole, and with one header renamed to an
// unknown one, which the line walk passes over. The difference is that
// header's cost. Run it in wasm (see make test-wasm) to see the guest's:
//
//	PATH=$PWD/build/bin:$PATH GOWASIRUNTIME=wazero GOOS=wasip1 GOARCH=wasm go test \
//	  -gcflags=github.com/sipkeep/sipkeep/plugin/internal/sipscan=-B -run '^$' -bench ScanHeaders \
//	  -exec $(go env GOROOT)/lib/wasm/go_wasip1_wasm_exec ./plugin/internal/sipscan/
func BenchmarkScanHeaders(b *testing.B) {
	// keeptest.RegistrarOK, which this package cannot import (keeptest
	// imports the plugin, which imports sipscan).
	const ok = "SIP/2.0 200 OK\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:53788;branch=z9hG4bK-b1-1;keep\r\n" +
		"From: <sip:user1@127.0.0.1>;tag=b1\r\n" +
		"To: <sip:user1@127.0.0.1>;tag=87dfb3dc-d365-4204-b2c6-bb6eea94a24e\r\n" +
		"Call-ID: bench-1@127.0.0.1\r\n" +
		"CSeq: 1 REGISTER\r\n" +
		"Content-Length: 0\r\n" +
		"Contact: <sip:user1@127.0.0.1:53788>;expires=300\r\n" +
		"Date: Mon, 23 Nov 2026 21:18:11 GMT\r\n\r\n"
	for _, h := range []string{"", "To", "Call-ID", "Contact"} {
		name, msg := "all", ok
		if h != "" {
			name, msg = "without-"+h, strings.Replace(ok, "\r\n"+h+":", "\r\nX-"+h+":", 1)
		}
		b.Run(name, func(b *testing.B) {
			msg := []byte(msg)
			var m Message
			for b.Loop() {
				if err := ScanFor(msg, &m, NeedLowerKeeps); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
