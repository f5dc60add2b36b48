package siptest

import "testing"

// CheckRegisterKeep registers user@domain from a new UA on transport tr
// towards addr, offering ";keep" on its Via below which a downstream Via
// arrived with keep=40, and fails t unless the 200 OK grants keep=want on
// the top Via (R10) and carries no keep value on the lower one (R17).
func CheckRegisterKeep(t testing.TB, tr, addr, user, domain, want string) {
	t.Helper()
	u := NewUA(t, tr, addr)
	resp := u.Register(user, domain, ";keep", "Via: SIP/2.0/UDP 10.9.9.9:5060;branch=z9hG4bKlower;keep=40")
	if StatusCode(resp) != 200 {
		t.Fatalf("REGISTER: want 200, got:\n%s", resp)
	}
	vias := Headers(resp, "Via")
	if v, ok := ViaKeep(vias[0]); !ok || v != want {
		t.Errorf("top Via: want keep=%s, got %q\n%s", want, vias[0], resp)
	}
	if v, _ := ViaKeep(vias[1]); v != "" {
		t.Errorf("R17: lower Via kept its value: %q", vias[1])
	}
}

// CheckNoKeepWithoutOffer registers user@domain over UDP towards addr
// without offering keep, and fails t if the response's top Via has a keep
// parameter anyway (R10: a server grants keep only when asked).
func CheckNoKeepWithoutOffer(t testing.TB, addr, user, domain string) {
	t.Helper()
	u := NewUA(t, "UDP", addr)
	resp := u.Register(user, domain, "")
	if _, ok := ViaKeep(Headers(resp, "Via")[0]); ok {
		t.Errorf("keep added although the UA did not offer it:\n%s", resp)
	}
}
