package host

import (
	"encoding/binary"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/sipkeep/sipkeep/abi"
)

// flowKey is a Flow packed into 37 bytes without pointers (netip.AddrPort
// carries a zone pointer and padding: 72 bytes as a map key). IPv6 zones
// are not part of the key: two flows that differ only by zone share records.
type flowKey [37]byte

func keyOf(f Flow) (k flowKey) {
	k[0] = byte(f.Transport)
	putAP(k[1:19], f.Local)
	putAP(k[19:37], f.Remote)
	return k
}

func putAP(b []byte, ap netip.AddrPort) {
	a := ap.Addr().As16()
	copy(b[:16], a[:])
	binary.LittleEndian.PutUint16(b[16:], ap.Port())
}

func getAP(b []byte) netip.AddrPort {
	a := netip.AddrFrom16([16]byte(b[:16])).Unmap()
	return netip.AddrPortFrom(a, binary.LittleEndian.Uint16(b[16:]))
}

// flow unpacks k.
func (k *flowKey) flow() Flow {
	return Flow{Transport: abiTransport(k[0]), Local: getAP(k[1:19]), Remote: getAP(k[19:37])}
}

// hash is FNV-1a over the key: cheap, and good enough to spread shards.
func (k *flowKey) hash() uint64 {
	h := uint64(14695981039346656037)
	for _, c := range k {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

const (
	storeShards = 64
	lockStripes = 4096
)

// MemStore is the default Store: flow records in 64 sharded maps keyed by a
// packed flow, and 4096 striped locks instead of a mutex per flow, so an
// idle flow costs one map entry and its record bytes.
type MemStore struct {
	shards [storeShards]memShard
	locks  [lockStripes]lockStripe
	n      atomic.Int64
}

type memShard struct {
	mu sync.Mutex
	m  map[flowKey][]byte
	_  [40]byte // keep shards on separate cache lines
}

type lockStripe struct {
	mu     sync.Mutex
	unlock func() // bound once: Lock returns it without allocating
}

var _ Store = (*MemStore)(nil)

// NewMemStore returns an empty in-memory store.
func NewMemStore() *MemStore {
	s := &MemStore{}
	for i := range s.shards {
		s.shards[i].m = make(map[flowKey][]byte)
	}
	for i := range s.locks {
		s.locks[i].unlock = s.locks[i].mu.Unlock
	}
	return s
}

func (s *MemStore) shard(k *flowKey) (*memShard, uint64) {
	h := k.hash()
	return &s.shards[h%storeShards], h
}

// Lock implements Store. Flows that hash to one stripe serialise together,
// which is harmless: a call holds it for microseconds.
func (s *MemStore) Lock(f Flow) func() {
	k := keyOf(f)
	l := &s.locks[(k.hash()>>8)%lockStripes]
	l.mu.Lock()
	return l.unlock
}

// Get implements Store.
func (s *MemStore) Get(f Flow, dst []byte) ([]byte, bool) {
	k := keyOf(f)
	sh, _ := s.shard(&k)
	sh.mu.Lock()
	rec, ok := sh.m[k]
	if ok {
		dst = append(dst, rec...)
	}
	sh.mu.Unlock()
	return dst, ok
}

// Put implements Store; the record's previous backing array is reused when
// it is large enough.
func (s *MemStore) Put(f Flow, rec []byte) {
	k := keyOf(f)
	sh, _ := s.shard(&k)
	sh.mu.Lock()
	old, ok := sh.m[k]
	if ok && cap(old) >= len(rec) {
		sh.m[k] = append(old[:0], rec...)
	} else {
		sh.m[k] = append(make([]byte, 0, len(rec)), rec...)
	}
	sh.mu.Unlock()
	if !ok {
		s.n.Add(1)
	}
}

// Delete implements Store.
func (s *MemStore) Delete(f Flow) {
	k := keyOf(f)
	sh, _ := s.shard(&k)
	sh.mu.Lock()
	_, ok := sh.m[k]
	delete(sh.m, k)
	sh.mu.Unlock()
	if ok {
		s.n.Add(-1)
	}
}

// Len implements Store.
func (s *MemStore) Len() int { return int(s.n.Load()) }

func abiTransport(b byte) abi.Transport { return abi.Transport(b) }
