package hosttest

import (
	"sync"

	"github.com/sipkeep/sipkeep/host"
)

// store is the host's Store in the kit: a map that remembers what the last
// call did to the record, so Guest can report it the way a guest's output
// does (record changed, record deleted, or untouched).
type store struct {
	mu      sync.Mutex
	recs    map[host.Flow][]byte
	put     bool
	deleted bool
}

func newStore() *store { return &store{recs: map[host.Flow][]byte{}} }

func (s *store) Lock(host.Flow) func() { s.mu.Lock(); return s.mu.Unlock }

func (s *store) Get(f host.Flow, dst []byte) ([]byte, bool) {
	r, ok := s.recs[f]
	return append(dst, r...), ok
}

func (s *store) Put(f host.Flow, rec []byte) {
	s.recs[f] = append([]byte(nil), rec...)
	s.put, s.deleted = true, false
}

func (s *store) Delete(f host.Flow) {
	delete(s.recs, f)
	s.put, s.deleted = false, true
}

func (s *store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.recs)
}

// load makes the stored record of f rec (none when empty), as the harness
// holds it, and clears the last-call marks.
func (s *store) load(f host.Flow, rec []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(rec) == 0 {
		delete(s.recs, f)
	} else {
		s.recs[f] = append([]byte(nil), rec...)
	}
	s.put, s.deleted = false, false
}

// last reports what the last call did and the record it left.
func (s *store) last(f host.Flow) (rec []byte, put, deleted bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recs[f], s.put, s.deleted
}
