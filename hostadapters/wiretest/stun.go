package wiretest

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/pion/stun/v3"
)

// udpExchange sends req from a fresh loopback socket and returns the
// first datagram that comes back, and the socket's own address.
func udpExchange(t *testing.T, tg Target, req []byte) ([]byte, *net.UDPAddr) {
	t.Helper()
	c, err := net.Dial("udp", tg.UDP)
	if err != nil {
		t.Fatalf("dial %s: %v", tg.UDP, err)
	}
	defer c.Close()
	if _, err := c.Write(req); err != nil {
		t.Fatalf("send: %v", err)
	}
	_ = c.SetReadDeadline(time.Now().Add(tg.wait()))
	b := make([]byte, 65535)
	n, err := c.Read(b)
	if err != nil {
		t.Fatalf("no answer from %s: %v", tg.UDP, err)
	}
	return b[:n], c.LocalAddr().(*net.UDPAddr)
}

func checkSTUN5389(t *testing.T, tg Target, fingerprint bool) {
	setters := []stun.Setter{stun.TransactionID, stun.BindingRequest}
	if fingerprint {
		setters = append(setters, stun.Fingerprint)
	}
	req := stun.MustBuild(setters...)
	raw, me := udpExchange(t, tg, req.Raw)
	res := &stun.Message{Raw: raw}
	if err := res.Decode(); err != nil {
		t.Fatalf("answer is not STUN: %v (%q)", err, raw)
	}
	if res.Type != stun.BindingSuccess || res.TransactionID != req.TransactionID {
		t.Fatalf("answer %v tx %x, want Binding success tx %x", res.Type, res.TransactionID, req.TransactionID)
	}
	var xa stun.XORMappedAddress
	if err := xa.GetFrom(res); err != nil {
		t.Fatalf("no XOR-MAPPED-ADDRESS: %v", err)
	}
	if !xa.IP.Equal(me.IP) || xa.Port != me.Port {
		t.Fatalf("XOR-MAPPED-ADDRESS %v, want %v", xa, me)
	}
	if fingerprint {
		if err := stun.Fingerprint.Check(res); err != nil {
			t.Fatalf("request had FINGERPRINT, answer's: %v", err)
		}
	}
}

func checkSTUN3489(t *testing.T, tg Target) {
	req := make([]byte, 20)
	binary.BigEndian.PutUint16(req[0:2], 0x0001) // Binding request, no attributes
	_, _ = rand.Read(req[4:20])
	req[4] = 0x5A // anything but the magic cookie
	raw, me := udpExchange(t, tg, req)
	if len(raw) < 20 || binary.BigEndian.Uint16(raw[0:2]) != 0x0101 {
		t.Fatalf("answer is not a Binding success: %x", raw)
	}
	if !bytes.Equal(raw[4:20], req[4:20]) {
		t.Fatalf("16-byte transaction id %x not echoed (got %x)", req[4:20], raw[4:20])
	}
	// pion decodes with the cookie only; the attribute layout is the same.
	patched := append([]byte(nil), raw...)
	binary.BigEndian.PutUint32(patched[4:8], 0x2112A442) // RFC 5389 magic cookie
	m := &stun.Message{Raw: patched}
	if err := m.Decode(); err != nil {
		t.Fatalf("answer attributes: %v", err)
	}
	var ma stun.MappedAddress
	if err := ma.GetFrom(m); err != nil {
		t.Fatalf("no MAPPED-ADDRESS: %v", err)
	}
	if !ma.IP.Equal(me.IP) || ma.Port != me.Port {
		t.Fatalf("MAPPED-ADDRESS %v, want %v", ma, me)
	}
}
