package sipscan

import "bytes"

// Headers whose values are name-addr / addr-spec with header parameters:
// From, To, Contact, Record-Route (RFC 3261 §20). They are only read, never
// edited, so the scan is tolerant: junk inside a value is skipped up to the
// next comma rather than failing the message. Only constructs that leave
// the value's extent unknown (an unclosed quote or '<') are errors.

// skipAddr skips a name-addr or addr-spec starting at i and returns where
// its header parameters start. With "<...>" they follow the '>'; without,
// RFC 3261 §20 says the first ';' already starts the header parameters, so
// a ";tag=" inside "<sip:a;tag=x>" is part of the URI and one after a bare
// URI is the header's. Quoted display names may hold '<', ';' and ','.
//
// lt and gt delimit what is inside "<...>" (lt just past the '<', gt at
// the '>'), 0 when there is none; an unclosed '<' gives lt alone, with
// ErrTruncated.
func skipAddr(b []byte, i, end int) (next, lt, gt int, err error) {
	for i < end {
		switch b[i] {
		case '"':
			j, ok := skipQuoted(b, i, end)
			if !ok {
				return 0, 0, 0, ErrTruncated
			}
			i = j
		case '<':
			j := bytes.IndexByte(b[i+1:end], '>')
			if j < 0 {
				return 0, i + 1, 0, ErrTruncated
			}
			return i + 1 + j + 1, i + 1, i + 1 + j, nil
		case ';', ',':
			return i, 0, 0, nil
		default:
			i++
		}
	}
	return i, 0, 0, nil
}

// What nextAddr found, in the bits of st.
const (
	addrFound  = 1 << iota // the wanted parameter: vs..ve is its value
	addrQuoted             // its value is a quoted-string
	addrMore               // a ',' after this value: the next starts at next
	addrTrunc              // an unclosed quote or '<': ErrTruncated
)

// nextAddrGo is nextAddr in Go: the reference for the wasm assembly
// (addr_wasm.s) and the implementation everywhere else.
//
// It reads the value that starts at i (after any LWS; len(b) is the end
// of the header line's value) and looks for the header parameter named
// want (lower case, no '_'; "" for none). addrFound reports that it is present
// (the first one wins), addrQuoted that its value is a quoted-string, and
// vs..ve is its value; next is where the next value starts (after the
// comma), or len(b), and addrMore reports a comma after this value. With
// addrTrunc, the rest is what was read before it and next is 0.
//
// us..ue is what is inside the value's "<...>" (the URI of a name-addr),
// the last one when junk holds more; 0, 0 when there is none (an
// addr-spec). An unclosed '<' sets us alone (with addrTrunc).
//
// The parameters are read as params.go describes them, written out here,
// and the flags come back as the bits of one int: in wasm, every result is
// a store and a load, and a bool or an error (an interface) costs as much
// as an int; zeroing or copying a struct of more than 32 bytes is a
// memory.fill or memory.copy, which wazero runs as calls to memmove.
func nextAddrGo(b []byte, i int, want string) (st, vs, ve, next, us, ue int) {
	end := len(b) // with uint compares: no bounds checks (branches in wasm)
	for {
		var err error
		var lt, gt int
		i, lt, gt, err = skipAddr(b, i, end)
		if lt > 0 {
			us = lt
		}
		if gt > 0 {
			ue = gt
		}
		if err != nil {
			st |= addrTrunc
			return
		}
		// *( SWS ';' SWS name [SWS '=' SWS value] )
		for {
			j := i
			for uint(j) < uint(end) && class[b[j]]&cWS != 0 {
				j++
			}
			if uint(j) >= uint(end) || b[j] != ';' {
				break // what follows is checked below
			}
			j++
			for uint(j) < uint(end) && class[b[j]]&cWS != 0 {
				j++
			}
			ns := j
			if j+8 <= end {
				j += nameRun8(le.Uint64(b[j:])) // most names: letters, digits, '-'
			}
			for uint(j) < uint(end) && class[b[j]]&cToken != 0 {
				j++
			}
			if j == ns {
				break // a ';' with no name: checked below
			}
			ne := j
			pe, pq, pvs, pve := j, 0, 0, 0
			for uint(j) < uint(end) && class[b[j]]&cWS != 0 {
				j++
			}
			if uint(j) < uint(end) && b[j] == '=' {
				pe = j + 1
				j++
				for uint(j) < uint(end) && class[b[j]]&cWS != 0 {
					j++
				}
				pvs, pve = j, j
				if uint(j) < uint(end) && b[j] == '"' {
					k, closed := skipQuoted(b, j, end)
					if !closed {
						st |= addrTrunc
						return
					}
					pq = addrQuoted
					pve, pe = k, k
				} else if k := skipValue(b, j, end); k > j {
					pve, pe = k, k
				}
			}
			i = pe
			if st&addrFound == 0 && ne-ns == len(want) && eqFold(b[ns:ne], want) {
				st, vs, ve = addrFound|pq, pvs, pve
			}
		}
		for uint(i) < uint(end) && class[b[i]]&cWS != 0 {
			i++
		}
		if uint(i) >= uint(end) {
			next = end
			return
		}
		if b[i] == ',' {
			st |= addrMore
			next = i + 1
			return
		}
		if b[i] == ';' {
			i++ // a parameter with an empty name: skip it like other junk
		}
		// Anything else is junk inside this value: keep skipping to the
		// next comma (skipAddr stops there, honouring quotes and '<...>').
	}
}

