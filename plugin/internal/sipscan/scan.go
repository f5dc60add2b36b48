package sipscan

import (
	"bytes"
	"math/bits"
)

// Scan fills m from msg (a SIP request or response; the body, if any, is not
// read). It never allocates and never panics; on error m's contents are
// unspecified.
//
// Lines end with CRLF or a bare LF. A line that starts with SP or HTAB
// continues the previous header (folding); the value then spans the line
// break, and every offset still indexes msg as given. Leading CRLFs before
// the start line are skipped (RFC 3261 §7.5). The empty line that ends the
// headers may be missing: the scan then runs to the end of msg.
func Scan(msg []byte, m *Message) error { return ScanFor(msg, m, NeedAll) }

// Need selects optional work of ScanFor: what a caller leaves out is not
// read at all (its header lines are passed over like any unknown header),
// so it costs nothing and cannot make the scan fail.
type Need uint8

const (
	// NeedOutbound: read Require and Supported for the "outbound" option tag
	// (Message.Outbound). Without it Outbound stays false.
	NeedOutbound Need = 1 << iota

	// NeedFromTag: read From (Message.FromTag). Without it FromTag is nil.
	NeedFromTag

	// NeedRecordRoutes: count Record-Route values (Message.RecordRoutes).
	// Without it RecordRoutes is 0.
	NeedRecordRoutes

	// NeedLowerVias: read every Via value. Without it (and without
	// NeedLowerKeeps) only the topmost is read (NVias is 1): the rest of its
	// header line and every later Via line are passed over.
	NeedLowerVias

	// NeedLowerKeeps: read the Via values below the top where a keep
	// parameter may be. When any Via text below the top value mentions
	// "keep" (in any case) every Via is read, as with NeedLowerVias; when
	// none does, NVias is 1 and the rest is left unread: no keep is there.
	NeedLowerKeeps

	// NeedRequestContacts: read Contact and Expires in every request.
	// Without it they are read in responses and in REGISTER requests only
	// (by the start line's method), and other requests leave Contacts,
	// ContactStar, ContactExpiresMax/Min and Expires as if absent.
	NeedRequestContacts

	// NeedRegisterIDs: read Call-ID and To in REGISTER requests too.
	// Without it a REGISTER request (by the start line's method) leaves
	// CallID, ToTag and ToURI nil.
	NeedRegisterIDs

	// NeedAll is everything: what Scan does.
	NeedAll = NeedOutbound | NeedFromTag | NeedRecordRoutes | NeedLowerVias | NeedLowerKeeps |
		NeedRequestContacts | NeedRegisterIDs
)

