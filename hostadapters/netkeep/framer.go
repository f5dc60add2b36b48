package netkeep

import (
	"bytes"
)

// item is what the framer found at the head of its buffer.
type item uint8

const (
	itemNone    item = iota // need more bytes
	itemMessage             // a whole SIP message (headers and body)
	itemPing                // CRLFCRLF at a message boundary
	itemPong                // a lone CRLF at a message boundary
)

// fstate is where the framer is in the message at the head of its buffer.
type fstate uint8

const (
	stBoundary fstate = iota // between messages: keep-alives or a new message
	stStart                  // scanning the start line
	stHeaders                // scanning header lines
	stBody                   // headers parsed; waiting for total bytes
)

// smallBuf is the largest buffer a framer keeps once it is drained: an idle
// stream holds at most this much, whatever its past messages cost.
const smallBuf = 4 << 10

// framer splits a SIP byte stream into messages and keep-alives (RFC 5626
// §3.5.1, K6): CRLFs are consumed only at a message boundary, never inside a
// message, and a message is its headers up to the blank line plus
// Content-Length bytes of body. It does no I/O, so it can be fuzzed alone.
//
// It is incremental: the parse position and what the header lines said so
// far survive between calls, so each byte is examined a bounded number of
// times however the stream is cut (work counts them). It is also strict:
// whatever two SIP parsers could split differently (a duplicate
// Content-Length, a bare CR, NUL, a header line without a name, bytes
// before the start line) is a framing error, so the messages it emits are
// the messages any reader of the same bytes finds (see sipgo_agree_test.go).
type framer struct {
	store []byte
	r, w  int // live bytes are store[r:w]; every offset below is relative to r
	lim   Limits
	// requireCL: a message without Content-Length is an error (streams,
	// RFC 3261 §18.3, §20.14); otherwise it has no body.
	requireCL bool
	// keepSpans: remember where Via, From, To, Call-ID and CSeq are, to
	// answer a rejected request.
	keepSpans bool
	// work counts bytes examined or copied: the parse cost tests assert.
	work int

	st       fstate
	pos      int // start of the line being scanned
	scan     int // where the search for its CR resumes
	lines    int
	folds    int
	cur      hkind // the header field in progress, starting at curStart
	curStart int
	haveCur  bool
	cl       clParser
	clSeen   bool
	clValue  int
	deferred *frameError // found in a header; reported at the end of the headers
	request  bool
	ack      bool
	spans    []span
	head     int // stBody: header length (through the blank line)
	total    int // stBody: message length
	// lastHead is the header length of the message next returned last.
	lastHead int
	// done counts the messages next returned.
	done int
}

// hkind is a header field the framer cares about.
type hkind uint8

const (
	hOther hkind = iota
	hCL
	hVia
	hFrom
	hTo
	hCallID
	hCSeq
	nKinds
)

// span is one header field, its continuation lines and final CRLF included.
type span struct {
	kind       hkind
	start, end int
}

func newFramer(lim Limits, requireCL, keepSpans bool) framer {
	return framer{lim: lim.withDefaults(), requireCL: requireCL, keepSpans: keepSpans}
}

// feed appends p (tests, and the write side).
func (f *framer) feed(p []byte) {
	n := copy(f.space(len(p)), p)
	f.w += n
}

// space returns free buffer of at least min bytes after the live ones; the
// caller fills a prefix and reports it with grew. Growth is capped near the
// message limit: the framer errors before it needs more.
func (f *framer) space(min int) []byte {
	if cap(f.store)-f.w >= min {
		return f.store[f.w:cap(f.store)]
	}
	live := f.w - f.r
	need := live + min
	if f.r > 0 && cap(f.store) >= need {
		copy(f.store, f.store[f.r:f.w])
	} else {
		n := 2 * cap(f.store)
		if c := f.lim.Message + 2*smallBuf; f.lim.Message < maxInt/2 && n > c {
			n = c
		}
		n = max(n, need, smallBuf)
		s := make([]byte, live, n)
		copy(s, f.store[f.r:f.w])
		f.store = s
	}
	f.work += live
	f.r, f.w = 0, live
	return f.store[f.w:cap(f.store)]
}

// grew records n bytes written into the slice space returned.
func (f *framer) grew(n int) { f.w += n }

// inMessage reports whether a message has started but not completed: more
// than a keep-alive's prefix is buffered.
func (f *framer) inMessage() bool {
	if f.st != stBoundary {
		return true
	}
	b := f.store[f.r:f.w]
	return len(b) > 0 && !isCRLFPrefix(b)
}

func isCRLFPrefix(b []byte) bool {
	return len(b) <= 3 && bytes.HasPrefix(crlfcrlf, b)
}

// release drops the buffer (the stream closed).
func (f *framer) release() {
	f.store, f.r, f.w = nil, 0, 0
	f.reset()
}

