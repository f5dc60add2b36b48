package host

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/plugin/keep"
)

// editCase builds one edit on msg: the span is where `at` (a unique
// substring of msg) begins, plus off, for n bytes.
type editCase struct {
	name    string
	msg     string
	own     bool // an outgoing request
	op      abi.EditOp
	via     uint8
	value   uint32
	at      string
	off, n  int
	text    string
	reason  string // "" = accepted
	also    *abi.Edit
	alsoTxt string
}

const okResp = "SIP/2.0 200 OK\r\n" +
	"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;keep\r\n" +
	"v: SIP/2.0/TCP 192.0.2.9;branch=z9hG4bK2;KEEP = 20 , SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK3;received=\"a;b,c\";keep=5\r\n" +
	"VIA: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bK4\r\n" +
	"  ;rport\r\n" +
	"CSeq: 1 REGISTER\r\n" +
	"Content-Length: 0\r\n\r\n"

const outReq = "REGISTER sip:example.com SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n" +
	"Via: SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bK2;keep=40\r\n" +
	"CSeq: 1 REGISTER\r\n\r\n"

const emptyVals = "SIP/2.0 200 OK\r\n" +
	"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;keep= ;rport\r\n" +
	"Via: SIP/2.0/UDP 192.0.2.2:5060;keep = \"30\";branch=z9hG4bK2\r\n" +
	"CSeq: 1 REGISTER\r\n\r\n"

