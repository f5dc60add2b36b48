package netkeep_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/abi/proto"
	"github.com/sipkeep/sipkeep/host"
	"github.com/sipkeep/sipkeep/hostadapters/netkeep"
	"github.com/sipkeep/sipkeep/hostadapters/wiretest"
	"github.com/sipkeep/sipkeep/internal/testnet"
	"github.com/sipkeep/sipkeep/internal/testtls"
	"github.com/sipkeep/sipkeep/internal/testwasm"
)

// The wire-level kit against a registrar on netkeep-wrapped UDP, TCP and
// TLS sockets, with the real host and plugin (receiver role, keep=30).
func TestWireKit(t *testing.T) {
	ctx := context.Background()
	k := netkeep.New(netkeep.WithRole(abi.RoleProxy), netkeep.WithLocalReply(func([]byte) bool { return true }),
		netkeep.WithLogger(slog.New(slog.DiscardHandler)))
	h, err := host.New(ctx, host.WithModuleFile(testwasm.Path(t)), host.WithActionHandler(k.HandleAction),
		host.WithPolicy(&proto.Policy{ReceiverKeepSeconds: 30}), host.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(ctx)
	k.Attach(h)
	addr := "127.0.0.1:" + strconv.Itoa(testnet.FreePort(t))
	upc, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	pc := k.WrapPacketConn(upc)
	defer pc.Close()
	tl, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	l := k.WrapListener(tl)
	defer l.Close()
	cert := testtls.New(t)
	rawTLS, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ll := k.WrapListener(tls.NewListener(rawTLS, cert.Server))
	defer ll.Close()
	go serveRegistrarUDP(pc)
	go serveRegistrarTCP(l)
	go serveRegistrarTCP(ll)
	wiretest.Run(t, wiretest.Target{UDP: addr, TCP: addr, TLS: ll.Addr().String(), TLSConfig: cert.Client, Keep: 30})
}

// okFor builds a registrar's 200 OK to a REGISTER: the request's Vias,
// From, To (tagged), Call-ID, CSeq and Contact.
func okFor(req []byte) []byte {
	var b bytes.Buffer
	b.WriteString("SIP/2.0 200 OK\r\n")
	head, _, _ := bytes.Cut(req, []byte("\r\n\r\n"))
	for _, l := range strings.Split(string(head), "\r\n")[1:] {
		name, _, _ := strings.Cut(l, ":")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "via", "v", "from", "f", "call-id", "i", "cseq", "contact", "m":
			b.WriteString(l + "\r\n")
		case "to", "t":
			b.WriteString(l + ";tag=reg\r\n")
		}
	}
	b.WriteString("Expires: 600\r\nContent-Length: 0\r\n\r\n")
	return b.Bytes()
}

func serveRegistrarUDP(pc net.PacketConn) {
	b := make([]byte, 65535)
	for {
		n, from, err := pc.ReadFrom(b)
		if err != nil {
			return
		}
		if bytes.HasPrefix(b[:n], []byte("REGISTER ")) {
			_, _ = pc.WriteTo(okFor(b[:n]), from)
		}
	}
}

func serveRegistrarTCP(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			r := bufio.NewReader(c)
			for {
				req, err := readMessage(r)
				if err != nil {
					return
				}
				if bytes.HasPrefix(req, []byte("REGISTER ")) {
					if _, err := c.Write(okFor(req)); err != nil {
						return
					}
				}
			}
		}()
	}
}

// readMessage reads one header-only SIP message (the registrar's requests
// carry no body).
func readMessage(r *bufio.Reader) ([]byte, error) {
	var msg []byte
	for {
		l, err := r.ReadBytes('\n')
		if err != nil {
			return nil, err
		}
		if len(msg) == 0 && len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		msg = append(msg, l...)
		if bytes.Equal(l, []byte("\r\n")) {
			return msg, nil
		}
		if len(msg) > 65536 {
			return nil, io.ErrShortBuffer
		}
	}
}
