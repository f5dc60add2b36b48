package netkeep

import (
	"strconv"
	"strings"
	"testing"
)

// foldedSlowBody is the attack that made the framer's cost grow with the
// square of the header lines: a REGISTER with one header folded over lines
// continuation lines, Content-Length: body, the body to come one byte at a
// time.
func foldedSlowBody(lines, body int) (head, rest string) {
	var b strings.Builder
	b.WriteString(reqHead)
	b.WriteString("X-Fold: a\r\n")
	for range lines {
		b.WriteString(" a\r\n")
	}
	b.WriteString("Content-Length: ")
	b.WriteString(strconv.Itoa(body))
	b.WriteString("\r\n\r\n")
	return b.String(), strings.Repeat("x", body)
}

// noLimits lets the attack run to its end: the parse cost is the subject
// here, the limits are tested apart.
var noLimits = Limits{Message: -1, Header: -1, Lines: -1, Folds: -1}

// workPerByte frames head in pieces of headChunk bytes, then rest one byte
// per read, and returns the framer's work per byte received.
func workPerByte(t *testing.T, head, rest string, headChunk int) float64 {
	t.Helper()
	f := newFramer(noLimits, true, true)
	msgs := 0
	step := func(p string) {
		f.feed([]byte(p))
		for {
			it, _, err := f.next(false, false)
			if err != nil {
				t.Fatal(err)
			}
			if it == itemNone {
				return
			}
			msgs++
		}
	}
	for i := 0; i < len(head); i += headChunk {
		step(head[i:min(i+headChunk, len(head))])
	}
	for i := range len(rest) {
		step(rest[i : i+1])
	}
	if msgs != 1 {
		t.Fatalf("%d messages, want 1", msgs)
	}
	return float64(f.work) / float64(len(head)+len(rest))
}

// The folded-header slow-body attack (15,000 folded lines under one header,
// Content-Length: 5000, then the body one byte per read) costs a bounded
// number of bytes of work per byte received: each header line is scanned
// once, however the bytes arrive. (The framer this replaced re-scanned the
// headers and re-joined the folded value on every read: measured the same
// way, each 1-byte body read cost it ~225 MB of work, ~78,000 bytes per byte
// received over the headers and the first 20 body bytes.)
func TestFramerWorkLinearUnderFoldedSlowBody(t *testing.T) {
	head, rest := foldedSlowBody(15000, 5000)
	for _, chunk := range []int{len(head), 1460, 1} {
		if w := workPerByte(t, head, rest, chunk); w > 4 {
			t.Errorf("headers in %d-byte reads: %.1f bytes of work per byte received, want <= 4", chunk, w)
		} else {
			t.Logf("headers in %d-byte reads: %.2f bytes of work per byte received", chunk, w)
		}
	}
}
