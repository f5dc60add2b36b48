package host

import (
	"context"
	"errors"
	"fmt"

	"github.com/tetratelabs/wazero/api"

	"github.com/sipkeep/sipkeep/abi/proto"
)

// wasmControl is a typed go-plugin client over an instance the host already
// runs, so the control plane and the hot-path exports share one instance
// (the generated proto.ControlPlugin.Load would make its own runtime and
// instance). It follows the generated host code's protocol exactly: malloc
// the request, control_<rpc>(ptr, size) -> ptr<<32 | size (bit 31 of size
// marks an error string), free both.
type wasmControl struct {
	in                                      *instance
	malloc, free, configure, describe, stat api.Function
}

var _ proto.Control = (*wasmControl)(nil)

func newWasmControl(in *instance) (*wasmControl, error) {
	m := in.mod
	c := &wasmControl{
		in:        in,
		malloc:    m.ExportedFunction("malloc"),
		free:      m.ExportedFunction("free"),
		configure: m.ExportedFunction("control_configure"),
		describe:  m.ExportedFunction("control_describe"),
		stat:      m.ExportedFunction("control_stats"),
	}
	var v []uint64
	err := in.step(context.Background(), "control_api_version", func(ctx context.Context) (err error) {
		v, err = m.ExportedFunction("control_api_version").Call(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("export control_api_version: call: %w", err)
	}
	if v[0] != proto.ControlPluginAPIVersion {
		return nil, fmt.Errorf("export control_api_version: go-plugin API %d, this host speaks %d", v[0], proto.ControlPluginAPIVersion)
	}
	return c, nil
}

type vtMessage interface {
	MarshalVT() ([]byte, error)
}

type vtReply[T any] interface {
	*T
	UnmarshalVT([]byte) error
}

// typedCall runs one go-plugin RPC on c's instance as one guest step:
// bounded by the init timeout, not the call timeout (the RPCs allocate and
// may meet a guest GC, and on a busy machine a legitimate Configure at load
// time can take longer than a hot-path call's deadline). Any failure kills
// the instance.
func typedCall[R any, PR vtReply[R]](ctx context.Context, c *wasmControl, fn api.Function, req vtMessage) (*R, error) {
	in := c.in
	var rep *R
	err := in.step(ctx, fn.Definition().Name(), func(ctx context.Context) (err error) {
		rep, err = typedCallRaw[R, PR](ctx, c, fn, req)
		return err
	})
	if err != nil {
		in.dead = true
		return nil, err
	}
	return rep, nil
}

func typedCallRaw[R any, PR vtReply[R]](ctx context.Context, c *wasmControl, fn api.Function, req vtMessage) (*R, error) {
	data, err := req.MarshalVT()
	if err != nil {
		return nil, err
	}
	mem := c.in.mod.Memory()
	var ptr uint64
	if len(data) > 0 {
		r, err := c.malloc.Call(ctx, uint64(len(data)))
		if err != nil {
			return nil, fmt.Errorf("malloc: %w", err)
		}
		ptr = r[0]
		defer c.free.Call(ctx, ptr)
		if !mem.Write(uint32(ptr), data) {
			return nil, fmt.Errorf("malloc returned %d, outside memory", ptr)
		}
	}
	r, err := fn.Call(ctx, ptr, uint64(len(data)))
	if err != nil {
		return nil, err
	}
	resPtr, resSize := uint32(r[0]>>32), uint32(r[0])
	isErr := resSize&(1<<31) != 0
	resSize &^= 1 << 31
	if resPtr != 0 {
		defer c.free.Call(ctx, uint64(resPtr))
	}
	b, ok := mem.Read(resPtr, resSize)
	if !ok {
		return nil, fmt.Errorf("reply [%d,+%d) lies outside memory", resPtr, resSize)
	}
	if isErr {
		return nil, errors.New(string(b))
	}
	rep := PR(new(R))
	if err := rep.UnmarshalVT(b); err != nil {
		return nil, fmt.Errorf("decode reply: %w", err)
	}
	return (*R)(rep), nil
}

func (c *wasmControl) Configure(ctx context.Context, req *proto.ConfigureRequest) (*proto.ConfigureReply, error) {
	return typedCall[proto.ConfigureReply](ctx, c, c.configure, req)
}

func (c *wasmControl) Describe(ctx context.Context, req *proto.DescribeRequest) (*proto.DescribeReply, error) {
	return typedCall[proto.DescribeReply](ctx, c, c.describe, req)
}

func (c *wasmControl) Stats(ctx context.Context, req *proto.StatsRequest) (*proto.StatsReply, error) {
	return typedCall[proto.StatsReply](ctx, c, c.stat, req)
}
