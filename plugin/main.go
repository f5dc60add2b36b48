//go:build wasip1

// Command plugin is the sipkeep WebAssembly module: the logic of package
// keep behind the v1 ABI exports (abi/ABI.md) and the go-plugin control
// plane (abi/proto). Build it with `make plugin`:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o build/sipkeep.wasm ./plugin
package main

import (
	"runtime"
	"unsafe"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/abi/proto"
	"github.com/sipkeep/sipkeep/plugin/keep"
)

// The single plugin instance of this wasm instance. Hosts run one wasm
// instance per concurrent caller, so it is never used concurrently.
var plugin = keep.New()

func init() { proto.RegisterControl(control{plugin}) }

func main() {} // a reactor: the host calls the exports below after _initialize.

//go:wasmexport sipkeep_abi_version
func abiVersion() int32 { return int32(abi.Version) }

//go:wasmexport sipkeep_features
func features() int64 { return int64(keep.Features) }

//go:wasmexport sipkeep_input_buffer
func inputBuffer() int32 { return addr(plugin.InputBuffer()) }

//go:wasmexport sipkeep_input_capacity
func inputCapacity() int32 { return int32(len(plugin.InputBuffer())) }

//go:wasmexport sipkeep_output_buffer
func outputBuffer() int32 { return addr(plugin.OutputBuffer()) }

//go:wasmexport sipkeep_output_capacity
func outputCapacity() int32 { return int32(len(plugin.OutputBuffer())) }

//go:wasmexport on_request
func onRequest(n int32) int32 { return plugin.OnRequest(n) }

//go:wasmexport on_response
func onResponse(n int32) int32 { return plugin.OnResponse(n) }

//go:wasmexport on_timer
func onTimer(n int32) int32 { return plugin.OnTimer(n) }

func addr(b []byte) int32 { return int32(uintptr(unsafe.Pointer(unsafe.SliceData(b)))) }

// gosched lets the guest's GC workers run after a control-plane call, which
// allocates (go-plugin issue #78: without it the guest heap only grows).
func gosched() { runtime.Gosched() }
