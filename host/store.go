package host

import (
	"encoding/binary"
	"hash/maphash"
	"math"
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

var keySeed = maphash.MakeSeed()

// hash is the runtime's seeded hash of the key (AES-based where the CPU has
// it): the low bits pick the shard, the rest the slot in its index.
func (k *flowKey) hash() uint64 { return maphash.Bytes(keySeed, k[:]) }

const (
	storeShards = 64
	lockStripes = 4096
)

// MemStore is the default Store. Flow records live in 64 shards; a shard
// holds its flows in a slab of fixed 48-byte entries (the packed key, where
// the record is, the timer's heap position), finds them through an
// open-addressing index of 4-byte slot numbers, and keeps the record bytes
// in size-class arenas (8-byte steps for small records). Nothing per flow
// is a Go pointer, a map entry or an allocation of its own: an idle flow
// with a 40-byte record and a pending timer costs about 120 bytes of heap,
// and the GC has no per-flow object to scan. Flow locks are 4096 striped
// mutexes, not one per flow.
//
// A Host that made its MemStore (or is handed one no other Host uses)
// keeps the flows' timers in it as well: a per-shard min-heap of 16-byte
// items pointing at entries, the entry holding its heap position, so a
// timer needs no index of its own. Such timers go with the flow's record:
// Delete drops both.
//
// Memory is reused, not returned: a shard's slabs and arenas stay at their
// high-water mark (as Go maps do).
type MemStore struct {
	shards [storeShards]memShard
	locks  [lockStripes]lockStripe
	n      atomic.Int64
	timers atomic.Int64 // pending timers over all shards
	owned  atomic.Bool  // a Host's scheduler keeps its timers here
}

type memShard struct {
	mu    sync.Mutex
	index []uint32  // linear probing; entry number + 1, 0 = empty; len is a power of 2
	used  int       // entries live
	ents  [][]entry // entChunk entries each
	nents uint32    // entries ever handed out (high water)
	free  []uint32  // freed entry numbers
	arena [numClasses]classArena
	heap  []slotTimer
	next  atomic.Int64 // heap[0].when, math.MaxInt64 when the heap is empty
	_     [64]byte     // keep shards' hot fields on separate cache lines
}

// entry is one flow: 48 bytes, no pointers.
type entry struct {
	key  flowKey // 37
	cls  uint8   // the record's size class; 0: empty record
	rlen uint16  // record length
	rec  uint32  // slot in arena[cls]
	hpos int32   // position in the shard's timer heap; -1: no timer
}

// slotTimer is a timer heap item: the deadline (Unix ms) and the entry.
type slotTimer struct {
	when int64
	ent  uint32
}

const entChunk = 256 // 12 KiB slabs: growth never copies the entries

type lockStripe struct {
	mu     sync.Mutex
	unlock func() // bound once: Lock returns it without allocating
}

var _ Store = (*MemStore)(nil)

// NewMemStore returns an empty in-memory store.
func NewMemStore() *MemStore {
	s := &MemStore{}
	for i := range s.shards {
		s.shards[i].next.Store(math.MaxInt64)
	}
	for i := range s.locks {
		s.locks[i].unlock = s.locks[i].mu.Unlock
	}
	return s
}

func (s *MemStore) shard(k *flowKey) (*memShard, uint64) {
	h := k.hash()
	return &s.shards[h%storeShards], h / storeShards
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
	sh, h := s.shard(&k)
	sh.mu.Lock()
	e, _ := sh.find(&k, h)
	if e >= 0 {
		en := sh.ent(uint32(e))
		if en.cls != 0 {
			dst = append(dst, sh.arena[en.cls].slot(en.cls, en.rec)[:en.rlen]...)
		}
	}
	sh.mu.Unlock()
	return dst, e >= 0
}

// Put implements Store. The record's slot is reused while its size class
// stays the same.
func (s *MemStore) Put(f Flow, rec []byte) {
	if len(rec) > abi.MaxRecord {
		panic("sipkeep host: MemStore.Put: record exceeds abi.MaxRecord")
	}
	k := keyOf(f)
	sh, h := s.shard(&k)
	sh.mu.Lock()
	e, pos := sh.find(&k, h)
	added := e < 0
	if added {
		e = int64(sh.insert(&k, pos))
	}
	en := sh.ent(uint32(e))
	c := classOf(len(rec))
	if en.cls != c {
		if en.cls != 0 {
			sh.arena[en.cls].release(en.rec)
		}
		en.cls = c
		if c != 0 {
			en.rec = sh.arena[c].alloc(c)
		}
	}
	if c != 0 {
		copy(sh.arena[c].slot(c, en.rec), rec)
	}
	en.rlen = uint16(len(rec))
	sh.mu.Unlock()
	if added {
		s.n.Add(1)
	}
}

// Delete implements Store; the flow's timer, if the store keeps it, goes too.
func (s *MemStore) Delete(f Flow) {
	k := keyOf(f)
	sh, h := s.shard(&k)
	sh.mu.Lock()
	e, pos := sh.find(&k, h)
	if e >= 0 {
		en := sh.ent(uint32(e))
		if en.hpos >= 0 {
			sh.heapRemove(int(en.hpos))
			s.timers.Add(-1)
		}
		if en.cls != 0 {
			sh.arena[en.cls].release(en.rec)
		}
		*en = entry{}
		sh.remove(pos)
		sh.free = append(sh.free, uint32(e))
		sh.used--
	}
	sh.mu.Unlock()
	if e >= 0 {
		s.n.Add(-1)
	}
}

// Len implements Store.
func (s *MemStore) Len() int { return int(s.n.Load()) }

func abiTransport(b byte) abi.Transport { return abi.Transport(b) }

// Shard internals; the caller holds sh.mu.

func (sh *memShard) ent(e uint32) *entry { return &sh.ents[e/entChunk][e%entChunk] }

// find returns the key's entry number, or -1 and the empty index position
// where it would go.
func (sh *memShard) find(k *flowKey, h uint64) (int64, int) {
	if len(sh.index) == 0 {
		return -1, -1
	}
	mask := uint64(len(sh.index) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		v := sh.index[i]
		if v == 0 {
			return -1, int(i)
		}
		if sh.ent(v-1).key == *k {
			return int64(v - 1), int(i)
		}
	}
}

// insert adds an entry for k at index position pos (from find).
func (sh *memShard) insert(k *flowKey, pos int) uint32 {
	var e uint32
	if n := len(sh.free); n > 0 {
		e = sh.free[n-1]
		sh.free = sh.free[:n-1]
	} else {
		e = sh.nents
		sh.nents++
		if int(e/entChunk) == len(sh.ents) {
			sh.ents = append(sh.ents, make([]entry, entChunk))
		}
	}
	*sh.ent(e) = entry{key: *k, hpos: -1}
	sh.used++
	if pos < 0 || (sh.used)*4 > len(sh.index)*3 {
		sh.grow()
		_, pos = sh.find(k, k.hash()/storeShards)
	}
	sh.index[pos] = e + 1
	return e
}

// grow doubles the index (load factor <= 3/4) and re-places every entry.
func (sh *memShard) grow() {
	old := sh.index
	sh.index = make([]uint32, max(16, 2*len(old)))
	mask := uint64(len(sh.index) - 1)
	for _, v := range old {
		if v == 0 {
			continue
		}
		i := sh.ent(v-1).key.hash() / storeShards & mask
		for sh.index[i] != 0 {
			i = (i + 1) & mask
		}
		sh.index[i] = v
	}
}

// remove empties index position i and shifts the following run back so
// every key stays reachable from its home position (no tombstones).
func (sh *memShard) remove(i int) {
	mask := len(sh.index) - 1
	sh.index[i] = 0
	for j := (i + 1) & mask; sh.index[j] != 0; j = (j + 1) & mask {
		v := sh.index[j]
		home := int(sh.ent(v-1).key.hash() / storeShards & uint64(mask))
		// v may move to i unless its home lies cyclically in (i, j].
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			sh.index[i] = v
			sh.index[j] = 0
			i = j
		}
	}
}

