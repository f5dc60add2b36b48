package netkeep

import (
	"bytes"
	"testing"
)

// A frame appended by appendWSFrame parses back to its opcode and payload,
// masked (client) or not (server), at every payload-length encoding.
func TestW5_WSFrameRoundTrip(t *testing.T) {
	mask := [4]byte{1, 2, 3, 4}
	for _, n := range []int{0, 1, 125, 126, 65535, 65536} {
		payload := bytes.Repeat([]byte{'x'}, n)
		for _, m := range []*[4]byte{nil, &mask} {
			b := appendWSFrame(nil, wsOpText, payload, m)
			f, used, err := parseWSFrame(b, m != nil, 1<<20)
			if err != nil || used != len(b) || f.op != wsOpText || !f.fin || !bytes.Equal(f.payload, payload) {
				t.Fatalf("len %d masked %v: used %d of %d, op %d, err %v", n, m != nil, used, len(b), f.op, err)
			}
			// Every proper prefix is "need more bytes", never a frame.
			for i := 0; i < len(b); i += 1 + len(b)/7 {
				if _, used, err := parseWSFrame(append([]byte(nil), b[:i]...), m != nil, 1<<20); used != 0 || err != nil {
					t.Fatalf("prefix %d of %d: used %d err %v", i, len(b), used, err)
				}
			}
		}
	}
}

// A frame over the limit is refused from its header alone.
func TestW5_WSFrameTooBigRefusedFromHeader(t *testing.T) {
	hdr := appendWSFrame(nil, wsOpText, make([]byte, 70000), nil)[:10] // header only
	_, _, err := parseWSFrame(hdr, false, 65535)
	if we, ok := err.(*wsError); !ok || we.code != wsCloseTooBig {
		t.Fatalf("got %v, want close 1009", err)
	}
}

// FuzzParseWSFrame: any bytes parse without panic, consume no more than
// they hold, and a parsed frame re-encodes to the same opcode and payload.
func FuzzParseWSFrame(f *testing.F) {
	f.Add(appendWSFrame(nil, wsOpText, []byte("\r\n\r\n"), &[4]byte{9, 8, 7, 6}), true)
	f.Add(appendWSFrame(nil, wsOpPing, []byte("hi"), nil), false)
	f.Add([]byte{0x81, 0xFF, 0, 0, 0, 0, 0, 0, 0, 5}, true)
	f.Fuzz(func(t *testing.T, b []byte, masked bool) {
		in := append([]byte(nil), b...)
		fr, n, err := parseWSFrame(in, masked, 4096)
		if n < 0 || n > len(b) || (err != nil && n != 0) {
			t.Fatalf("n %d of %d, err %v", n, len(b), err)
		}
		if n == 0 {
			return
		}
		var m *[4]byte
		if masked {
			m = &[4]byte{}
		}
		again, n2, err := parseWSFrame(appendWSFrame(nil, fr.op, fr.payload, m), masked, 4096)
		if err != nil || n2 == 0 || again.op != fr.op || !bytes.Equal(again.payload, fr.payload) {
			t.Fatalf("re-encoded frame: op %d/%d err %v", again.op, fr.op, err)
		}
	})
}
