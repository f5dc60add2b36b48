package keeptest_test

import (
	"context"
	"testing"

	"github.com/sipkeep/sipkeep/internal/testwasm"
	"github.com/sipkeep/sipkeep/plugin/keeptest"
)

// TestConformanceWasm runs every conformance case against the built
// sipkeep.wasm, through the ABI exports and the go-plugin control plane.
func TestConformanceWasm(t *testing.T) {
	m, err := keeptest.CompileWasm(context.Background(), testwasm.Path(t))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, c := range keeptest.Cases {
		t.Run(c.ID+"/"+c.Name, func(t *testing.T) {
			g, err := m.NewGuest(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			c.Run(t, keeptest.New(t, g))
		})
	}
}
