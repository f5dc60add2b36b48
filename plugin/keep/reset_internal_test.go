package keep

import (
	"testing"
	"unsafe"
)

// TestSendStateReset: reset clears every field (a field added to sendState
// and forgotten in reset fails here).
func TestSendStateReset(t *testing.T) {
	var s sendState
	b := unsafe.Slice((*byte)(unsafe.Pointer(&s)), unsafe.Sizeof(s))
	for i := range b {
		b[i] = 0xff
	}
	s.reset()
	if s != (sendState{}) {
		t.Fatalf("reset left %+v", s)
	}
}
