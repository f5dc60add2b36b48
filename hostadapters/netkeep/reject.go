package netkeep

import (
	"strconv"

	"github.com/sipkeep/sipkeep/internal/asciifold"
)

// errorResponse builds the answer to a request the framer refused (400, or
// 513 Message Too Large, RFC 3261 §21.5.14), when one can be built: the
// message is a request other than ACK and its Via, From, To, Call-ID and
// CSeq fields were parsed whole before the error (RFC 3261 §8.2.6.2 copies
// them). nil otherwise: the stream is closed without an answer.
func (f *framer) errorResponse(e *frameError) []byte {
	if e == nil || e.status == 0 || f.st == stBoundary || !f.request || f.ack {
		return nil
	}
	var first [nKinds]int
	for i := range first {
		first[i] = -1
	}
	for i, s := range f.spans {
		if first[s.kind] < 0 {
			first[s.kind] = i
		}
	}
	for _, k := range []hkind{hVia, hFrom, hTo, hCallID, hCSeq} {
		if first[k] < 0 {
			return nil
		}
	}
	b := f.store[f.r:f.w]
	out := make([]byte, 0, 256)
	out = append(out, "SIP/2.0 "...)
	out = strconv.AppendInt(out, int64(e.status), 10)
	out = append(out, ' ')
	out = append(out, e.reason...)
	out = append(out, "\r\n"...)
	for _, s := range f.spans {
		if s.kind == hVia {
			out = append(out, b[s.start:s.end]...)
		}
	}
	for _, k := range []hkind{hFrom, hTo, hCallID, hCSeq} {
		field := b[f.spans[first[k]].start:f.spans[first[k]].end]
		if k == hTo && !asciifold.Contains(field, ";tag=") {
			// The UAS adds a To tag to its response (§8.2.6.2).
			out = append(out, field[:len(field)-2]...)
			out = append(out, ";tag=sipkeep-reject\r\n"...)
			continue
		}
		out = append(out, field...)
	}
	return append(out, "Content-Length: 0\r\n\r\n"...)
}
