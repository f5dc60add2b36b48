package sipscanref

import "bytes"

// Scan fills m from msg (a SIP request or response; the body, if any, is not
// read). It never allocates and never panics; on error m's contents are
// unspecified.
//
// Lines end with CRLF or a bare LF. A line that starts with SP or HTAB
// continues the previous header (folding); the value then spans the line
// break, and every offset still indexes msg as given. Leading CRLFs before
// the start line are skipped (RFC 3261 §7.5). The empty line that ends the
// headers may be missing: the scan then runs to the end of msg.
func Scan(msg []byte, m *Message) error {
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
	e, next := lineEnd(b, i)
	if next == n && cut {
		return ErrTooLarge
	}
	if err := scanStartLine(b, i, e, m); err != nil {
		return err
	}
	i = next

	var seen seen
	for {
		if i >= n {
			if cut {
				return ErrTooLarge
			}
			m.HeaderEnd = n
			break
		}
		// The empty line (CRLF or LF) ends the headers.
		if b[i] == '\n' {
			m.HeaderEnd = i + 1
			break
		}
		if b[i] == '\r' && (i+1 == n || b[i+1] == '\n') {
			if i+1 == n && cut {
				return ErrTooLarge
			}
			m.HeaderEnd = min(i+2, n)
			break
		}
		if b[i] == ' ' || b[i] == '\t' {
			return ErrBadHeader // a fold with no header to continue
		}
		// One logical header line: this line and every folded one after it.
		start := i
		e, next = lineEnd(b, i)
		for next < n && (b[next] == ' ' || b[next] == '\t') {
			e, next = lineEnd(b, next)
		}
		if next == n && cut {
			return ErrTooLarge // it might go on past the cap
		}
		if err := scanHeader(b, start, e, e == n, m, &seen); err != nil {
			return err
		}
		i = next
	}

	if m.NVias == 0 {
		return ErrNoVia
	}
	if !seen.cseq {
		return ErrBadCSeq
	}
	return nil
}

// seen records which single-valued headers were already read: the first
// one wins (a second CSeq is an error, since the method decides the rules).
type seen struct {
	cseq, callID, from, to, expires, flowTimer, subState bool
}

// reset sets every field of m except the Via array, whose entries are
// cleared one by one as they are filled (clearing 64 of them would cost
// more than the rest of the scan).
func reset(m *Message) {
	m.IsRequest = false
	m.Method = MethodNone
	m.Status = 0
	m.CSeqNum = 0
	m.CSeqMethod = MethodNone
	m.CallID = nil
	m.FromTag = nil
	m.ToTag = nil
	m.ToURI = nil
	m.SubscriptionTerminated = false
	m.Expires = -1
	m.Contacts = 0
	m.ContactStar = false
	m.ContactExpiresMax = -1
	m.ContactExpiresMin = -1
	m.FlowTimer = -1
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
func scanStartLine(b []byte, i, e int, m *Message) error {
	const version = "sip/2.0"
	if e-i >= len(version)+4 && eqFold(b[i:i+len(version)], version) && b[i+len(version)] == ' ' {
		j := i + len(version) + 1
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
	j := skipClass(b, i, e, cToken)
	if j == i || j >= e || b[j] != ' ' {
		return ErrNotSIP
	}
	u := j + 1
	k := u
	for k < e && b[k] > ' ' {
		k++
	}
	if k == u || k >= e || b[k] != ' ' {
		return ErrNotSIP
	}
	if !eqFold(b[k+1:e], version) {
		return ErrNotSIP
	}
	m.IsRequest = true
	m.Method = methodOf(b[i:j])
	return nil
}

// scanHeader reads the logical header line b[start:e]. unterminated reports
// that the buffer ends inside it (no line break after it).
func scanHeader(b []byte, start, e int, unterminated bool, m *Message, s *seen) error {
	ne := skipClass(b, start, e, cToken)
	c := skipWS(b, ne, e)
	if ne == start || c >= e || b[c] != ':' {
		if unterminated && ne > start && c == e {
			return ErrTruncated // "Via" or "Via " cut before its colon
		}
		return ErrBadHeader
	}
	i := c + 1
	switch headerKind(b[start:ne]) {
	case hVia:
		return scanVia(b, i, e, m)
	case hCSeq:
		if s.cseq {
			return ErrBadCSeq
		}
		s.cseq = true
		return scanCSeq(b, i, e, m)
	case hCallID:
		if !s.callID {
			s.callID = true
			i, e = trimWS(b, i, e)
			m.CallID = b[i:e:e]
		}
	case hFrom:
		if !s.from {
			s.from = true
			tag, _, err := scanNameAddrTag(b, i, e)
			m.FromTag = tag
			return err
		}
	case hTo:
		if !s.to {
			s.to = true
			tag, uri, err := scanNameAddrTag(b, i, e)
			m.ToTag, m.ToURI = tag, uri
			return err
		}
	case hSubscriptionState:
		if !s.subState {
			s.subState = true
			// The substate-value runs to the first ';' (no quoting
			// before it: it is a token).
			v := b[i:e]
			if k := bytes.IndexByte(v, ';'); k >= 0 {
				v = v[:k]
			}
			lo, hi := trimWS(v, 0, len(v))
			m.SubscriptionTerminated = eqFold(v[lo:hi], "terminated")
		}
	case hContact:
		return scanContact(b, i, e, m)
	case hExpires:
		if !s.expires {
			s.expires = true
			m.Expires = scanExpires(b, i, e)
		}
	case hFlowTimer:
		if !s.flowTimer {
			s.flowTimer = true
			m.FlowTimer = scanFlowTimer(b, i, e)
		}
	case hRecordRoute:
		n, err := countAddrs(b, i, e)
		m.RecordRoutes += n
		return err
	case hRequire, hSupported:
		if !m.Outbound && hasOptionTag(b, i, e, "outbound") {
			m.Outbound = true
		}
	}
	return nil
}