// ScanFor is Scan doing only the optional work in need (see Need). Every
// field it does not leave out is as Scan returns it, and it fails only on
// a message Scan fails on too (with Scan's error, unless the error Scan
// meets first lies in a part ScanFor leaves out).
func ScanFor(msg []byte, m *Message, need Need) error {
	skip := skipOf(need)
	reset(m)
	// Only the header section is scanned, and it must fit in
	// MaxHeaderBytes: work on a view capped there and report ErrTooLarge
	// when the scan needs a byte beyond it.
	b, cut := msg, false
	if len(b) > MaxHeaderBytes {
		b, cut = b[:MaxHeaderBytes], true
	}
	n := len(b)

	i := 0
	for i < n && (b[i] == '\r' || b[i] == '\n') {
		i++
	}
	// The start line is the loop's first line: scanLines reads the usual
	// status line itself (in wasm) and returns any other as hStartLine.
	st := scanState{kinds: &kindsBySkip[skip], m: m, startLine: true}
	st.vias(need, skip)
	seen := &st.seen
	for {
		// One logical header line: this line and every folded one after
		// it, and its name (token LWS ':'). scanLines passes over the
		// lines Scan does not read (most of a real message: Allow,
		// User-Agent, Content-Length...) and returns the first one it
		// must look at, with h its header. In wasm it is assembly that
		// also reads the usual form of the headers every response has
		// (see scan_wasm.s), so that only the unusual reach this loop.
		start, e, next, ne, c, h := scanLines(b, i, &st)
		if h == hStartLine {
			st.startLine = false
			e, next := lineEnd(b, i)
			if next == n && cut {
				return ErrTooLarge
			}
			if err := scanStartLine(b, i, e, m); err != nil {
				return err
			}
			i = next
			// A request's method decides what else is read.
			switch {
			case !m.IsRequest:
				continue
			case m.Method != MethodREGISTER && need&NeedRequestContacts == 0:
				skip |= skipContacts
			case m.Method == MethodREGISTER && need&NeedRegisterIDs == 0:
				skip |= skipIDs
			}
			st.kinds = &kindsBySkip[skip]
			st.vias(need, skip)
			continue
		}
		i = start
		if h == hOther {
			// Not a header line.
			if i >= n {
				if cut {
					// (nextHeader may have skipped a last line
					// that goes on past the cap.)
					return ErrTooLarge
				}
				m.HeaderEnd = n
				break
			}
			// The empty line (CRLF or LF) ends the headers.
			c0 := b[i]
			if c0 == '\n' {
				m.HeaderEnd = i + 1
				break
			}
			if c0 == '\r' && (i+1 == n || b[i+1] == '\n') {
				if i+1 == n && cut {
					return ErrTooLarge
				}
				m.HeaderEnd = min(i+2, n)
				break
			}
			if c0 == ' ' || c0 == '\t' {
				return ErrBadHeader // a fold with no header to continue
			}
			if next == n && cut {
				return ErrTooLarge // it might go on past the cap
			}
			if e == n && ne > start && c == e {
				return ErrTruncated // "Via" or "Via " cut before its colon
			}
			return ErrBadHeader
		}
		if next == n && cut {
			return ErrTooLarge // it might go on past the cap
		}
		i = next
		// The value b[c+1:e], by header. The switch is written here
		// rather than in a function of its own: in wasm that call cost
		// more than the switch.
		var err error
		switch v := c + 1; h {
		case hVia:
			switch {
			case need&NeedLowerVias != 0:
				err = scanVia(b, v, e, m)
			case need&NeedLowerKeeps == 0:
				// The top Via alone: later Via lines become unknown.
				_, err = nextVia(b, v, e, m)
				st.kinds = st.viaKinds
			case m.NVias == 0:
				var more int
				if more, err = nextVia(b, v, e, m); more > 0 {
					err = lowerVia(b, more, e, m)
				}
			default:
				err = lowerVia(b, v, e, m)
			}
		case hCSeq:
			if seen.cseq {
				return ErrBadCSeq
			}
			seen.cseq = true
			err = scanCSeq(b, v, e, m)
		case hCallID:
			if !seen.callID {
				seen.callID = true
				v, e := trimWS(b, v, e)
				m.callID = found(v, e)
			}
		case hFrom:
			if !seen.from {
				seen.from = true
				m.FromTag, err = scanNameAddrTag(b, v, e)
			}
		case hTo:
			if !seen.to {
				seen.to = true
				err = scanTo(b, v, e, m)
			}
		case hContact:
			err = scanContact(b, v, e, m)
		case hExpires:
			if !seen.expires {
				seen.expires = true
				m.Expires = scanExpires(b, v, e)
			}
		case hFlowTimer:
			if !seen.flowTimer {
				seen.flowTimer = true
				m.FlowTimer = scanFlowTimer(b, v, e)
			}
		case hSubscriptionState:
			if !seen.subState {
				seen.subState = true
				m.SubscriptionTerminated = isTerminated(b, v, e)
			}
		case hRecordRoute:
			var k int
			k, err = countAddrs(b, v, e)
			m.RecordRoutes += k
		case hRequire, hSupported:
			if !m.Outbound && hasOptionTag(b, v, e, "outbound") {
				m.Outbound = true
			}
		}
		if err != nil {
			return err
		}
	}

	if m.NVias == 0 {
		return ErrNoVia
	}
	if !seen.cseq {
		return ErrBadCSeq
	}
	m.CallID = m.callID.of(b)
	m.ToTag = m.toTag.of(b)
	m.ToURI = m.toURI.of(b)
	return nil
}

// scanState is what ScanFor's loop shares with scanLines.
type scanState struct {
	seen  seen
	kinds *kindTable // the headers read from here on
	// startLine: the line at i is the start line (scanLines reads the
	// usual status line, and leaves any other to Go as hStartLine).
	startLine bool
	// topVia: scanLines may read the top Via value when its line holds
	// no other (NeedLowerVias unset); viaKinds, when not nil, is kinds
	// once it is (NeedLowerKeeps unset too: later Vias are not read).
	topVia   bool
	viaKinds *kindTable
	m        *Message
}

// vias sets topVia and viaKinds for need, with skip what it leaves out.
func (st *scanState) vias(need Need, skip int) {
	if need&NeedLowerVias == 0 {
		st.topVia = true
		if need&NeedLowerKeeps == 0 {
			st.viaKinds = &kindsBySkip[skip|skipVia]
		}
	}
}

