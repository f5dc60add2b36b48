package keep

import (
	"bytes"
	"testing"
)

// TestRecordBindingsInPlace: bindings kept as their stored bytes survive a
// decode/encode round trip at every count, put finds, replaces and evicts
// in place, and sameAs says "unchanged" exactly when the bytes are.
func TestRecordBindingsInPlace(t *testing.T) {
	for n := 0; n <= maxBindings; n++ {
		var r record
		for i := 0; i < n; i++ {
			r.put(uint64(1000+i), bkRegistration, sideReceiver, 30, uint32(i), int64(5000+i))
		}
		if r.n != n {
			t.Fatalf("%d puts made %d bindings", n, r.n)
		}
		in := make([]byte, r.size())
		r.encode(in)

		var d record
		if !d.decode(in) {
			t.Fatalf("n=%d: own encoding refused", n)
		}
		out := make([]byte, d.size())
		d.encode(out)
		if !bytes.Equal(in, out) || !d.sameAs(out, in) {
			t.Fatalf("n=%d: round trip changed the record", n)
		}
		if n == 0 {
			continue
		}
		// The same binding again (a retransmitted 200): unchanged.
		last := n - 1
		d.put(uint64(1000+last), bkRegistration, sideReceiver, 30, uint32(last), int64(5000+last))
		d.encode(out)
		if d.n != n || !d.sameAs(out, in) {
			t.Fatalf("n=%d: putting an existing binding unchanged reported a change", n)
		}
		// A refresh moves its expiry: changed, in place.
		d.put(uint64(1000+last), bkRegistration, sideReceiver, 30, uint32(last), 9999)
		out = out[:d.size()]
		d.encode(out)
		if d.n != n || d.sameAs(out, in) || d.at(last).expires() != 9999 {
			t.Fatalf("n=%d: a refresh was not applied in place", n)
		}
		if n == maxBindings {
			// Full: a new binding evicts the first to expire (key 1000).
			d.put(7, bkDialog, sideReceiver, 30, 1, 6000)
			if d.n != maxBindings || d.find(1000, bkRegistration, sideReceiver) >= 0 || d.find(7, bkDialog, sideReceiver) != 0 {
				t.Fatalf("full record: the earliest expiry was not the one evicted")
			}
		}
		// Removing one shifts the rest down and changes the record.
		var e record
		e.decode(in)
		e.remove(0)
		if e.n != n-1 || (n > 1 && e.at(0).key() != 1001) {
			t.Fatalf("n=%d: remove(0) left %d bindings, first key %d", n, e.n, e.at(0).key())
		}
		out = out[:e.size()]
		e.encode(out)
		if e.sameAs(out, in) {
			t.Fatalf("n=%d: a removal reported no change", n)
		}
	}
}
