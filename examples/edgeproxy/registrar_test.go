package main_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/examples/edgeproxy/proxy"
)

const wait = 5 * time.Second

// callReaches sends an INVITE for requestURI from a fresh caller and checks
// that callee receives it addressed to its registered Contact, and that the
// callee's 486 comes back to the caller through the proxy.
func callReaches(t *testing.T, p *proxy.Proxy, callee *rawUA, requestURI string) {
	t.Helper()
	caller := newRawUA(t, p.Addr(), "carol")
	caller.send(caller.invite(requestURI))
	inv := callee.recvRequest(wait, "INVITE")
	if want := "INVITE " + callee.contact() + " SIP/2.0"; startLine(inv) != want {
		t.Fatalf("callee got %q, want %q", startLine(inv), want)
	}
	callee.send(answer(inv, 486, "Busy Here"))
	if res := caller.recv(wait, true); statusCode(res) != 486 {
		t.Fatalf("caller got %q, want the callee's 486", startLine(res))
	}
}

// The newcomer's first try with `make run` (no --domains): register
// alice@example.com through the proxy, then call sip:alice@example.com
// through it; the INVITE reaches alice instead of a DNS lookup of
// example.com (a registrar that binds an AOR must route it).
func TestRegistrar_DefaultAnyDomain_RegisterThenInviteReachesUA(t *testing.T) {
	p := startProxy(t)
	alice := newRawUA(t, p.Addr(), "alice")
	alice.send(alice.register("sip:"+p.Addr(), "sip:alice@example.com", []string{alice.contact()}, 0))
	if res := alice.recv(wait, true); statusCode(res) != 200 {
		t.Fatalf("REGISTER: %q", startLine(res))
	}
	callReaches(t, p, alice, "sip:alice@example.com")
	// Like Kamailio's registrar with use_domain=0: the user is the AOR.
	callReaches(t, p, alice, "sip:alice@"+p.Addr())
}

// With --domains, a REGISTER for another domain gets 404 (RFC 3261 §10.3
// step 5) and binds nothing; one for a served domain is bound and routed.
func TestRegistrar_Domains_ForeignRegisterGets404AndIsNotBound(t *testing.T) {
	p := startProxy(t, func(c *proxy.Config) { c.Domains = []string{"example.org"} })
	alice := newRawUA(t, p.Addr(), "alice")
	for _, tc := range []struct{ ruri, aor string }{
		{"sip:example.com", "sip:alice@example.com"}, // both foreign
		{"sip:example.org", "sip:alice@example.com"}, // served registrar, foreign AOR (step 5)
		{"sip:example.com", "sip:alice@example.org"}, // foreign registrar (step 1)
	} {
		alice.send(alice.register(tc.ruri, tc.aor, []string{alice.contact()}, 0))
		if res := alice.recv(wait, true); statusCode(res) != 404 {
			t.Fatalf("REGISTER %s To %s: %q, want 404", tc.ruri, tc.aor, startLine(res))
		}
	}
	if n := p.Location().Len(); n != 0 {
		t.Fatalf("%d bindings after foreign REGISTERs", n)
	}
	alice.send(alice.register("sip:example.org", "sip:alice@example.org", []string{alice.contact()}, 0))
	if res := alice.recv(wait, true); statusCode(res) != 200 {
		t.Fatalf("REGISTER for a served domain: %q", startLine(res))
	}
	callReaches(t, p, alice, "sip:alice@example.org")
}

// --max-contacts: a REGISTER that would leave an AOR with more live
// bindings than the limit gets 403 and changes nothing; refreshing an
// existing binding still works at the limit.
func TestRegistrar_MaxContactsExceededGets403(t *testing.T) {
	p := startProxy(t, func(c *proxy.Config) { c.MaxContacts = 3 })
	ua := newRawUA(t, p.Addr(), "dave")
	contacts := func(from, to int) []string {
		var cs []string
		for i := from; i < to; i++ {
			cs = append(cs, fmt.Sprintf("sip:dave@192.0.2.%d:5060", i+1))
		}
		return cs
	}
	reg := func(cs []string) string {
		ua.send(ua.register("sip:"+p.Addr(), "sip:dave@example.com", cs, 0))
		return ua.recv(wait, true)
	}
	if res := reg(contacts(0, 3)); statusCode(res) != 200 || headerCount(res, "Contact") != 3 {
		t.Fatalf("3 contacts: %q with %d Contacts", startLine(res), headerCount(res, "Contact"))
	}
	res := reg(contacts(3, 4))
	if statusCode(res) != 403 || !strings.Contains(startLine(res), "Too Many") {
		t.Fatalf("4th contact: %q, want 403 Too Many Registered Contacts", startLine(res))
	}
	if n := p.Location().Len(); n != 3 {
		t.Fatalf("%d bindings after the refused REGISTER, want 3", n)
	}
	if res := reg(contacts(1, 2)); statusCode(res) != 200 {
		t.Fatalf("refresh at the limit: %q", startLine(res))
	}
}