// seen records which single-valued headers were already read: the first
// one wins (a second CSeq is an error, since the method decides the rules).
type seen struct {
	cseq, callID, from, to, expires, flowTimer, subState bool
}

// field is a value ScanFor found, as offsets: b[start:end-1], or nil when
// end is 0 (so the zero field is "absent", and an empty value at offset 0,
// which a parameter with no value reads as, is still present).
type field struct{ start, end int32 }

func found(start, end int) field { return field{int32(start), int32(end) + 1} }

func (f field) of(b []byte) []byte {
	if f.end == 0 {
		return nil
	}
	return b[f.start : f.end-1 : f.end-1]
}

// reset sets every field of m except the Via array, whose entries are
// cleared one by one as they are filled (clearing 64 of them would cost
// more than the rest of the scan).
func reset(m *Message) {
	m.nLower = 0
	m.IsRequest = false
	m.Method = MethodNone
	m.Status = 0
	m.CSeqNum = 0
	m.CSeqMethod = MethodNone
	m.CallID = nil
	m.FromTag = nil
	m.ToTag = nil
	m.ToURI = nil
	m.callID, m.toTag, m.toURI = field{}, field{}, field{}
	m.Expires = -1
	m.Contacts = 0
	m.ContactStar = false
	m.ContactExpiresMax = -1
	m.ContactExpiresMin = -1
	m.FlowTimer = -1
	m.SubscriptionTerminated = false
	m.RecordRoutes = 0
	m.Outbound = false
	m.NVias = 0
	m.HeaderEnd = 0
}

// lineEnd finds the end of the line starting at i: e is where its
// terminator (CRLF or LF) starts and next is just past it. Without a
// terminator both are len(b).
func lineEnd(b []byte, i int) (e, next int) {
	j := bytes.IndexByte(b[i:], '\n')
	if j < 0 {
		return len(b), len(b)
	}
	e = i + j
	next = e + 1
	if e > i && b[e-1] == '\r' {
		e--
	}
	return e, next
}

// scanStartLine reads b[i:e]:
//
//	Request-Line = Method SP Request-URI SP SIP-Version
//	Status-Line  = SIP-Version SP Status-Code SP Reason-Phrase
//
// SIP-Version is case-insensitive (RFC 3261 §7.1). A missing reason phrase
// is tolerated.
//
// The method and the Request-URI are read eight bytes at a time where they
// allow: in wasm a Go byte loop costs a few ns a byte.
func scanStartLine(b []byte, i, e int, m *Message) error {
	const version = len("SIP/2.0")
	if e-i >= version+4 && isSIPVersion(b, i) && b[i+version] == ' ' {
		j := i + version + 1
		d := skipClass(b, j, e, cDigit)
		if d-j != 3 || (d < e && b[d] != ' ') {
			return ErrNotSIP
		}
		s := int(b[j]-'0')*100 + int(b[j+1]-'0')*10 + int(b[j+2]-'0')
		if s < 100 || s > 699 {
			return ErrNotSIP
		}
		m.Status = s
		return nil
	}
	j := i
	if j+8 <= e {
		j += nameRun8(le.Uint64(b[j:])) // the usual method: letters
	}
	j = skipClass(b, j, e, cToken)
	if j == i || j >= e || b[j] != ' ' {
		return ErrNotSIP
	}
	// The Request-URI runs to the first byte below '!': the borrow test
	// flags the lowest such byte of a word exactly (as in valueRun8).
	u := j + 1
	k := u
	for k+8 <= e {
		x := le.Uint64(b[k:])
		if t := (x - swarLo*'!') &^ x & swarHi; t != 0 {
			k += bits.TrailingZeros64(t) >> 3
			break
		}
		k += 8
	}
	for k < e && b[k] > ' ' {
		k++
	}
	if k == u || k >= e || b[k] != ' ' {
		return ErrNotSIP
	}
	if e-(k+1) != version || !isSIPVersion(b, k+1) {
		return ErrNotSIP
	}
	m.IsRequest = true
	m.Method = methodOf(b[i:j])
	return nil
}

// isSIPVersion reports whether the seven bytes at b[p:] are "SIP/2.0", the
// letters in either case. A byte ORed with 0x20 is 's', 'i' or 'p' only
// when it is that letter in either case, so one load tests "SIP/".
func isSIPVersion(b []byte, p int) bool {
	return le.Uint32(b[p:])|0x202020 == 's'|'i'<<8|'p'<<16|'/'<<24 &&
		le.Uint16(b[p+4:]) == '2'|'.'<<8 && b[p+6] == '0'
}