// Record arenas: one per size class per shard, in chunks of about 8 KiB.

const (
	numClasses = 35 // 0 (empty) + 34 sizes
	chunkBytes = 8192
)

var (
	classSize [numClasses]uint16
	classPer  [numClasses]uint32         // slots per chunk
	sizeToCls [abi.MaxRecord/8 + 1]uint8 // by (len+7)/8
)

func init() {
	c := 1
	add := func(from, to, step int) {
		for s := from; s <= to; s += step {
			classSize[c] = uint16(s)
			classPer[c] = uint32(chunkBytes / s)
			c++
		}
	}
	add(8, 128, 8)      // 16 classes: the plugin's records are 84 + 26 per binding
	add(144, 256, 16)   // 8
	add(320, 512, 64)   // 4
	add(768, 2048, 256) // 6
	if c != numClasses || classSize[c-1] != abi.MaxRecord {
		panic("sipkeep host: record size classes")
	}
	k := 1
	for i := 1; i < len(sizeToCls); i++ {
		for int(classSize[k]) < i*8 {
			k++
		}
		sizeToCls[i] = uint8(k)
	}
}

func classOf(n int) uint8 { return sizeToCls[(n+7)/8] }

type classArena struct {
	chunks [][]byte
	n      uint32   // slots handed out ever
	free   []uint32 // released slots
}