func editCases() []editCase {
	return []editCase{
		// Accepted: what the plugin writes.
		{name: "set-keep after a bare keep", msg: okResp, op: abi.EditSetKeep, value: 30, at: ";keep\r\n", off: 5, text: "=30"},
		{name: "set-keep replaces a value with spaces", msg: okResp, op: abi.EditSetKeep, via: 1, value: 30, at: "KEEP = 20", off: 4, n: 5, text: "=30"},
		{name: "set-keep on a Via of a comma list after a quoted comma", msg: okResp, op: abi.EditSetKeep, via: 2, value: 3600, at: "keep=5\r\n", off: 4, n: 2, text: "=3600"},
		{name: "set-keep inserted at the end of a Via without keep", msg: okResp, op: abi.EditSetKeep, via: 3, value: 10, at: ";rport", off: 6, text: ";keep=10"},
		{name: "strip-keep-value", msg: okResp, op: abi.EditStripKeepValue, via: 2, at: "keep=5\r\n", off: 4, n: 2},
		{name: "strip-keep-value with spaces", msg: okResp, op: abi.EditStripKeepValue, via: 1, at: "KEEP = 20", off: 4, n: 5},
		{name: "add-keep on our own Via", msg: outReq, own: true, op: abi.EditAddKeep, at: "bK1\r\n", off: 3, text: ";keep"},
		{name: "add-keep and a strip below", msg: outReq, own: true, op: abi.EditAddKeep, at: "bK1\r\n", off: 3, text: ";keep",
			also: &abi.Edit{Op: abi.EditStripKeepValue, Via: 1}, alsoTxt: "keep=40"},

		{name: "strip an empty value", msg: emptyVals, op: abi.EditStripKeepValue, at: "keep= ;rport", off: 4, n: 1},
		{name: "strip a quoted value", msg: emptyVals, op: abi.EditStripKeepValue, via: 1, at: "keep = \"30\"", off: 4, n: 7},
		{name: "set-keep over an empty value", msg: emptyVals, op: abi.EditSetKeep, value: 30, at: "keep= ;rport", off: 4, n: 1, text: "=30"},

		// Refused.
		{name: "strip an empty value and the space after it", msg: emptyVals, op: abi.EditStripKeepValue, at: "keep= ;rport", off: 4, n: 2, reason: refuseNotKeep},
		{name: "injected response", msg: okResp, op: abi.EditSetKeep, value: 30, at: ";keep\r\n", off: 5,
			text: "=30\r\nContent-Length: 0\r\n\r\nSIP/2.0 503 Injected\r\n", reason: refuseText},
		{name: "value other than the op's", msg: okResp, op: abi.EditSetKeep, value: 30, at: ";keep\r\n", off: 5, text: "=31", reason: refuseText},
		{name: "leading zero", msg: okResp, op: abi.EditSetKeep, value: 30, at: ";keep\r\n", off: 5, text: "=030", reason: refuseText},
		{name: "below the floor", msg: okResp, op: abi.EditSetKeep, value: 1, at: ";keep\r\n", off: 5, text: "=1", reason: refuseRange},
		{name: "above the ceiling", msg: okResp, op: abi.EditSetKeep, value: 3601, at: ";keep\r\n", off: 5, text: "=3601", reason: refuseRange},
		{name: "set-keep over the branch", msg: okResp, op: abi.EditSetKeep, value: 30, at: "branch=z9hG4bK1", off: 6, n: 9, text: "=30", reason: refuseNotKeep},
		{name: "set-keep inserted mid-Via", msg: okResp, op: abi.EditSetKeep, via: 3, value: 30, at: "192.0.2.7", off: 3, text: ";keep=30", reason: refuseNotKeep},
		{name: "set-keep inserted where a keep exists", msg: okResp, op: abi.EditSetKeep, via: 2, value: 30, at: "keep=5\r\n", off: 6, text: ";keep=30", reason: refuseNotKeep},
		{name: "span in another Via", msg: okResp, op: abi.EditSetKeep, via: 0, value: 30, at: "KEEP = 20", off: 4, n: 5, text: "=30", reason: refuseOutsideVia},
		{name: "strip more than the value", msg: okResp, op: abi.EditStripKeepValue, via: 2, at: "keep=5\r\n", off: 4, n: 4, reason: refuseOutsideVia},
		{name: "strip the name too", msg: okResp, op: abi.EditStripKeepValue, via: 2, at: ";keep=5\r\n", n: 7, reason: refuseNotKeep},
		{name: "strip writing bytes", msg: okResp, op: abi.EditStripKeepValue, via: 2, at: "keep=5\r\n", off: 4, n: 2, text: "=9", reason: refuseText},
		{name: "strip a bare keep", msg: okResp, op: abi.EditStripKeepValue, at: ";keep\r\n", off: 5, reason: refuseNotKeep},
		{name: "add-keep on a response", msg: okResp, op: abi.EditAddKeep, via: 3, at: ";rport", off: 6, text: ";keep", reason: refuseNotOwnVia},
		{name: "add-keep below our Via", msg: outReq, own: true, op: abi.EditAddKeep, via: 1, at: "keep=40", text: ";keep", reason: refuseNotOwnVia},
		{name: "add-keep with more", msg: outReq, own: true, op: abi.EditAddKeep, at: "bK1\r\n", off: 3, text: ";keep;x=1", reason: refuseText},
		{name: "add-keep before the branch", msg: outReq, own: true, op: abi.EditAddKeep, at: ";branch=z9hG4bK1", text: ";keep", reason: refuseNotKeep},
		{name: "no such Via", msg: outReq, own: true, op: abi.EditStripKeepValue, via: 7, at: "keep=40", off: 4, n: 3, reason: refuseNoVia},
		{name: "unknown op", msg: okResp, op: 9, at: ";keep\r\n", off: 5, reason: refuseUnknownOp},
		{name: "two edits on one Via", msg: outReq, own: true, op: abi.EditAddKeep, at: "bK1\r\n", off: 3, text: ";keep",
			also: &abi.Edit{Op: abi.EditStripKeepValue, Via: 0}, alsoTxt: "\r\n", reason: refuseTwice},
	}
}