// next takes the next item off the buffer. msg is a copy for itemMessage.
//
// pongFirst: a ping of ours is outstanding, so the first CRLF at a boundary is
// its pong even when another CRLF follows. eager: do not wait for the second
// half of a possible ping; emit a trailing lone CRLF as a pong now (the write
// side, and a reader that expects a pong).
//
// After an error the framer must not be used again (the stream ends), except
// for errorResponse.
func (f *framer) next(pongFirst, eager bool) (it item, msg []byte, err error) {
	b := f.store[f.r:f.w]
	if f.st == stBoundary {
		if len(b) == 0 {
			return itemNone, nil, nil
		}
		if b[0] == '\r' {
			switch {
			case len(b) == 1:
				return itemNone, nil, nil
			case b[1] != '\n':
				return itemNone, nil, unframeable("CR without LF between messages")
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
		if !isToken[b[0]] {
			// NUL, garbage: no start line begins so (RFC 3261 §7.1), and
			// readers disagree on skipping it.
			return itemNone, nil, unframeable("byte 0x%02x cannot start a SIP message", b[0])
		}
		f.st, f.pos, f.scan = stStart, 0, 0
	}
	if f.st != stBody {
		if ferr := f.parseHead(b); ferr != nil {
			return itemNone, nil, ferr
		}
		if f.st != stBody {
			return itemNone, nil, nil
		}
	}
	if len(b) < f.total {
		return itemNone, nil, nil
	}
	msg = append([]byte(nil), b[:f.total]...)
	f.work += f.total
	f.consume(f.total)
	head, done := f.head, f.done+1
	f.reset()
	f.lastHead, f.done = head, done
	return itemMessage, msg, nil
}

// parseHead scans complete lines from f.scan on, each once.
func (f *framer) parseHead(b []byte) *frameError {
	err := f.parseLines(b)
	if err != nil && f.st == stHeaders && f.pos < len(b) && b[f.pos] != ' ' && b[f.pos] != '\t' {
		// The line in error does not fold onto the field before it, so
		// that field is whole: keep it for the answer.
		f.commit(f.pos)
	}
	return err
}

func (f *framer) parseLines(b []byte) *frameError {
	for {
		i := bytes.IndexByte(b[f.scan:], '\r')
		if i < 0 {
			f.work += len(b) - f.scan
			f.scan = len(b)
			break
		}
		f.work += i + 1
		cr := f.scan + i
		if cr+1 >= len(b) {
			f.scan = cr // the LF has not arrived
			break
		}
		if b[cr+1] != '\n' {
			return badRequest("Bad Request", "CR without LF in the headers at byte %d", cr)
		}
		next := cr + 2
		if ferr := f.onLine(b[f.pos:cr], f.pos, next); ferr != nil {
			return ferr
		}
		f.pos, f.scan = next, next
		if f.st == stBody {
			return nil
		}
	}
	if len(b) > f.lim.Header {
		return tooLarge("no end of headers within %d bytes", f.lim.Header)
	}
	return nil
}

// onLine takes one complete line (without its CRLF) starting at start; the
// next line starts at next.
func (f *framer) onLine(line []byte, start, next int) *frameError {
	f.work += len(line)
	if bytes.IndexByte(line, 0) >= 0 || bytes.IndexByte(line, '\n') >= 0 {
		// A NUL ends a string in C parsers; a bare LF ends a line in
		// lenient ones: either way readers would split differently.
		return badRequest("Bad Request", "NUL or bare LF in the headers")
	}
	if next > f.lim.Header {
		return tooLarge("headers longer than %d bytes", f.lim.Header)
	}
	if f.st == stStart {
		if ferr := f.startLine(line); ferr != nil {
			return ferr
		}
		f.st = stHeaders
		return nil
	}
	if len(line) == 0 {
		return f.endHeaders(next)
	}
	if f.lines++; f.lines > f.lim.Lines {
		return badRequest("Too Many Headers", "more than %d header lines", f.lim.Lines)
	}
	if line[0] == ' ' || line[0] == '\t' {
		if !f.haveCur {
			return badRequest("Bad Request", "continuation line after the start line")
		}
		if f.folds++; f.folds > f.lim.Folds {
			return badRequest("Too Many Continuation Lines", "more than %d continuation lines in one header", f.lim.Folds)
		}
		if f.cur == hCL {
			f.cl.feed(line)
		}
		return nil
	}
	f.commit(start)
	colon := bytes.IndexByte(line, ':')
	if colon < 0 {
		return badRequest("Bad Header", "header line without a colon")
	}
	name := trimRightLWS(line[:colon])
	if len(name) == 0 || !allToken(name) {
		return badRequest("Bad Header", "header name is not a token")
	}
	f.cur, f.curStart, f.haveCur, f.folds = classify(name), start, true, 0
	if f.cur == hCL {
		f.cl = clParser{}
		f.cl.feed(line[colon+1:])
	}
	return nil
}

// startLine accepts "SIP/2.0 NNN reason" and "METHOD uri SIP/2.0", the
// shapes every SIP reader splits the same way (RFC 3261 §7.1, §7.2).
func (f *framer) startLine(line []byte) *frameError {
	const ver = "SIP/2.0"
	if len(line) > len(ver) && bytes.EqualFold(line[:len(ver)], []byte(ver)) && line[len(ver)] == ' ' {
		s := line[len(ver)+1:]
		if len(s) < 4 || !isDigit(s[0]) || !isDigit(s[1]) || !isDigit(s[2]) || s[3] != ' ' {
			return unframeable("malformed status line")
		}
		return nil
	}
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 || !allToken(line[:sp]) {
		return unframeable("malformed request line")
	}
	rest := line[sp+1:]
	sp2 := bytes.IndexByte(rest, ' ')
	if sp2 <= 0 || !bytes.EqualFold(rest[sp2+1:], []byte(ver)) {
		return unframeable("malformed request line")
	}
	f.request, f.ack = true, string(line[:sp]) == "ACK"
	return nil
}

// commit ends the header field in progress at end.
func (f *framer) commit(end int) {
	if !f.haveCur {
		return
	}
	f.haveCur = false
	switch f.cur {
	case hCL:
		switch v, ok := f.cl.value(); {
		case f.clSeen:
			f.defer_(badRequest("Bad Request", "more than one Content-Length"))
		case !ok:
			f.defer_(badRequest("Bad Request", "malformed Content-Length"))
		default:
			f.clSeen, f.clValue = true, v
		}
	case hOther:
	default:
		if f.keepSpans {
			f.spans = append(f.spans, span{f.cur, f.curStart, end})
		}
	}
}

func (f *framer) defer_(e *frameError) {
	if f.deferred == nil {
		f.deferred = e
	}
}

func (f *framer) endHeaders(next int) *frameError {
	f.commit(next - 2)
	if f.deferred != nil {
		return f.deferred
	}
	if !f.clSeen && f.requireCL {
		return badRequest("Missing Content-Length", "no Content-Length on a stream")
	}
	if f.clValue > f.lim.Message-next {
		return tooLarge("message of %d bytes exceeds %d", next+f.clValue, f.lim.Message)
	}
	f.head, f.total, f.st = next, next+f.clValue, stBody
	return nil
}

// consume drops n bytes from the head; a drained buffer is reused if small,
// else dropped.
func (f *framer) consume(n int) {
	f.r += n
	if f.r == f.w {
		f.r, f.w = 0, 0
		if cap(f.store) > smallBuf {
			f.store = nil
		}
	}
}

// reset forgets the parsed message (it was consumed).
func (f *framer) reset() {
	spans := f.spans[:0]
	if cap(spans) > 64 {
		spans = nil
	}
	*f = framer{store: f.store, r: f.r, w: f.w, lim: f.lim, requireCL: f.requireCL, keepSpans: f.keepSpans, work: f.work, spans: spans}
}

// clParser reads a Content-Length value fed in pieces (the first line after
// the colon, then each continuation line): LWS, 1*DIGIT, LWS — what a reader
// that joins folded lines and trims finds (RFC 3261 §20.14, §7.3.1).
type clParser struct {
	state  uint8 // 0 before the digits, 1 in them, 2 after, 3 bad
	digits int
	v      int
}

func (p *clParser) feed(b []byte) {
	for _, c := range b {
		switch {
		case c == ' ' || c == '\t':
			if p.state == 1 {
				p.state = 2
			}
		case isDigit(c) && p.state < 2:
			p.state = 1
			if p.digits++; p.digits <= 10 {
				p.v = p.v*10 + int(c-'0')
			}
		default:
			p.state = 3
		}
	}
}

// value is the number, if it is one a 32-bit reader also accepts.
func (p *clParser) value() (int, bool) {
	if (p.state != 1 && p.state != 2) || p.digits > 10 || p.v > 1<<32-1 {
		return 0, false
	}
	return p.v, true
}

func classify(name []byte) hkind {
	switch len(name) {
	case 1:
		switch name[0] | 0x20 {
		case 'l':
			return hCL
		case 'v':
			return hVia
		case 'f':
			return hFrom
		case 't':
			return hTo
		case 'i':
			return hCallID
		}
	case 2:
		if bytes.EqualFold(name, []byte("to")) {
			return hTo
		}
	case 3:
		if bytes.EqualFold(name, []byte("via")) {
			return hVia
		}
	case 4:
		switch {
		case bytes.EqualFold(name, []byte("from")):
			return hFrom
		case bytes.EqualFold(name, []byte("cseq")):
			return hCSeq
		}
	case 7:
		if bytes.EqualFold(name, []byte("call-id")) {
			return hCallID
		}
	case 14:
		if bytes.EqualFold(name, []byte("content-length")) {
			return hCL
		}
	}
	return hOther
}

func trimRightLWS(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func allToken(b []byte) bool {
	for _, c := range b {
		if !isToken[c] {
			return false
		}
	}
	return true
}

// isToken: RFC 3261 §25.1 token characters.
var isToken = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "-.!%*_+`'~" {
		t[c] = true
	}
	return t
}()
