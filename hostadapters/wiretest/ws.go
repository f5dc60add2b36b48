package wiretest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// dialWS opens a SIP WebSocket (RFC 7118: subprotocol "sip") to the
// target's WS listener, or with secure to its WSS one (TLS as for Target.TLS).
func dialWS(t *testing.T, tg Target, secure bool) net.Conn {
	t.Helper()
	addr, scheme := tg.WS, "ws"
	if secure {
		addr, scheme = tg.WSS, "wss"
	}
	// An Origin, as every browser sends (OpenSIPS's proto_ws refuses a
	// handshake without one).
	d := ws.Dialer{Protocols: []string{"sip"}, Timeout: tg.wait(), TLSConfig: tg.tlsConfig(addr),
		Header: ws.HandshakeHeaderHTTP(http.Header{"Origin": {"http://" + addr}})}
	c, br, hs, err := d.Dial(context.Background(), scheme+"://"+addr+"/")
	if err != nil {
		t.Fatalf("WebSocket to %s: %v", addr, err)
	}
	if br != nil {
		ws.PutReader(br)
	}
	t.Cleanup(func() { c.Close() })
	if hs.Protocol != "sip" {
		t.Fatalf("WebSocket subprotocol %q, want sip (RFC 7118 §4.1)", hs.Protocol)
	}
	return c
}

// maxWSFrame bounds what readWS allocates for one frame and one message,
// whatever the server's frame headers claim.
const maxWSFrame = 1 << 20

// readWS reads the next data message (a text or binary message, its
// fragments joined), answering pings on the way.
func readWS(c net.Conn, wait time.Duration) ([]byte, error) {
	_ = c.SetReadDeadline(time.Now().Add(wait))
	var msg []byte
	for {
		h, err := ws.ReadHeader(c)
		if err != nil {
			return nil, err
		}
		if h.Length > maxWSFrame {
			return nil, fmt.Errorf("a WebSocket frame of %d bytes, more than any SIP message the kit expects (%d)", h.Length, maxWSFrame)
		}
		p := make([]byte, h.Length)
		if _, err := io.ReadFull(c, p); err != nil {
			return nil, err
		}
		if h.Masked {
			ws.Cipher(p, h.Mask, 0)
		}
		switch h.OpCode {
		case ws.OpPing:
			if err := wsutil.WriteClientMessage(c, ws.OpPong, p); err != nil {
				return nil, err
			}
			continue
		case ws.OpPong:
			continue
		case ws.OpClose:
			return nil, io.EOF
		}
		if len(msg)+len(p) > maxWSFrame {
			return nil, fmt.Errorf("a WebSocket message of more than %d bytes", maxWSFrame)
		}
		msg = append(msg, p...)
		if h.Fin {
			return msg, nil
		}
	}
}

// checkRegisterWS registers over a WebSocket (secure: WSS), one SIP
// message per WebSocket message.
func checkRegisterWS(t *testing.T, tg Target, secure bool) {
	c := dialWS(t, tg, secure)
	transport := "WS"
	if secure {
		transport = "WSS"
	}
	msg, branch := register(tg, transport, c.LocalAddr())
	if err := wsutil.WriteClientText(c, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	for {
		res, err := readWS(c, tg.wait())
		if err != nil {
			t.Fatalf("no final response to REGISTER over WebSocket: %v", err)
		}
		if final := checkResponse(t, tg, res, branch, !tg.WSNoGrant); final {
			break
		}
	}
	if tg.WSPing {
		pingWS(t, tg, c)
	}
}

// pingWS sends a CRLFCRLF keep-alive as a WebSocket message and wants a
// CRLF message back.
func pingWS(t *testing.T, tg Target, c net.Conn) {
	t.Helper()
	if err := wsutil.WriteClientText(c, []byte("\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	pong, err := readWS(c, tg.wait())
	if err != nil {
		t.Fatalf("K1: no pong to CRLFCRLF over WebSocket: %v", err)
	}
	if string(pong) != "\r\n" {
		t.Fatalf("K1: got %q over WebSocket, want a CRLF pong", pong)
	}
}
