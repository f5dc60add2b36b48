package stunresp

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/pion/stun/v3"
)

var (
	src   = netip.MustParseAddrPort("192.0.2.7:40000")
	local = netip.MustParseAddrPort("198.51.100.1:5060")
)

// K3 (RFC 5389): XOR-MAPPED-ADDRESS is the source, the transaction id is
// echoed, FINGERPRINT is present exactly when the request had one.
func TestK3_Answer5389(t *testing.T) {
	for _, fp := range []bool{true, false} {
		var tx [12]byte
		_, _ = rand.Read(tx[:])
		req, err := Request(tx, fp)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := Answer(req, src, local)
		if err != nil {
			t.Fatal(err)
		}
		m := &stun.Message{Raw: raw}
		if err := m.Decode(); err != nil {
			t.Fatal(err)
		}
		if m.Type != stun.BindingSuccess || m.TransactionID != tx {
			t.Fatalf("type %v tx %x, want Binding success tx %x", m.Type, m.TransactionID, tx)
		}
		var xa stun.XORMappedAddress
		if err := xa.GetFrom(m); err != nil || addrPort(xa.IP, xa.Port) != src {
			t.Fatalf("XOR-MAPPED-ADDRESS %v (%v), want %v", xa, err, src)
		}
		if got := m.Contains(stun.AttrFingerprint); got != fp {
			t.Fatalf("FINGERPRINT present %v, request had one %v", got, fp)
		}
		if fp {
			if err := stun.Fingerprint.Check(m); err != nil {
				t.Fatalf("FINGERPRINT: %v", err)
			}
		}
		d, ok := Decode(raw)
		if !ok || d.Class() != ClassSuccess || !d.Cookie || d.TxID != tx || d.Mapped != src {
			t.Fatalf("Decode(answer) = %+v %v", d, ok)
		}
	}
}

// K3 (RFC 3489): no cookie; the whole 16-byte id is echoed, MAPPED-ADDRESS
// is the source, SOURCE-ADDRESS and CHANGED-ADDRESS the local address when
// known.
func TestK3_Answer3489(t *testing.T) {
	req := make([]byte, HeaderSize)
	binary.BigEndian.PutUint16(req[0:2], 0x0001)
	_, _ = rand.Read(req[4:20])
	req[4] = 0x55 // certainly not the cookie
	for _, loc := range []netip.AddrPort{local, {}} {
		raw, err := Answer(req, src, loc)
		if err != nil {
			t.Fatal(err)
		}
		if binary.BigEndian.Uint16(raw[0:2]) != 0x0101 || !bytes.Equal(raw[4:20], req[4:20]) {
			t.Fatalf("type %x id %x, want 0101 id %x", raw[0:2], raw[4:20], req[4:20])
		}
		d, ok := Decode(raw)
		if !ok || d.Cookie || d.Class() != ClassSuccess || d.Mapped != src {
			t.Fatalf("Decode(answer) = %+v %v", d, ok)
		}
		patched := append([]byte(nil), raw...)
		binary.BigEndian.PutUint32(patched[4:8], MagicCookie)
		m := &stun.Message{Raw: patched}
		if err := m.Decode(); err != nil {
			t.Fatal(err)
		}
		if m.Contains(stun.AttrXORMappedAddress) || m.Contains(stun.AttrFingerprint) {
			t.Fatal("RFC 5389-only attributes in a classic answer")
		}
		for _, at := range []stun.AttrType{stun.AttrSourceAddress, stun.AttrChangedAddress} {
			var a stun.MappedAddress
			err := a.GetFromAs(m, at)
			switch {
			case loc.IsValid() && (err != nil || addrPort(a.IP, a.Port) != loc):
				t.Fatalf("%v = %v (%v), want %v", at, a, err, loc)
			case !loc.IsValid() && err == nil:
				t.Fatalf("%v present with no local address", at)
			}
		}
	}
}

func TestAnswerRefusesOtherMessages(t *testing.T) {
	var tx [12]byte
	ind := stun.MustBuild(stun.NewTransactionIDSetter(tx), stun.NewType(stun.MethodBinding, stun.ClassIndication))
	resp := stun.MustBuild(stun.NewTransactionIDSetter(tx), stun.BindingSuccess)
	for name, b := range map[string][]byte{
		"indication": ind.Raw, "response": resp.Raw,
		"SIP":        []byte("REGISTER sip:example.com SIP/2.0\r\n\r\n"),
		"CRLFCRLF":   []byte("\r\n\r\n"),
		"truncated":  ind.Raw[:19],
		"bad length": append(append([]byte(nil), ind.Raw...), 0, 0, 0, 0),
	} {
		if _, err := Answer(b, src, local); err == nil {
			t.Errorf("%s answered", name)
		}
	}
}

func TestParse(t *testing.T) {
	var tx [12]byte
	req, _ := Request(tx, true)
	if h, ok := Parse(req); !ok || !h.BindingRequest() || !h.Cookie || h.Class() != ClassRequest {
		t.Fatalf("Parse(request) = %+v %v", h, ok)
	}
	for _, b := range [][]byte{nil, []byte("\r\n\r\n"), []byte("SIP/2.0 200 OK\r\n\r\n\r\n"), req[:len(req)-4]} {
		if _, ok := Parse(b); ok {
			t.Errorf("Parse(%q) ok", b)
		}
	}
	if _, ok := Decode([]byte("OPTIONS sip:a SIP/2.0\r\n\r\n")); ok {
		t.Error("Decode(SIP) ok")
	}
}
