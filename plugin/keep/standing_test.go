package keep_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/plugin/keep"
	"github.com/sipkeep/sipkeep/plugin/keeptest"
)

// standingGrant is what the plugin grants on abi.StandingGrantProbe, as a
// host learns it.
func standingGrant(t *testing.T, h *keeptest.Harness) uint32 {
	t.Helper()
	o := h.SIP(keeptest.UDP(1), abi.DirOut, abi.StandingGrantProbe)
	if len(o.Edits) != 1 || o.Edits[0].Op != abi.EditSetKeep || o.Edits[0].Via != 0 {
		t.Fatalf("probe: %v, want one set-keep on Via #0", o)
	}
	return o.Edits[0].Value
}

const standingRegister200 = "SIP/2.0 200 OK\nVia: SIP/2.0/UDP 192.0.2.9:5062;rport=5062;branch=z9hG4bK1;keep\n" +
	"From: <sip:a@example.com>;tag=1\nTo: <sip:a@example.com>;tag=2\nCall-ID: c1\nCSeq: 7 REGISTER\n" +
	"Contact: <sip:a@192.0.2.9:5062>;expires=3600\nContent-Length: 0\n\n"

// The plain REGISTER 200 is covered, and the plugin grants on it what it
// grants on the probe: the policy's value, and a Flow-Timer does not count.
func TestStandingGrantCoversThePlainRegister200(t *testing.T) {
	msg := keeptest.CRLF(standingRegister200)
	at, ok := abi.StandingGrantSite([]byte(msg))
	if !ok {
		t.Fatal("StandingGrantSite refuses the plain REGISTER 200")
	}
	h := guest(t)
	h.Configure(keep.Policy{ReceiverKeepSeconds: 45})
	if n := standingGrant(t, h); n != 45 {
		t.Fatalf("probe grants %d, want the policy's 45", n)
	}
	o := h.SIP(keeptest.UDP(5062), abi.DirOut, msg)
	if want := msg[:at] + "=45" + msg[at:]; o.Message != want {
		t.Fatalf("granted %q, want %q", o.Message, want)
	}
	h.Configure(keep.Policy{ReceiverDisabled: true})
	if o := h.SIP(keeptest.UDP(1), abi.DirOut, abi.StandingGrantProbe); len(o.Edits) != 0 {
		t.Fatalf("receiver disabled, probe still edited: %v", o)
	}
}

// FuzzStandingGrantHolds: on every response abi.StandingGrantSite accepts,
// whatever came before on the flow and whatever the role and flags, the
// plugin's only edit is set-keep N at the site, N what it gave the probe —
// or the message is malformed to it and it edits nothing. That is the fact
// abi.FeatureStandingGrant states, which lets a host apply the grant
// without calling the plugin first.
func FuzzStandingGrantHolds(f *testing.F) {
	reg := standingRegister200
	for _, s := range []struct{ msg, prior string }{
		{reg, ""},
		{reg, "REGISTER sip:example.com SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.9:5062;branch=z9hG4bK0;keep\nCSeq: 6 REGISTER\nCall-ID: c1\nContact: <sip:a@192.0.2.9:5062>;expires=0\n\n"},
		{reg, reg},
		{strings.Replace(reg, ";keep\n", ";keep;received=192.0.2.9\n", 1), ""},
		{strings.Replace(reg, "expires=3600", "expires=0", 1), reg},
		{strings.Replace(reg, "Contact: <sip:a@192.0.2.9:5062>;expires=3600\n", "", 1), reg},
		{strings.Replace(reg, ";keep\n", ";keep , SIP/2.0/UDP p;keep=40\n", 1), ""},
		{strings.Replace(reg, "CSeq: 7 REGISTER", "CSeq: 7 REGISTER\nFlow-Timer: 50", 1), ""},
		{strings.Replace(reg, "Via:", "v :", 1), ""},
		{strings.Replace(reg, "To: <sip:a@example.com>;tag=2\n", "", 1), ""},
	} {
		f.Add(s.msg, s.prior, byte(0))
		f.Add(s.msg, s.prior, byte(7))
	}
	f.Fuzz(func(t *testing.T, msg, prior string, mode byte) {
		msg = keeptest.CRLF(msg)
		at, ok := abi.StandingGrantSite([]byte(msg))
		if !ok {
			return
		}
		g, _ := keep.Native()
		h := keeptest.New(t, g.(keeptest.Guest))
		n := standingGrant(t, h)
		var opts []keeptest.Opt
		if mode&1 != 0 {
			opts = append(opts, keeptest.AsUA)
		}
		if mode&2 != 0 {
			opts = append(opts, keeptest.InRouteSet)
		}
		if mode&4 != 0 {
			opts = append(opts, keeptest.LocalReply)
		}
		fl := keeptest.UDP(5062)
		if mode&8 != 0 {
			fl = keeptest.TCP(5062)
		}
		if prior != "" {
			dir := abi.DirIn
			if mode&16 != 0 {
				dir = abi.DirOut
			}
			h.SIP(fl, dir, prior)
		}
		o := h.SIP(fl, abi.DirOut, msg, opts...)
		if o.Reason == abi.ReasonMalformed || o.Reason == abi.ReasonTooLarge {
			if len(o.Edits) != 0 {
				t.Fatalf("edited a message it calls malformed: %v\n%q", o, msg)
			}
			return
		}
		want := msg[:at] + "=" + strconv.Itoa(int(n)) + msg[at:]
		if len(o.Edits) != 1 || o.Edits[0].Op != abi.EditSetKeep || o.Edits[0].Via != 0 || o.Edits[0].Value != n || o.Message != want {
			t.Fatalf("standing grant %d at %d does not hold: %v\n%q", n, at, o, msg)
		}
	})
}
