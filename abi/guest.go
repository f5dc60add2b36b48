package abi

// Guest is the hot-path ABI seen from Go: exactly what a wasm instance
// exports, so that the same plugin logic can run natively (tests, benchmarks,
// the native harness) behind the same host code that drives wasm instances.
//
// The buffers are owned by the guest and stable for its lifetime. The host
// writes an input of n bytes into InputBuffer()[:n] and calls one entry
// point with n; a result r >= 0 means OutputBuffer()[:r] holds the output,
// r < 0 is -Errno. A Guest is used by one goroutine at a time.
type Guest interface {
	InputBuffer() []byte
	OutputBuffer() []byte
	OnRequest(inputLen int32) int32
	OnResponse(inputLen int32) int32
	OnTimer(inputLen int32) int32
}