func (tc *editCase) output(t testing.TB) *abi.Output {
	i := strings.Index(tc.msg, tc.at)
	if i < 0 || strings.Count(tc.msg, tc.at) != 1 {
		t.Fatalf("%s: %q not once in the message", tc.name, tc.at)
	}
	start := uint32(i + tc.off)
	out := &abi.Output{Text: []byte(tc.text)}
	out.EditList = append(out.EditList, abi.Edit{Op: tc.op, Via: tc.via, Value: tc.value, Start: start, End: start + uint32(tc.n), TextLen: uint32(len(tc.text))})
	if tc.also != nil {
		// alsoTxt locates the second edit: strip the "=N" after "keep".
		j := strings.Index(tc.msg, tc.alsoTxt)
		e := *tc.also
		e.Start, e.End = uint32(j+4), uint32(j+len(tc.alsoTxt))
		if tc.alsoTxt == "\r\n" {
			e.Start, e.End = uint32(j), uint32(j)
		}
		e.TextOff = uint32(len(out.Text))
		out.EditList = append(out.EditList, e)
	}
	return out
}

func TestCheckEdits(t *testing.T) {
	kb := keepBounds{floor: 10, ceiling: 3600}
	for _, tc := range editCases() {
		t.Run(tc.name, func(t *testing.T) {
			err := checkEdits([]byte(tc.msg), tc.own, tc.output(t), kb)
			switch {
			case tc.reason == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.reason != "" && err == nil:
				t.Fatalf("accepted, want refused for %s", tc.reason)
			case tc.reason != "" && err.Reason != tc.reason:
				t.Fatalf("refused for %s (%v), want %s", err.Reason, err, tc.reason)
			}
		})
	}
}

// Every edit the real plugin makes in the conformance-style messages of
// the host's tests passes the check (the plugin runs natively here; the
// wasm build makes the same edits, see plugin/keeptest).
func TestCheckEdits_AcceptsThePlugin(t *testing.T) {
	h := newHost(t, WithNativeGuest(nativeKeep))
	resp := strings.Replace(registerMsg, "REGISTER sip:example.com SIP/2.0", "SIP/2.0 200 OK", 1)
	var edited int
	for i, ev := range []Event{
		reqEvent(flowN(1), strings.Replace(registerMsg, ";keep", "", 1)),                                         // add-keep
		reqEvent(flowN(2), strings.Replace(registerMsg, ";keep", ";keep=99", 1)),                                 // strip
		{Kind: abi.KindSIPResponse, Dir: abi.DirOut, Flow: flowN(3), Role: abi.RoleProxy, Message: []byte(resp)}, // set-keep
		{Kind: abi.KindSIPResponse, Dir: abi.DirOut, Flow: flowN(4), Role: abi.RoleProxy,
			Message: []byte(strings.Replace(resp, ";keep\r\n", ";keep=7\r\nVia: SIP/2.0/UDP 192.0.2.8;branch=z9hG4bKx;keep=5\r\n", 1))}, // set-keep + strip below
	} {
		res := h.Handle(context.Background(), ev)
		if res.FailedOpen {
			t.Fatalf("event %d: %v", i, res.Err)
		}
		edited += len(res.Edits)
	}
	if edited < 5 {
		t.Fatalf("the plugin made %d edits, want at least 5 (one per case, two in the last)", edited)
	}
	// Keep parameters in every shape the plugin strips (R16 on our own
	// Via, R17 below the top one), in full and compact headers, comma
	// lists and continuation lines: the host's reading of the Via must be
	// the plugin's, or a legitimate strip would be refused and the value
	// it removes would go out.
	shapes := []string{"keep=99", "keep = 99", "KEEP=99", "keep=", "keep= ", "keep=\"99\"", "keep=9x9", "keep=99999999999"}
	for i, k := range shapes {
		req := "INVITE sip:bob@example.com SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;" + k + ";rport\r\n" +
			"Max-Forwards: 70\r\nTo: <sip:bob@example.com>\r\nFrom: <sip:a@example.com>;tag=1\r\n" +
			"Call-ID: shape" + string(rune('a'+i)) + "\r\nCSeq: 1 INVITE\r\nContact: <sip:a@192.0.2.1>\r\nContent-Length: 0\r\n\r\n"
		res := h.Handle(context.Background(), reqEvent(flowN(10+i), req))
		if res.FailedOpen || len(res.Edits) == 0 || res.Edits[0].Op != abi.EditStripKeepValue {
			t.Errorf("R16 %q: failed open %v (%v), edits %+v", k, res.FailedOpen, res.Err, res.Edits)
		}
		resp := "SIP/2.0 180 Ringing\r\n" +
			"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n" +
			"v: SIP/2.0/TCP 192.0.2.2;branch=z9hG4bK2;" + k + "\r\n" +
			"   , SIP/2.0/UDP 192.0.2.3;" + k + ";branch=z9hG4bK3\r\n" +
			"To: <sip:bob@example.com>;tag=2\r\nFrom: <sip:a@example.com>;tag=1\r\n" +
			"Call-ID: shape" + string(rune('a'+i)) + "\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
		res = h.Handle(context.Background(), Event{Kind: abi.KindSIPResponse, Dir: abi.DirOut, Flow: flowN(30 + i), Role: abi.RoleProxy, Message: []byte(resp)})
		if res.FailedOpen || len(res.Edits) != 2 {
			t.Errorf("R17 %q: failed open %v (%v), edits %+v", k, res.FailedOpen, res.Err, res.Edits)
		}
	}
}

