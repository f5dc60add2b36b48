package keep_test

import (
	"testing"

	"github.com/sipkeep/sipkeep/plugin/keep"
	"github.com/sipkeep/sipkeep/plugin/keeptest"
)

// TestConformanceNative runs every conformance case against the plugin
// logic called directly (the wasm module runs the same cases in
// plugin/keeptest).
func TestConformanceNative(t *testing.T) {
	for _, c := range keeptest.Cases {
		t.Run(c.ID+"/"+c.Name, func(t *testing.T) {
			c.Run(t, keeptest.New(t, keep.New()))
		})
	}
}
