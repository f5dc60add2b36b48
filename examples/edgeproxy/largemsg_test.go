package main_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/examples/edgeproxy/proxy"
)

// A 200 too large for one Ethernet frame is still sent over UDP (RFC 3261
// §18.2.2: on the request's transport; IP fragments it), not dropped by
// sipgo's MTU check: a REGISTER from an AOR with 20 contacts, and one with
// 100 Vias (which the 200 copies back).
func TestUDP_LargeResponsesAreSent(t *testing.T) {
	p := startProxy(t, func(c *proxy.Config) { c.MaxContacts = 25 })
	ua := newRawUA(t, p.Addr(), "erin")

	var contacts []string
	for i := range 20 {
		contacts = append(contacts, fmt.Sprintf("sip:erin-device-with-a-long-name-%02d@198.51.100.%d:5060;transport=udp", i, i+1))
	}
	ua.send(ua.register("sip:"+p.Addr(), "sip:erin@example.com", contacts, 0))
	res := ua.recv(wait, true)
	if statusCode(res) != 200 || headerCount(res, "Contact") != 20 {
		t.Fatalf("20 contacts: %q with %d Contacts", startLine(res), headerCount(res, "Contact"))
	}
	if len(res) <= 1300 {
		t.Fatalf("the 200 is %d bytes: the test needs one over 1300", len(res))
	}

	ua.send(ua.register("sip:"+p.Addr(), "sip:erin@example.com", []string{ua.contact()}, 100))
	res = ua.recv(wait, true)
	if statusCode(res) != 200 || headerCount(res, "Via") != 101 {
		t.Fatalf("100-Via REGISTER: %q with %d Vias (%d bytes)", startLine(res), headerCount(res, "Via"), len(res))
	}
}

// RFC 3261 §18.1.1: a request over 1300 bytes that need not stay on a UDP
// flow is forwarded over TCP, with a TCP Via; the answer comes back to the
// UDP caller.
func TestUDP_LargeRequestForwardedOverTCP(t *testing.T) {
	p := startProxy(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		var head strings.Builder
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			head.WriteString(line)
			if line == "\r\n" {
				break
			}
		}
		// The body is read by its Content-Length only to drain it.
		var n int
		for _, l := range strings.Split(head.String(), "\r\n") {
			if v, ok := strings.CutPrefix(l, "Content-Length: "); ok {
				fmt.Sscan(v, &n)
			}
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		got <- head.String()
		c.Write([]byte(answer(head.String(), 486, "Busy Here")))
		time.Sleep(2 * time.Second) // let the proxy read it before the close
	}()

	caller := newRawUA(t, p.Addr(), "frank")
	ruri := "sip:gina@" + ln.Addr().String()
	inv := caller.invite(ruri)
	body := strings.Repeat("a=x-padding:0123456789abcdef0123456789abcdef\r\n", 40)
	inv = strings.Replace(inv, "Content-Length: 0\r\n\r\n", fmt.Sprintf("Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s", len(body), body), 1)
	if len(inv) <= 1300 {
		t.Fatalf("INVITE is %d bytes: the test needs one over 1300", len(inv))
	}
	caller.send(inv)
	select {
	case head := <-got:
		if v := topVia(head); !strings.HasPrefix(v, "SIP/2.0/TCP ") {
			t.Fatalf("forwarded over TCP with top Via %q", v)
		}
	case <-time.After(wait):
		t.Fatal("the large INVITE did not arrive over TCP")
	}
	if res := caller.recv(wait, true); statusCode(res) != 486 {
		t.Fatalf("caller got %q, want 486", startLine(res))
	}
}
