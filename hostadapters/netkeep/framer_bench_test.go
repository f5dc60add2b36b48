package netkeep

import (
	"strings"
	"testing"
)

// BenchmarkFramerSlowBodyByte is the cost of one 1-byte read of a body
// behind 15,000 folded header lines (the slow-body attack, limits lifted so
// that it runs): what each segment of the attack costs the reader.
func BenchmarkFramerSlowBodyByte(b *testing.B) {
	head, _ := foldedSlowBody(15000, 1<<30)
	f := newFramer(noLimits, true, true)
	f.feed([]byte(head))
	if it, _, err := f.next(false, false); it != itemNone || err != nil {
		b.Fatal(it, err)
	}
	one := []byte("x")
	b.SetBytes(1)
	b.ResetTimer()
	for range b.N {
		f.feed(one)
		if it, _, err := f.next(false, false); it != itemNone || err != nil {
			b.Fatal(it, err)
		}
	}
}

// BenchmarkFramerRegisters frames a stream of ordinary ~600-byte REGISTERs
// arriving in 1,460-byte segments: the cost on well-behaved traffic.
func BenchmarkFramerRegisters(b *testing.B) {
	msg := reqHead + "Contact: <sip:a@192.0.2.1:5060;transport=tcp>;expires=3600\r\n" +
		"Max-Forwards: 70\r\nUser-Agent: bench\r\nSupported: outbound, path\r\n" +
		"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER\r\n" + strings.Repeat("X-Pad: padding padding padding\r\n", 8) +
		"Content-Length: 0\r\n\r\n"
	stream := []byte(strings.Repeat(msg, 64))
	f := newFramer(Limits{}, true, true)
	b.SetBytes(int64(len(stream)))
	b.ResetTimer()
	for range b.N {
		n := 0
		for i := 0; i < len(stream); i += 1460 {
			f.feed(stream[i:min(i+1460, len(stream))])
			for {
				it, _, err := f.next(false, false)
				if err != nil {
					b.Fatal(err)
				}
				if it == itemNone {
					break
				}
				n++
			}
		}
		if n != 64 {
			b.Fatal(n)
		}
	}
}