// An injecting module: its set-keep edit splices a response into the
// message. The whole result is refused, the message passes unchanged, and
// the refusal is counted; the instance keeps serving.
func TestInjectingModuleIsRefused(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := newHost(t, WithModuleFile(fixture(t, "inject")), WithMetrics(reg))
	resp := strings.Replace(registerMsg, "REGISTER sip:example.com SIP/2.0", "SIP/2.0 200 OK", 1)
	ev := Event{Kind: abi.KindSIPResponse, Dir: abi.DirOut, Flow: flowN(1), Role: abi.RoleProxy, Message: []byte(resp)}
	for i := range 3 {
		res := h.Handle(context.Background(), ev)
		if !res.FailedOpen || !bytes.Equal(res.Message, ev.Message) || len(res.Edits) != 0 {
			t.Fatalf("call %d: failed open %v, edits %d, message changed %v", i, res.FailedOpen, len(res.Edits), !bytes.Equal(res.Message, ev.Message))
		}
		var ce *CallError
		var ee *EditError
		if !errors.As(res.Err, &ce) || ce.Cause != CauseBadEdit || !errors.As(res.Err, &ee) || ee.Reason != refuseText {
			t.Fatalf("call %d: err %v, want cause %s reason %s", i, res.Err, CauseBadEdit, refuseText)
		}
		if bytes.Contains(res.Message, []byte("Injected")) {
			t.Fatal("injected bytes went out")
		}
	}
	if got := counterValue(h.met.refusedResults[refuseText]); got != 3 {
		t.Fatalf("sipkeep_refused_results_total{reason=%q} = %v, want 3", refuseText, got)
	}
	if got := counterValue(h.met.edits[abi.EditSetKeep]); got != 0 {
		t.Fatalf("refused edits counted as made: %v", got)
	}
	if got := counterValue(h.met.replacements); got != 0 {
		t.Fatalf("instances replaced: %v (the instance is sound, its result is not)", got)
	}
}

// The host's copies of the plugin's defaults are the plugin's.
func TestFastPathDefaultsArePlugins(t *testing.T) {
	if strings.Join(defaultSenderMethods, ",") != strings.Join(keep.DefaultMethods, ",") {
		t.Errorf("host default sender methods %v, plugin %v", defaultSenderMethods, keep.DefaultMethods)
	}
	if defaultFloorSeconds != keep.DefaultFloorSeconds || defaultCeilingSeconds != keep.DefaultCeilingSeconds {
		t.Errorf("host keep bounds [%d, %d], plugin [%d, %d]", defaultFloorSeconds, defaultCeilingSeconds, keep.DefaultFloorSeconds, keep.DefaultCeilingSeconds)
	}
}

// What the check costs on a result the plugin makes: a 200 to a REGISTER
// with three Vias, one set-keep on the top one.
func BenchmarkCheckEdits(b *testing.B) {
	tc := editCases()[0]
	msg := []byte(tc.msg)
	out := tc.output(b)
	kb := keepBounds{floor: 10, ceiling: 3600}
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if err := checkEdits(msg, false, out, kb); err != nil {
			b.Fatal(err)
		}
	}
}
