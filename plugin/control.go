//go:build wasip1

package main

import (
	"context"

	"github.com/sipkeep/sipkeep/abi/proto"
	"github.com/sipkeep/sipkeep/plugin/keep"
)

// control serves the go-plugin typed calls on this instance.
type control struct{ p *keep.Plugin }

func (c control) Configure(ctx context.Context, req *proto.ConfigureRequest) (*proto.ConfigureReply, error) {
	defer gosched()
	return keep.ConfigureFromProto(c.p, req), nil
}

func (c control) Describe(ctx context.Context, _ *proto.DescribeRequest) (*proto.DescribeReply, error) {
	defer gosched()
	return keep.Describe(), nil
}

func (c control) Stats(ctx context.Context, _ *proto.StatsRequest) (*proto.StatsReply, error) {
	defer gosched()
	return c.p.StatsProto(), nil
}
