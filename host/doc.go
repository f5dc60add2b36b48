// Package host runs the sipkeep plugin (a wasip1 module built from
// plugin/, or the same logic compiled in natively) on wazero for a SIP
// server or client written in Go.
//
// A Host owns a pool of plugin instances and the per-flow records the
// plugin keeps nothing of itself (RATIONALE.md, "The plugin keeps nothing
// it cannot lose"). Each SIP message, STUN packet or CRLF keep-alive is
// shown to it with Handle, which returns the message's edits (";keep",
// "keep=N") and the actions the plugin asked for; timers fire on_timer at
// each flow's next deadline and hand their actions to the
// WithActionHandler callback. The host adapters (hostadapters/netkeep for
// net sockets, hostadapters/sipgokeep for sipgo) do all of this for a
// server; most users start there.
//
// The plugin never breaks SIP traffic: a trap, a timeout or a bad result
// fails open (the message passes unchanged), the instance is replaced with
// backoff and the failure shows in metrics. A result whose edits write
// anything but what their op says (keep=N within the policy's bounds,
// ;keep on our own Via, a keep value removed) is refused whole. A new
// module (WithWatch, or Reload) is validated before it serves, every step
// of starting it bounded in wall time (WithInitTimeout); a bad or slow one
// is rejected and the old keeps serving.
//
//	h, err := host.New(ctx,
//		host.WithModuleFile("build/sipkeep.wasm"),
//		host.WithActionHandler(send)) // carry out keep-alives and failures
//	if err != nil {
//		return err
//	}
//	defer h.Close(ctx)
//	res := h.Handle(ctx, host.Event{Kind: abi.KindSIPRequest, Dir: abi.DirIn, Flow: f, Message: msg})
//	// res.Message: msg with the plugin's edits applied (or msg unchanged)
package host
