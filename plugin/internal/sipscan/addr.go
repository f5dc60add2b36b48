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
func skipAddr(b []byte, i, end int) (int, error) {
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
			return i + 1 + j + 1, nil
		case ';', ',':
			return i, nil
		default:
			i++
		}
	}
	return i, nil
}

// nextAddrGo is nextAddr in Go: the reference for the wasm assembly
// (addr_wasm.s) and the implementation everywhere else.
//
// It reads the value that starts at i (after any LWS) and looks for the
// header parameter named want (lower case; "" for none). found reports
// that it is present (the first one wins), quoted that its value is a
// quoted-string, and vs..ve is its value; next is where the next value
// starts (after the comma), or end, and more reports a comma after this
// value. With err, found..ve are what was read before it, next and more
// are zero.
//
// The parameters are read as params.go describes them, written out here, and
// the results are plain values rather than structs: in wasm, zeroing or
// copying a struct of more than 32 bytes is a memory.fill or memory.copy,
// which wazero runs as calls to memmove.
func nextAddrGo(b []byte, i, end int, want string) (found, quoted bool, vs, ve, next int, more bool, err error) {
	b = b[:end] // with uint compares: no bounds checks (branches in wasm)
	end = len(b)
	for {
		i, err = skipAddr(b, i, end)
		if err != nil {
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
			pe, pq, pvs, pve := j, false, 0, 0
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
						err = ErrTruncated
						return
					}
					pq = true
					pve, pe = k, k
				} else if k := skipValue(b, j, end); k > j {
					pve, pe = k, k
				}
			}
			i = pe
			if !found && want != "" && ne-ns == len(want) && eqFold(b[ns:ne], want) {
				found, quoted, vs, ve = true, pq, pvs, pve
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
			next, more = i+1, true
			return
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
func scanNameAddrTag(b []byte, i, end int) ([]byte, error) {
	found, _, vs, ve, _, _, err := nextAddr(b, skipWS(b, i, end), end, "tag")
	if err != nil || !found {
		return nil, err
	}
	return b[vs:ve:ve], nil
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
		found, quoted, vs, ve, next, more, err := nextAddr(b, i, end, "expires")
		if err != nil {
			return err
		}
		m.Contacts++
		if found && !quoted {
			if e := parseDelta(b[vs:ve]); e >= 0 {
				if m.ContactExpiresMax < 0 || e > m.ContactExpiresMax {
					m.ContactExpiresMax = e
				}
				if m.ContactExpiresMin < 0 || e < m.ContactExpiresMin {
					m.ContactExpiresMin = e
				}
			}
		}
		if !more {
			return nil
		}
		i = next
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
		_, _, _, _, next, more, err := nextAddr(b, i, end, "")
		if err != nil {
			return n, err
		}
		n++
		if !more {
			return n, nil
		}
		i = next
	}
}
