package hosttest

import (
	"context"
	"log/slog"
	"testing"

	"github.com/sipkeep/sipkeep/host"
	"github.com/sipkeep/sipkeep/plugin/keeptest"
)

// Run runs every conformance case through a host.Host built with opts
// (which name the plugin: WithModuleFile, WithModuleBytes or
// WithNativeGuest) plus the kit's own (Guest.Options). The host is built
// once (compiling a module is the slow part); each case starts with an
// empty Store and the default policy. A call that fails open fails the case.
func Run(t *testing.T, opts ...host.Option) {
	t.Helper()
	g := NewGuest()
	all := append([]host.Option{host.WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	h, err := host.New(context.Background(), append(all, g.Options()...)...)
	if err != nil {
		t.Fatalf("host.New: %v", err)
	}
	defer h.Close(context.Background())
	g.Attach(h)
	for _, c := range keeptest.Cases {
		t.Run(c.ID+"/"+c.Name, func(t *testing.T) {
			g.reset()
			c.Run(t, keeptest.New(t, g))
			for _, err := range g.Failures() {
				t.Errorf("host failed open: %v", err)
			}
		})
	}
}
