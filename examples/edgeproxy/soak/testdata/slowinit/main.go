//go:build wasip1

// Command slowinit is a sipkeep module whose _initialize never returns: a
// package init that spins. Its exports are the ABI's, so the host cannot
// refuse it before running it; only a bound on _initialize itself stops it.
// The soak swaps it in to check that a hostile module cannot wedge the
// proxy while traffic flows.
package main

import (
	"unsafe"

	"github.com/sipkeep/sipkeep/abi"
)

var (
	in      [abi.MinInputCapacity]byte
	out     [abi.MinOutputCapacity]byte
	counter int64
)

// Go runs package init functions inside the reactor's _initialize.
func init() {
	for {
		counter++
	}
}

func main() {}

//go:wasmexport sipkeep_abi_version
func abiVersion() int32 { return int32(abi.Version) }

//go:wasmexport sipkeep_features
func features() int64 { return int64(abi.FeatureReceiver) }

//go:wasmexport sipkeep_input_buffer
func inputBuffer() int32 { return int32(uintptr(unsafe.Pointer(&in[0]))) }

//go:wasmexport sipkeep_input_capacity
func inputCapacity() int32 { return int32(len(in)) }

//go:wasmexport sipkeep_output_buffer
func outputBuffer() int32 { return int32(uintptr(unsafe.Pointer(&out[0]))) }

//go:wasmexport sipkeep_output_capacity
func outputCapacity() int32 { return int32(len(out)) }

//go:wasmexport on_request
func onRequest(n int32) int32 { return 0 }

//go:wasmexport on_response
func onResponse(n int32) int32 { return 0 }

//go:wasmexport on_timer
func onTimer(n int32) int32 { return 0 }
