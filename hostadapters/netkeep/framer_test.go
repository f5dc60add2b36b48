package netkeep

import (
	"bytes"
	"testing"
)

// fuzzLimits are small, so that fuzzing reaches every limit.
var fuzzLimits = Limits{Message: 4096, Header: 1024, Lines: 16, Folds: 4}

// runFramer feeds data in chunks (sizes from splits) the way the read side
// does and returns the messages, the keep-alive bytes consumed, the pings
// (each of which the stream answers with exactly one pong) and what is left.
func runFramer(data, splits []byte) (msgs [][]byte, consumed []byte, pings int, rest []byte, err error) {
	f := newFramer(fuzzLimits, true, true)
	for len(data) > 0 {
		n := len(data)
		if len(splits) > 0 {
			n = int(splits[0])%len(data) + 1
			splits = splits[1:]
		}
		f.feed(data[:n])
		data = data[n:]
		for {
			it, msg, ferr := f.next(false, false)
			if ferr != nil {
				return msgs, consumed, pings, append(f.store[f.r:f.w:f.w], data...), ferr
			}
			if it == itemNone {
				break
			}
			switch it {
			case itemMessage:
				msgs = append(msgs, msg)
				consumed = append(consumed, msg...)
			case itemPing:
				pings++
				consumed = append(consumed, crlfcrlf...)
			case itemPong:
				consumed = append(consumed, crlf...)
			}
		}
	}
	return msgs, consumed, pings, f.store[f.r:f.w], nil
}

// FuzzFramer: the framer never panics, never loses or invents bytes (what it
// consumed plus what it holds is the input), every message it emits is whole
// (ends its headers, starts with no CRLF), and however the input is cut it
// finds exactly what it finds in one piece: the same messages, the same
// pings, an error or not.
func FuzzFramer(f *testing.F) {
	m := []byte(sipRequest("MESSAGE", "hi\r\n\r\n"))
	f.Add(append(append([]byte("\r\n\r\n"), m...), "\r\n\r\n\r\n"...), []byte{0, 3, 1, 40})
	f.Add([]byte("\r\n\r\n\r\n\r\n"), []byte{0, 0, 0, 0})
	f.Add([]byte("OPTIONS sip:x SIP/2.0\r\nl: 2\r\n\r\nab\r\nINVITE x SIP/2.0\r\n\r\n"), []byte{5})
	f.Add([]byte("A\r\nContent-Length: 9999999\r\n\r\n"), []byte{})
	f.Add([]byte("OPTIONS sip:x SIP/2.0\r\nX: a\r\n b\r\n\tc\r\nContent-Length:\r\n 1\r\n\r\nz"), []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, data, splits []byte) {
		msgs, consumed, pings, rest, err := runFramer(data, splits)
		if !bytes.HasPrefix(data, consumed) || !bytes.Equal(append(append([]byte(nil), consumed...), rest...), data) {
			t.Fatalf("bytes lost or invented: consumed %q rest %q of %q", consumed, rest, data)
		}
		for _, m := range msgs {
			if len(m) == 0 || m[0] == '\r' && len(m) > 1 && m[1] == '\n' || !bytes.Contains(m, crlfcrlf) {
				t.Fatalf("bad message %q", m)
			}
		}
		msgs1, _, pings1, _, err1 := runFramer(data, nil)
		if pings1 != pings || len(msgs1) != len(msgs) || (err == nil) != (err1 == nil) {
			t.Fatalf("the cut changed the result: %d/%d pings, %d/%d messages, error %v/%v", pings, pings1, len(msgs), len(msgs1), err, err1)
		}
		for i := range msgs {
			if !bytes.Equal(msgs[i], msgs1[i]) {
				t.Fatalf("the cut changed message %d: %q / %q", i, msgs[i], msgs1[i])
			}
		}
	})
}

// Well-formed streams: messages interleaved with keep-alives come out exactly.
func TestFramerRoundTrip(t *testing.T) {
	m1 := []byte(sipRequest("REGISTER", ""))
	m2 := []byte(sipRequest("MESSAGE", "x\r\n\r\ny"))
	var in []byte
	in = append(in, "\r\n\r\n"...)
	in = append(in, m1...)
	in = append(in, "\r\n"...)
	in = append(in, m2...)
	in = append(in, "\r\n\r\n"...)
	for split := byte(0); split < 50; split++ {
		msgs, _, pings, rest, err := runFramer(in, bytes.Repeat([]byte{split}, 100))
		if err != nil || len(msgs) != 2 || !bytes.Equal(msgs[0], m1) || !bytes.Equal(msgs[1], m2) || pings != 2 || len(rest) != 0 {
			t.Fatalf("split %d: %d msgs, %d pings, rest %q, err %v", split, len(msgs), pings, rest, err)
		}
	}
}