func (a *classArena) alloc(c uint8) uint32 {
	if n := len(a.free); n > 0 {
		s := a.free[n-1]
		a.free = a.free[:n-1]
		return s
	}
	s := a.n
	a.n++
	if int(s/classPer[c]) == len(a.chunks) {
		a.chunks = append(a.chunks, make([]byte, int(classPer[c])*int(classSize[c])))
	}
	return s
}

func (a *classArena) release(s uint32) { a.free = append(a.free, s) }

func (a *classArena) slot(c uint8, s uint32) []byte {
	per, size := classPer[c], uint32(classSize[c])
	off := s % per * size
	return a.chunks[s/per][off : off+size : off+size]
}

// The store as the timers' schedule (timers.go): per-shard heaps.

// claimTimers makes s the schedule of one Host's timers; false if another
// Host's timers already live here.
func (s *MemStore) claimTimers() bool { return s.owned.CompareAndSwap(false, true) }

func (s *MemStore) releaseTimers() { s.owned.Store(false) }

func (s *MemStore) set(key flowKey, when int64) bool {
	k := &key
	sh := &s.shards[k.hash()%storeShards]
	h := k.hash() / storeShards
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, _ := sh.find(k, h)
	if e < 0 {
		return false // no record, no timer: the host always stores first
	}
	en := sh.ent(uint32(e))
	if en.hpos >= 0 {
		i := int(en.hpos)
		old := sh.heap[i].when
		sh.heap[i].when = when
		if when < old {
			sh.up(i)
		} else {
			sh.down(i)
		}
	} else {
		sh.heap = append(sh.heap, slotTimer{when: when, ent: uint32(e)})
		i := len(sh.heap) - 1
		en.hpos = int32(i)
		sh.up(i)
		s.timers.Add(1)
	}
	first := sh.heap[0].ent == uint32(e)
	sh.next.Store(sh.heap[0].when)
	return first
}

func (s *MemStore) cancel(key flowKey) {
	k := &key
	sh, h := s.shard(k)
	sh.mu.Lock()
	if e, _ := sh.find(k, h); e >= 0 {
		if en := sh.ent(uint32(e)); en.hpos >= 0 {
			sh.heapRemove(int(en.hpos))
			s.timers.Add(-1)
		}
	}
	sh.mu.Unlock()
}

func (s *MemStore) deadline(key flowKey) (int64, bool) {
	k := &key
	sh, h := s.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e, _ := sh.find(k, h); e >= 0 {
		if en := sh.ent(uint32(e)); en.hpos >= 0 {
			return sh.heap[en.hpos].when, true
		}
	}
	return 0, false
}

func (s *MemStore) count() int { return int(s.timers.Load()) }

// due pops up to limit deadlines <= now, starting at shard from (so no
// shard starves), and returns the earliest deadline left.
func (s *MemStore) due(now int64, dst []flowKey, limit int, from int) ([]flowKey, int64) {
	for n := range storeShards {
		sh := &s.shards[(from+n)%storeShards]
		if sh.next.Load() > now {
			continue
		}
		sh.mu.Lock()
		for len(sh.heap) > 0 && sh.heap[0].when <= now && len(dst) < limit {
			dst = append(dst, sh.ent(sh.heap[0].ent).key)
			sh.heapRemove(0)
			s.timers.Add(-1)
		}
		sh.mu.Unlock()
		if len(dst) >= limit {
			break
		}
	}
	next := int64(math.MaxInt64)
	for i := range s.shards {
		next = min(next, s.shards[i].next.Load())
	}
	return dst, next
}

// Heap operations; the caller holds sh.mu.

func (sh *memShard) swap(i, j int) {
	sh.heap[i], sh.heap[j] = sh.heap[j], sh.heap[i]
	sh.ent(sh.heap[i].ent).hpos = int32(i)
	sh.ent(sh.heap[j].ent).hpos = int32(j)
}

func (sh *memShard) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if sh.heap[i].when >= sh.heap[p].when {
			return
		}
		sh.swap(i, p)
		i = p
	}
}

func (sh *memShard) down(i int) {
	n := len(sh.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && sh.heap[r].when < sh.heap[l].when {
			m = r
		}
		if sh.heap[m].when >= sh.heap[i].when {
			return
		}
		sh.swap(i, m)
		i = m
	}
}

func (sh *memShard) heapRemove(i int) {
	last := len(sh.heap) - 1
	sh.ent(sh.heap[i].ent).hpos = -1
	if i != last {
		sh.heap[i] = sh.heap[last]
		sh.ent(sh.heap[i].ent).hpos = int32(i)
	}
	sh.heap = sh.heap[:last]
	if i < last {
		sh.down(i)
		sh.up(i)
	}
	if len(sh.heap) > 0 {
		sh.next.Store(sh.heap[0].when)
	} else {
		sh.next.Store(math.MaxInt64)
	}
}
