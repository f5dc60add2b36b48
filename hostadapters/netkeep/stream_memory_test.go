package netkeep

import (
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
)

func heapNow() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// The memory a stream may hold is capped and returned: 100 peers each
// holding an unfinished 30 KB header cost at most the framer's cap apiece;
// sending on past the header limit (250 KB, which once held ~520 KB per
// connection, never returned) gets each stream refused and closed, and the
// memory comes back.
func TestStreamMemoryCappedAndReleased(t *testing.T) {
	const peers = 100
	k := New()
	k.Attach(newFakeHandler())
	l := k.WrapListener(listenTCP(t, "127.0.0.1"))
	go func() {
		for {
			s, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer s.Close()
				buf := make([]byte, 4096)
				for {
					if _, err := s.Read(buf); err != nil {
						return
					}
				}
			}()
		}
	}()
	base := heapNow()
	head := reqHead + "X-Long: "
	part1 := head + strings.Repeat("a", 30<<10-len(head))
	var cs []net.Conn
	for range peers {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write([]byte(part1)); err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	// Wait until the servers hold what was sent (the heap has grown by it).
	var held int64
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if held = heapNow() - base; held >= peers*30<<10 {
			break
		}
	}
	perPeer := held / peers
	t.Logf("holding a 30 KB unfinished header: %d B per stream", perPeer)
	if limit := int64(DefaultLimits.Message + 3*smallBuf); perPeer > limit {
		t.Fatalf("%d B per stream, cap %d", perPeer, limit)
	}
	more := []byte(strings.Repeat("a", 250<<10))
	for _, c := range cs {
		_, _ = c.Write(more) // refused after 32 KiB: the write may fail
	}
	for deadline := time.Now().Add(20 * time.Second); k.Stats().FramingErrors < peers; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d streams refused", k.Stats().FramingErrors, peers)
		}
	}
	var after int64
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if after = heapNow() - base; after <= peers*smallBuf {
			break
		}
	}
	t.Logf("after the refusals: %d B per stream", after/peers)
	if after > peers*smallBuf {
		t.Fatalf("%d B still held by %d closed streams", after, peers)
	}
}
