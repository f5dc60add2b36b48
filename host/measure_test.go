package host

// Measurement-only options: the benchmarks compare the module as the host
// loads it with the module without one of the load-time rewrites. They are
// not part of the API because a host without the loop instrumentation
// cannot stop a runaway guest.

// withoutInterrupt loads the module without the loop instrumentation
// (internal/wasminterrupt).
func withoutInterrupt() Option { return func(o *options) { o.interruptOff = true } }

// withoutDirectJumps loads the module without the rewrite that makes its
// jumps direct (internal/wasmjump); the rewrite changes no behaviour.
func withoutDirectJumps() Option { return func(o *options) { o.directJumpsOff = true } }
