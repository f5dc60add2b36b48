// Package hosttest is the host conformance kit, in the spirit of
// http-wasm-host-go's tck: it runs the plugin's conformance cases
// (plugin/keeptest.Cases: R1–R18, K1–K6, RFC 6223 §7's flows) through
// host.Host — Handle and Timer, with the host's Store, fast path and quiet
// refresh — instead of calling the guest directly.
//
// keeptest's Harness plays a bare ABI host: it encodes inputs, keeps the
// records and the timers, and decodes outputs. Guest turns host.Host into
// such a guest: each call is decoded back into a host.Event and run through
// Handle (or Timer), with the harness's clock and random numbers injected
// (WithClock, WithRandom), so a case sees exactly the outputs the bare
// plugin gives it — unless the host skips the guest where the plugin would
// have done something, which is the bug the kit exists to catch. The
// host's own timer scheduler is off (WithoutTimers): the harness fires each
// flow's deadline through Host.Timer, the function the scheduler calls.
//
//	func TestHostConformance(t *testing.T) {
//		hosttest.Run(t, host.WithModuleFile("sipkeep.wasm"))
//	}
package hosttest
