package main_test

import (
	"fmt"
	"github.com/sipkeep/sipkeep/internal/testnet"
	"testing"
	"time"
)

// transports the sipp tests run over: sipp's -t flag and the URI parameter.
var transports = []struct{ name, sipp, uri string }{
	{"UDP", "u1", "udp"},
	{"TCP", "t1", "tcp"},
}

// R10: a REGISTER whose Via has ;keep gets keep=30 on the top Via of the 200.
func TestR10_SippRegisterWithKeepGetsKeep30(t *testing.T) {
	need(t, "sipp")
	p := startProxy(t)
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			s, msgs := sipp(t, tr.sipp, testnet.FreePort(t), p.Addr(), "register_keep.xml", "-s", "alice")
			sippOK(t, s, msgs)
			oks := responses(received(t, msgs), "200")
			if len(oks) != 1 {
				t.Fatalf("got %d 200s", len(oks))
			}
			if ok, v := keepOf(topVia(oks[0])); !ok || v != "30" {
				t.Fatalf("top Via %q: want keep=30", topVia(oks[0]))
			}
			if p.Location().Len() == 0 {
				t.Fatal("no binding registered")
			}
		})
	}
}

// R10 (converse): no ;keep asked, none granted.
func TestR10_SippRegisterWithoutKeepGetsNone(t *testing.T) {
	need(t, "sipp")
	p := startProxy(t)
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			s, msgs := sipp(t, tr.sipp, testnet.FreePort(t), p.Addr(), "register_nokeep.xml", "-s", "bob")
			sippOK(t, s, msgs)
			for _, m := range responses(received(t, msgs), "200") {
				if ok, _ := keepOf(topVia(m)); ok {
					t.Fatalf("top Via %q has keep, none was asked", topVia(m))
				}
			}
		})
	}
}

// uas starts a sipp UAS for the INVITE tests and returns the request-URI
// the caller should use. Over UDP the UAS first registers as bob (the INVITE
// then goes to sip:bob@proxy and the proxy sends it over the registered
// flow: same UDP port); over TCP the UAS is addressed directly by its URI
// (the proxy dials it through the sipgokeep adapter).
func uas(t *testing.T, proxyAddr, sippTransport, uriTransport, scenario string) (*proc, string, string) {
	t.Helper()
	port := testnet.FreePort(t)
	ruri := fmt.Sprintf("sip:bob@127.0.0.1:%d;transport=%s", port, uriTransport)
	if uriTransport == "udp" {
		r, msgs := sipp(t, sippTransport, port, proxyAddr, "register_uas.xml", "-s", "bob")
		sippOK(t, r, msgs)
		ruri = "sip:bob@" + proxyAddr
	}
	s, msgs := sipp(t, sippTransport, port, "", scenario, "-s", "bob")
	time.Sleep(300 * time.Millisecond) // let sipp bind
	return s, msgs, ruri
}

// R9, R11: an INVITE through the record-routing proxy, asking ;keep, gets
// the same keep=30 on the 180 and on the 200.
func TestR11_SippInviteThroughRecordRoutingProxyGetsKeepOn18xAnd200(t *testing.T) {
	need(t, "sipp")
	p := startProxy(t)
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			callee, calleeMsgs, ruri := uas(t, p.Addr(), tr.sipp, tr.uri, "uas_plain.xml")
			caller, msgs := sipp(t, tr.sipp, testnet.FreePort(t), p.Addr(), "uac_invite_keep.xml", "-key", "ruri", ruri)
			sippOK(t, caller, msgs)
			sippOK(t, callee, calleeMsgs)
			got := received(t, msgs)
			for _, code := range []string{"180", "200 OK"} {
				rs := responses(got, code)
				if len(rs) == 0 {
					t.Fatalf("no %s received", code)
				}
				// The first 200 answers the INVITE; a later one answers BYE.
				if ok, v := keepOf(topVia(rs[0])); !ok || v != "30" {
					t.Errorf("%s top Via %q: want keep=30", code, topVia(rs[0]))
				}
			}
			// Sender role toward the callee (R4): the proxy's own Via on the
			// forwarded INVITE offers ;keep, without a value (R16).
			inv := received(t, calleeMsgs)
			if len(inv) == 0 {
				t.Fatal("callee received nothing")
			}
			if ok, v := keepOf(topVia(inv[0])); !ok || v != "" {
				t.Errorf("forwarded INVITE top Via %q: want a bare ;keep", topVia(inv[0]))
			}
		})
	}
}

// R17: a downstream UAS that plants keep=5 on the caller's Via cannot reach
// the caller: the caller sees the proxy's own value (or none), never 5.
func TestR17_SippPlantedKeepBelowTopNeverReachesCaller(t *testing.T) {
	need(t, "sipp")
	p := startProxy(t)
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			callee, calleeMsgs, ruri := uas(t, p.Addr(), tr.sipp, tr.uri, "uas_plant.xml")
			caller, msgs := sipp(t, tr.sipp, testnet.FreePort(t), p.Addr(), "uac_invite_nofive.xml", "-key", "ruri", ruri)
			sippOK(t, caller, msgs)
			sippOK(t, callee, calleeMsgs)
			n := 0
			for _, m := range received(t, msgs) {
				if _, v := keepOf(topVia(m)); v == "5" {
					t.Errorf("caller got keep=5: %q", topVia(m))
				}
				n++
			}
			if n < 3 {
				t.Fatalf("caller received only %d messages", n)
			}
		})
	}
}
