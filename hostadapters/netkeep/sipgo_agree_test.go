package netkeep

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// sipgoReads feeds msgs to sipgo's stream parser the way sipgo reads a
// netkeep stream (one message per Read, at most sip.TransportBufferReadSize
// bytes, cut as Conn.Read cuts) and returns how many bytes each message
// sipgo parsed took, stopping at sipgo's first error.
func sipgoReads(msgs []framed) (lens []int, err error) {
	ps := sip.NewParser().NewSIPStream()
	defer ps.Close()
	room := int(sip.TransportBufferReadSize)
	for _, m := range msgs {
		for len(m.msg) > 0 {
			n := cut(room, m)
			_, _ = ps.Write(m.msg[:n])
			m.msg, m.head = m.msg[n:], m.head-n
			for ps.Buffer().Len() > 0 {
				_, took, perr := ps.ParseNext()
				if errors.Is(perr, io.ErrUnexpectedEOF) {
					break
				}
				if perr != nil {
					return lens, perr
				}
				lens = append(lens, took)
			}
		}
	}
	if ps.Buffer().Len() > 0 {
		return lens, io.ErrUnexpectedEOF
	}
	return lens, nil
}

// FuzzFramerAgreesWithSipgo: every message the framer emits is, for sipgo,
// exactly one message of exactly those bytes, or a message sipgo refuses
// (it then closes the stream: nothing after it is read). sipgo never finds
// a boundary elsewhere: no message hidden in another's body, none cut short,
// none waiting for bytes the framer gave the next message.
func FuzzFramerAgreesWithSipgo(f *testing.F) {
	reg := "REGISTER sip:x SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nCall-ID: 1\r\nCSeq: 1 REGISTER\r\n"
	for _, s := range []string{
		reg + "Content-Length: 0\r\n\r\n",
		reg + "Content-Length: 50\r\nl: 0\r\n\r\n" + reg + "l: 0\r\n\r\n",
		reg + "l: 0\r\nContent-Length: 50\r\n\r\n" + reg + "l: 0\r\n\r\n",
		"\x00\x00\x00\x00" + reg + "l: 0\r\n\r\n",
		reg + "X: a\r\n l: 5\r\nl: 0\r\n\r\n",
		reg + "Content-Length:\r\n 5\r\n\r\nabcde",
		reg + "\vl: 5\r\nl: 0\r\n\r\nabcde",
		reg + "X: a\rl: 5\r\nl: 0\r\n\r\nabcde",
		"\r\n\r\n" + reg + "l: 2\r\n\r\nab\r\n" + reg + "l: 0\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr := newFramer(Limits{}, true, true)
		fr.feed(data)
		var msgs []framed
		for {
			it, msg, err := fr.next(false, false)
			if err != nil || it == itemNone {
				break
			}
			if it == itemMessage {
				msgs = append(msgs, framed{msg, fr.lastHead})
			}
		}
		lens, err := sipgoReads(msgs)
		for i, n := range lens {
			if n != len(msgs[i].msg) {
				t.Fatalf("message %d: netkeep framed %d bytes, sipgo %d: %q", i, len(msgs[i].msg), n, msgs[i].msg)
			}
		}
		if err == nil && len(lens) != len(msgs) {
			t.Fatalf("sipgo found %d messages in netkeep's %d", len(lens), len(msgs))
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("sipgo waits for more bytes after netkeep's message %d: %q", len(lens), bytes.Join(func() [][]byte {
				var b [][]byte
				for _, m := range msgs {
					b = append(b, m.msg)
				}
				return b
			}(), nil))
		}
	})
}
