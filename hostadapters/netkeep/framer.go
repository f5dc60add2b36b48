package netkeep

import (
	"bytes"
	"errors"
	"fmt"
)

// ErrFraming reports a stream that cannot be split into SIP messages (a
// Content-Length that is not a number, or a message larger than the limit).
// There is no boundary to resynchronise on, so the connection must end.
var ErrFraming = errors.New("netkeep: SIP stream framing error")

// item is what the framer found at the head of its buffer.
type item uint8

const (
	itemNone    item = iota // need more bytes
	itemMessage             // a whole SIP message (headers and body)
	itemPing                // CRLFCRLF at a message boundary
	itemPong                // a lone CRLF at a message boundary
)

// framer splits a SIP byte stream into messages and keep-alives (RFC 5626
// §3.5.1, K6): CRLFs are consumed only at a message boundary, never inside a
// message, and a message is its headers up to the blank line plus
// Content-Length bytes of body. It does no I/O, so it can be fuzzed alone.
type framer struct {
	buf []byte
	max int
}

func (f *framer) feed(p []byte) { f.buf = append(f.buf, p...) }

// buffered reports how many bytes wait for more input.
func (f *framer) buffered() int { return len(f.buf) }

// next takes the next item off the buffer. msg is a copy for itemMessage.
//
// pongFirst: a ping of ours is outstanding, so the first CRLF at a boundary is
// its pong even when another CRLF follows. eager: do not wait for the second
// half of a possible ping; emit a trailing lone CRLF as a pong now (the write
// side, and a reader that expects a pong).
func (f *framer) next(pongFirst, eager bool) (it item, msg []byte, err error) {
	b := f.buf
	if len(b) == 0 {
		return itemNone, nil, nil
	}
	if b[0] == '\r' {
		switch {
		case len(b) == 1:
			return itemNone, nil, nil
		case b[1] != '\n':
			// Not a CRLF: the start of a (malformed) message; the SIP
			// parser above us will reject it.
		case pongFirst:
			f.consume(2)
			return itemPong, nil, nil
		case len(b) >= 4 && b[2] == '\r' && b[3] == '\n':
			f.consume(4)
			return itemPing, nil, nil
		case len(b) == 2 || (len(b) == 3 && b[2] == '\r'):
			// Maybe the first half of a ping split across reads.
			if eager {
				f.consume(2)
				return itemPong, nil, nil
			}
			return itemNone, nil, nil
		default:
			// CRLF followed by something else: a lone CRLF (a pong or a
			// stray keep-alive), never part of the next message.
			f.consume(2)
			return itemPong, nil, nil
		}
	}
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		if len(b) > f.limit() {
			return itemNone, nil, fmt.Errorf("%w: no end of headers within %d bytes", ErrFraming, f.limit())
		}
		return itemNone, nil, nil
	}
	head := end + 4
	cl, _, bad := contentLength(b[:head], f.limit())
	if bad {
		return itemNone, nil, fmt.Errorf("%w: bad Content-Length", ErrFraming)
	}
	total := head + cl
	if total > f.limit() {
		return itemNone, nil, fmt.Errorf("%w: message of %d bytes exceeds %d", ErrFraming, total, f.limit())
	}
	if len(b) < total {
		return itemNone, nil, nil
	}
	msg = append([]byte(nil), b[:total]...)
	f.consume(total)
	return itemMessage, msg, nil
}

func (f *framer) limit() int {
	if f.max <= 0 {
		return 256 << 10
	}
	return f.max
}

// consume drops n bytes from the head, keeping the buffer's backing array
// small once it is drained.
func (f *framer) consume(n int) {
	f.buf = f.buf[n:]
	if len(f.buf) == 0 {
		f.buf = f.buf[:0:0]
	}
}
