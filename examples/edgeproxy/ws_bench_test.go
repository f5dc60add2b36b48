package main_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/sipkeep/sipkeep/internal/testnet"
	"github.com/sipkeep/sipkeep/internal/testwasm"
)

// BenchmarkEdgeProxyWebSocket measures SIP over WebSocket on the real
// binary, as BenchmarkEdgeProxy does for UDP and TCP (16 closed-loop
// clients, a connection each, proxy CPU from /proc):
//
//   - pings/TCP and pings/WS: CRLFCRLF keep-alives answered per second and
//     per proxy CPU-second, over TCP and inside WebSocket messages, on the
//     same proxy (with the plugin);
//   - REGISTER-WS/plain and REGISTER-WS/sipkeep: registers/s over WS
//     without and with the plugin (the REGISTER offers ;keep), a fresh
//     proxy each.
//
// go test -run '^$' -bench EdgeProxyWebSocket ./examples/edgeproxy  (about 30 s)
func BenchmarkEdgeProxyWebSocket(b *testing.B) {
	bin := buildBinary(b)
	wasm := testwasm.Path(b)
	for _, m := range []struct {
		name string
		args []string
	}{
		{"plain", nil},
		{"sipkeep", []string{"--wasm", wasm, "--watch=false"}},
	} {
		wsAddr := fmt.Sprintf("127.0.0.1:%d", testnet.FreePort(b))
		p, _, _ := runBinary(b, bin, append([]string{"--log-level", "warn", "--ws-listen", wsAddr}, m.args...)...)
		b.Run("REGISTER-WS/"+m.name, func(b *testing.B) { benchRegisterWS(b, p, wsAddr) })
		stopProc(b, p)
	}
	wsAddr := fmt.Sprintf("127.0.0.1:%d", testnet.FreePort(b))
	p, addr, _ := runBinary(b, bin, "--log-level", "warn", "--wasm", wasm, "--watch=false", "--ws-listen", wsAddr)
	b.Run("pings/TCP", func(b *testing.B) { benchCRLF(b, p, addr) })
	b.Run("pings/WS", func(b *testing.B) { benchPingWS(b, p, wsAddr) })
}

func dialBenchWS(b *testing.B, addr string) net.Conn {
	d := ws.Dialer{Protocols: []string{"sip"}, Timeout: 5 * time.Second}
	c, br, _, err := d.Dial(context.Background(), "ws://"+addr+"/")
	if err != nil {
		b.Fatal(err)
	}
	if br != nil {
		ws.PutReader(br)
	}
	return c
}

func benchPingWS(b *testing.B, p *proc, addr string) {
	closedLoop(b, p, "pings", func(int) (func() error, func()) {
		c := dialBenchWS(b, addr)
		return func() error {
			if err := wsutil.WriteClientText(c, []byte("\r\n\r\n")); err != nil {
				return err
			}
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			m, err := wsutil.ReadServerText(c)
			if err != nil {
				return err
			}
			if string(m) != "\r\n" {
				return fmt.Errorf("pong %q", m)
			}
			return nil
		}, func() { c.Close() }
	})
}

func benchRegisterWS(b *testing.B, p *proc, addr string) {
	closedLoop(b, p, "registers", func(i int) (func() error, func()) {
		c := dialBenchWS(b, addr)
		cseq := 0
		return func() error {
			cseq++
			msg := fmt.Sprintf("REGISTER sip:127.0.0.1 SIP/2.0\r\n"+
				"Via: SIP/2.0/WS w%d.invalid;branch=z9hG4bK-w%d-%d;keep\r\n"+
				"From: <sip:wsuser%d@127.0.0.1>;tag=w%d\r\n"+
				"To: <sip:wsuser%d@127.0.0.1>\r\n"+
				"Call-ID: wsbench-%d@127.0.0.1\r\n"+
				"CSeq: %d REGISTER\r\n"+
				"Contact: <sip:wsuser%d@w%d.invalid;transport=ws>\r\n"+
				"Expires: 300\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
				i, i, cseq, i, i, i, i, cseq, i, i)
			if err := wsutil.WriteClientText(c, []byte(msg)); err != nil {
				return err
			}
			want := []byte(fmt.Sprintf("CSeq: %d REGISTER", cseq))
			for {
				c.SetReadDeadline(time.Now().Add(2 * time.Second))
				m, err := wsutil.ReadServerText(c)
				if err != nil {
					return err
				}
				if bytes.HasPrefix(m, []byte("SIP/2.0 200")) && bytes.Contains(m, want) {
					return nil
				}
			}
		}, func() { c.Close() }
	})
}
