package keep

import (
	"context"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/abi/proto"
)

// Native is a fresh plugin compiled into the host, with its control plane:
// a host.NativeGuestFactory. It runs the same logic as the wasm module
// without the sandbox, for tests, and for measuring what wasm costs.
func Native() (abi.Guest, proto.Control) {
	p := New()
	return p, nativeControl{p}
}

// nativeControl serves the typed control-plane calls in process.
type nativeControl struct{ p *Plugin }

func (c nativeControl) Configure(_ context.Context, r *proto.ConfigureRequest) (*proto.ConfigureReply, error) {
	return ConfigureFromProto(c.p, r), nil
}

func (c nativeControl) Describe(context.Context, *proto.DescribeRequest) (*proto.DescribeReply, error) {
	return Describe(), nil
}

func (c nativeControl) Stats(context.Context, *proto.StatsRequest) (*proto.StatsReply, error) {
	return c.p.StatsProto(), nil
}
