package sipscanref

import "bytes"

// Headers whose values are name-addr / addr-spec with header parameters:
// From, To, Contact, Record-Route (RFC 3261 §20). They are only read, never
// edited, so the scan is tolerant: junk inside a value is skipped up to the
// next comma rather than failing the message. Only constructs that leave
// the value's extent unknown (an unclosed quote or '<') are errors.

// addrValue is one value of such a header.
type addrValue struct {
	found            bool // the wanted parameter is present
	quoted           bool // its value is a quoted-string
	valStart, valEnd int  // its value
	next             int  // where the next value starts (after the comma), or end
	more             bool // a comma followed this value
	uriStart, uriEnd int  // inside the last "<...>" read, 0, 0 if none
}

// skipAddr skips a name-addr or addr-spec starting at i and returns where
// its header parameters start. With "<...>" they follow the '>'; without,
// RFC 3261 §20 says the first ';' already starts the header parameters, so
// a ";tag=" inside "<sip:a;tag=x>" is part of the URI and one after a bare
// URI is the header's. Quoted display names may hold '<', ';' and ','.
// Inside "<...>" goes into uri.
func skipAddr(b []byte, i, end int, uri *[2]int) (int, error) {
	for i < end {
		switch b[i] {
		case '"':
			j, ok := skipQuoted(b, i, end)
			if !ok {
				return 0, ErrTruncated
			}
			i = j
		case '<':
			j := bytes.IndexByte(b[i+1:end], '>')
			if j < 0 {
				return 0, ErrTruncated
			}
			*uri = [2]int{i + 1, i + 1 + j}
			return i + 1 + j + 1, nil
		case ';', ',':
			return i, nil
		default:
			i++
		}
	}
	return i, nil
}

// nextAddr reads the value that starts at i (after any LWS) and looks for
// the header parameter named want (lower case; "" for none).
func nextAddr(b []byte, i, end int, want string) (a addrValue, err error) {
	for {
		var uri [2]int
		i, err = skipAddr(b, i, end, &uri)
		if err != nil {
			return a, err
		}
		if uri[1] > 0 {
			a.uriStart, a.uriEnd = uri[0], uri[1]
		}
		var p param
	params:
		for {
			switch readParam(b, i, end, &p) {
			case paramOpenQuote:
				return a, ErrTruncated
			case paramNone, paramNoName:
				break params // what follows is checked below
			}
			i = p.end
			if !a.found && want != "" && eqFold(b[p.nameStart:p.nameEnd], want) {
				a.found, a.quoted = true, p.quoted
				a.valStart, a.valEnd = p.valStart, p.valEnd
			}
		}
		i = skipWS(b, i, end)
		if i >= end {
			a.next = end
			return a, nil
		}
		if b[i] == ',' {
			a.next, a.more = i+1, true
			return a, nil
		}
		if b[i] == ';' {
			i++ // a parameter with an empty name: skip it like other junk
		}
		// Anything else is junk inside this value: keep skipping to the
		// next comma (skipAddr stops there, honouring quotes and '<...>').
	}
}

// scanNameAddrTag reads a From or To value and returns its tag parameter
// (nil when absent).
func scanNameAddrTag(b []byte, i, end int) (tag, uri []byte, err error) {
	i = skipWS(b, i, end)
	a, err := nextAddr(b, i, end, "tag")
	if err != nil {
		return nil, nil, err
	}
	if a.found {
		tag = b[a.valStart:a.valEnd:a.valEnd]
	}
	if a.uriEnd > 0 {
		return tag, b[a.uriStart:a.uriEnd:a.uriEnd], nil
	}
	// An addr-spec: its parameters start at the first ';'.
	j := i
	for j < end && b[j] != ';' && b[j] != ',' && !isWS(b[j]) {
		j++
	}
	return tag, b[i:j:j], nil
}

// scanContact counts the Contact values of one header line and folds their
// expires parameters into m.
func scanContact(b []byte, i, end int, m *Message) error {
	for {
		i = skipWS(b, i, end)
		if i >= end {
			return nil // an empty header or a trailing comma: nothing to count
		}
		if b[i] == '*' {
			// "Contact: *" (RFC 3261 §10.2.2): the whole value is the star.
			// A '*' that starts a token display name ("*x <sip:..>") is not.
			if j := skipWS(b, i+1, end); j == end || b[j] == ',' {
				m.ContactStar = true
				if j == end {
					return nil
				}
				i = j + 1
				continue
			}
		}
		a, err := nextAddr(b, i, end, "expires")
		if err != nil {
			return err
		}
		m.Contacts++
		if a.found && !a.quoted {
			if e := parseDelta(b[a.valStart:a.valEnd]); e >= 0 {
				if m.ContactExpiresMax < 0 || e > m.ContactExpiresMax {
					m.ContactExpiresMax = e
				}
				if m.ContactExpiresMin < 0 || e < m.ContactExpiresMin {
					m.ContactExpiresMin = e
				}
			}
		}
		if !a.more {
			return nil
		}
		i = a.next
	}
}

// countAddrs counts the values of one Record-Route header line.
func countAddrs(b []byte, i, end int) (int, error) {
	n := 0
	for {
		i = skipWS(b, i, end)
		if i >= end {
			return n, nil
		}
		a, err := nextAddr(b, i, end, "")
		if err != nil {
			return n, err
		}
		n++
		if !a.more {
			return n, nil
		}
		i = a.next
	}
}
