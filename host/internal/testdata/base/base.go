//go:build wasip1

// Package base is shared by the host's test fixtures: the buffer and
// feature exports of ABI v1, so each fixture states only what it breaks.
package base

import (
	"unsafe"

	"github.com/sipkeep/sipkeep/abi"
)

var (
	In  [abi.MinInputCapacity]byte
	Out [abi.MinOutputCapacity]byte
)

//go:wasmexport sipkeep_features
func features() int64 { return int64(abi.FeatureReceiver) }

//go:wasmexport sipkeep_input_buffer
func inputBuffer() int32 { return int32(uintptr(unsafe.Pointer(&In[0]))) }

//go:wasmexport sipkeep_input_capacity
func inputCapacity() int32 { return int32(len(In)) }

//go:wasmexport sipkeep_output_buffer
func outputBuffer() int32 { return int32(uintptr(unsafe.Pointer(&Out[0]))) }

//go:wasmexport sipkeep_output_capacity
func outputCapacity() int32 { return int32(len(Out)) }

// Noop writes "nothing to do" and returns its length.
func Noop() int32 {
	h := abi.OutputHeader{Reason: abi.ReasonNoKeep}
	abi.PutOutputHeader(Out[:], &h)
	return abi.OutputHeaderSize
}
