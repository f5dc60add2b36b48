//go:build wasip1

// Command smallout declares an output buffer one byte below abi.MinOutputCapacity: the host must refuse it at load.
// It does not import base, whose buffer exports are the correct ones.
package main

import (
	"unsafe"

	"github.com/sipkeep/sipkeep/abi"
)

func main() {}

var (
	in  [abi.MinInputCapacity]byte
	out [abi.MinOutputCapacity]byte
)

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
func outputCapacity() int32 { return int32(len(out)) - 1 }

func noop() int32 {
	h := abi.OutputHeader{Reason: abi.ReasonNoKeep}
	abi.PutOutputHeader(out[:], &h)
	return abi.OutputHeaderSize
}

//go:wasmexport on_request
func onRequest(n int32) int32 { return noop() }

//go:wasmexport on_response
func onResponse(n int32) int32 { return noop() }

//go:wasmexport on_timer
func onTimer(n int32) int32 { return noop() }