// scanNameAddrTag reads a From value and returns its tag parameter (nil
// when absent).
func scanNameAddrTag(b []byte, i, end int) ([]byte, error) {
	st, vs, ve, _, _, _ := nextAddr(b[:end], skipWS(b, i, end), "tag")
	if st&addrTrunc != 0 {
		return nil, ErrTruncated
	}
	if st&addrFound == 0 {
		return nil, nil
	}
	return b[vs:ve:ve], nil
}

// scanTo reads a To value into m: its tag parameter and its URI, inside
// "<...>" (the last, if junk holds more) or, for an addr-spec, up to its
// first ';', ',' or LWS (RFC 3261 §20: header parameters then start at the
// first ';').
func scanTo(b []byte, i, end int, m *Message) error {
	i = skipWS(b, i, end)
	st, vs, ve, _, us, ue := nextAddr(b[:end], i, "tag")
	if st&addrTrunc != 0 {
		return ErrTruncated
	}
	if st&addrFound != 0 {
		m.toTag = found(vs, ve)
	}
	if ue > 0 {
		m.toURI = found(us, ue)
		return nil
	}
	j := i
	for j < end && b[j] != ';' && b[j] != ',' && !isWS(b[j]) {
		j++
	}
	m.toURI = found(i, j)
	return nil
}

// scanContact counts the Contact values of one header line and folds their
// expires parameters into m.
func scanContact(b []byte, i, end int, m *Message) error {
	b = b[:end]
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
		st, vs, ve, next, _, _ := nextAddr(b, i, "expires")
		if st&addrTrunc != 0 {
			return ErrTruncated
		}
		m.Contacts++
		if st&(addrFound|addrQuoted) == addrFound {
			if e := parseDelta(b[vs:ve]); e >= 0 {
				if m.ContactExpiresMax < 0 || e > m.ContactExpiresMax {
					m.ContactExpiresMax = e
				}
				if m.ContactExpiresMin < 0 || e < m.ContactExpiresMin {
					m.ContactExpiresMin = e
				}
			}
		}
		if st&addrMore == 0 {
			return nil
		}
		i = next
	}
}

// countAddrs counts the values of one Record-Route header line.
func countAddrs(b []byte, i, end int) (int, error) {
	b = b[:end]
	n := 0
	for {
		i = skipWS(b, i, end)
		if i >= end {
			return n, nil
		}
		st, _, _, next, _, _ := nextAddr(b, i, "")
		if st&addrTrunc != 0 {
			return n, ErrTruncated
		}
		n++
		if st&addrMore == 0 {
			return n, nil
		}
		i = next
	}
}
