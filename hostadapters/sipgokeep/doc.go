// Package sipgokeep puts sipkeep (RFC 6223 keep negotiation, RFC 5626
// keep-alives) into a sipgo (github.com/emiago/sipgo v1.7.2) server, client
// or proxy.
//
//	nk := netkeep.New(netkeep.WithRole(abi.RoleProxy))
//	h, err := host.New(ctx, host.WithModuleFile("build/sipkeep.wasm"),
//		host.WithActionHandler(nk.HandleAction))
//	if err != nil { return err }
//	nk.Attach(h)
//
//	ua, _ := sipgo.NewUA()
//	srv, _ := sipgo.NewServer(ua)
//	cli, _ := sipgo.NewClient(ua)
//	ad := sipgokeep.New(ua, sipgokeep.WithKeeper(nk))
//	go ad.ListenAndServe(ctx, srv, "udp", "127.0.0.1:5060")
//	go ad.ListenAndServe(ctx, srv, "tcp", "127.0.0.1:5060")
//	// forwarding: cli.TransactionRequest(ctx, req, sipgo.ClientRequestAddVia, ad.ClientRequestFlow)
//	srv.OnInvite(sipgokeep.Handler(onInvite)) // see Handler: a cheaper stack for the plugin call
//
// # Which layer does what, and why
//
// Everything keep-related happens at the socket, in netkeep; this package
// only makes sure every byte sipgo reads or writes goes through netkeep's
// wrappers. Evidence from sipgo v1.7.2:
//
//   - UDP: Server.ServeUDP takes any net.PacketConn; sip.UDPConnection reads
//     with PacketConn.ReadFrom and writes every response and request with
//     PacketConn.WriteTo on that same value. A wrapped PacketConn therefore
//     sees STUN before the parser (netkeep answers it; sipgo alone logs a
//     parse error) and every SIP message on the way out (netkeep applies the
//     plugin's edits: keep=N on the top Via of responses, ;keep on our Via of
//     requests, keep values stripped below the top).
//   - TCP: Server.ServeTCP takes any net.Listener; the accepted net.Conn is
//     what sip.TCPConnection reads and writes. netkeep's stream wrapper
//     frames messages, consumes and pongs CRLFCRLF at message boundaries (sipgo
//     alone pongs only a read that is exactly CRLFCRLF) and edits on write.
//   - One authority on message boundaries: sipgo's stream parser re-frames
//     the bytes netkeep's Read returns, so netkeep refuses whatever the two
//     could split differently (sipgo takes the last of two Content-Lengths,
//     drops a read of NULs, parses a continuation line at the end of a read
//     as a header of its own) and returns one message per Read, never
//     ending a read just after a header line's CRLF. netkeep's message limit
//     defaults to sipgo's sip.ParseMaxMessageLength (65,535 bytes): raise
//     both together. TestPluginAndSipgoSeeTheSameMessages and
//     netkeep's FuzzFramerAgreesWithSipgo hold this.
//   - Outgoing UDP requests: for a destination it has not heard from, sipgo
//     creates a new ephemeral socket (TransportUDP.CreateConnection) unless
//     Request.Laddr names a served socket. ClientRequestFlow sets Laddr, so
//     the request leaves from the wrapped SIP socket: the flow the plugin
//     keeps alive, and the port a NATed peer expects.
//   - Outgoing TCP: sipgo dials with a net.Dialer value it builds itself
//     (TransportTCP.DialerCreate), so the connection cannot be wrapped there.
//     ClientRequestFlow dials instead, wraps the conn and hands it to sipgo
//     through a listener served with Server.ServeTCP: sipgo registers it in
//     its pool like an accepted connection, and its connection reuse picks it.
//   - sip.WithTransportLayerReadFilter was not used: it sees bytes but
//     cannot write (no STUN answer, no pong), and an error from it ends the
//     read loop — on UDP the whole listener.
//   - Semantic hooks (wrapping RequestHandler or ServerTransaction.Respond,
//     editing sip.ViaHeader.Params) are not needed with sipgo: sipgo
//     serialises the message and writes it through the wrapper, where the
//     plugin's byte edits apply to exactly what goes on the wire, with the
//     plugin's own Via scanner (sipgo's Params.Get is case- and
//     space-sensitive and its Via parser loses params on some legal input).
//     In a proxy, the place that removes the proxy's own Via from a
//     response before relaying it is where keep=N lands on the new top
//     Via: netkeep shows the relayed response to the plugin as it is written
//     upstream. The in-route-set flag (RFC 6223 R8, R12) comes from the
//     message: netkeep checks for a Record-Route naming one of its sockets.
//
// Without WithKeeper an Adapter still pins flows (UDP from the SIP port,
// reuse of a registered TCP connection), which is what an edge proxy needs
// to reach UAs behind NAT; the sipkeep example edge proxy uses exactly that
// for its no-plugin baseline.
package sipgokeep
