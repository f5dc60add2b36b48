package hosttest_test

import (
	"testing"

	"github.com/sipkeep/sipkeep/host"
	"github.com/sipkeep/sipkeep/host/hosttest"
	"github.com/sipkeep/sipkeep/internal/testwasm"
	"github.com/sipkeep/sipkeep/plugin/keep"
)

// The conformance cases through the host with the built wasm module: the
// fast path and quiet refresh (the module declares it) are on.
func TestHostConformanceWasm(t *testing.T) {
	hosttest.Run(t, host.WithModuleFile(testwasm.Path(t)))
}

// The same with the plugin compiled into the host (WithNativeGuest).
func TestHostConformanceNative(t *testing.T) {
	hosttest.Run(t, host.WithNativeGuest(keep.Native))
}
