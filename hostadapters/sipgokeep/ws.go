package sipgokeep

import (
	"context"
	"crypto/tls"
	"net"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/gobwas/ws"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/hostadapters/netkeep"
)

// ServeTLS wraps a TLS listener (tls.NewListener) and serves it with srv
// (blocking): TLS flows get what TCP flows get (K1, K2 over TLS).
func (a *Adapter) ServeTLS(srv *sipgo.Server, l net.Listener) error {
	if a.nk != nil {
		l = a.nk.WrapListener(l)
	}
	return srv.ServeTLS(l)
}

// ServeWS serves SIP over WebSocket (RFC 7118) on a TCP listener (blocking).
// netkeep sits under sipgo's WebSocket code, on the connection's bytes:
// sipgo does the upgrade (subprotocol "sip") and reads frames as before,
// netkeep answers CRLFCRLF keep-alives and WebSocket pings, checks each
// message and shows it to the plugin, and edits the frames sipgo writes.
func (a *Adapter) ServeWS(srv *sipgo.Server, l net.Listener) error {
	if a.nk != nil {
		l = a.nk.WrapWSListener(l, abi.TransportWS)
	}
	return srv.ServeWS(l)
}

// ServeWSS is ServeWS on a TLS listener (tls.NewListener): netkeep sees the
// decrypted bytes.
func (a *Adapter) ServeWSS(srv *sipgo.Server, l net.Listener) error {
	if a.nk != nil {
		l = a.nk.WrapWSListener(l, abi.TransportWSS)
	}
	return srv.ServeWSS(l)
}

// WSDialer is a sipgo.UserAgentOption that puts the WebSocket connections
// sipgo dials (ws:// URIs) under k: the sender role over WS, with ;keep
// offered on requests and CRLFCRLF pings sent in text messages. sipgo builds
// its WS dialer through TransportWS.DialerCreate, a public hook, so the raw
// connection can be wrapped before the upgrade. (sipgo dials WSS without such
// a hook; secure WebSocket is served here but not dialed.)
func WSDialer(k *netkeep.Keeper) sipgo.UserAgentOption {
	create := func(laddr net.Addr) ws.Dialer {
		nd := net.Dialer{LocalAddr: laddr}
		return ws.Dialer{
			Protocols: sip.WebSocketProtocols,
			NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := nd.DialContext(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				t := abi.TransportWS
				if _, ok := c.(*tls.Conn); ok {
					t = abi.TransportWSS
				}
				return k.WrapWSConn(c, t, true), nil
			},
		}
	}
	return sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerTransports(sip.TransportsConfig{
		WS: &sip.TransportWS{DialerCreate: create},
	}))
}
