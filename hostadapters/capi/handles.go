package main

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/sipkeep/sipkeep/host"
)

// A handle is the C side's name for one *host.Host. Handles are never reused
// within a process, so a stale handle fails cleanly instead of reaching
// another host.
var (
	handles    sync.Map // int64 -> *host.Host
	lastHandle atomic.Int64
)

func register(h *host.Host) int64 {
	id := lastHandle.Add(1)
	handles.Store(id, h)
	return id
}

func lookup(id int64) (*host.Host, bool) {
	v, ok := handles.Load(id)
	if !ok {
		return nil, false
	}
	return v.(*host.Host), true
}

func release(id int64) {
	if v, ok := handles.LoadAndDelete(id); ok {
		_ = v.(*host.Host).Close(context.Background())
	}
}
