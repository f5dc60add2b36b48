package siptest

import (
	"net"
	"testing"
	"time"

	"github.com/pion/stun/v3"
)

// CheckSTUNAnswered sends an RFC 5389 STUN Binding request to the UDP SIP
// port addr and fails t unless the answer echoes the transaction id and
// maps our own address (K3: a client behind NAT learns its binding from
// the SIP port itself).
func CheckSTUNAnswered(t testing.TB, addr string) {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := stun.MustBuild(stun.TransactionID, stun.BindingRequest)
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Write(req.Raw); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no STUN response: %v", err)
	}
	resp := &stun.Message{Raw: buf[:n]}
	if err := resp.Decode(); err != nil {
		t.Fatal(err)
	}
	var xa stun.XORMappedAddress
	if err := xa.GetFrom(resp); err != nil {
		t.Fatalf("no XOR-MAPPED-ADDRESS: %v", err)
	}
	if resp.TransactionID != req.TransactionID || xa.String() != c.LocalAddr().String() {
		t.Errorf("response %s mapped %s, want tx %x and %s", resp.Type, xa.String(), req.TransactionID, c.LocalAddr())
	}
}

// CheckCRLFPong sends a CRLFCRLF ping on a new TCP connection to addr and
// fails t unless a CRLF pong comes back (K1, RFC 5626 section 3.5.1).
func CheckCRLFPong(t testing.TB, addr string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	c.Write([]byte("\r\n\r\n"))
	buf := make([]byte, 16)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "\r\n" {
		t.Fatalf("want a CRLF pong, got %q, %v", buf[:n], err)
	}
}
