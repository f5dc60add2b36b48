package sipscan

// param is one ";name[=value]" parameter as found by readParam. Offsets index
// the scanned message.
type param struct {
	nameStart, nameEnd int  // the name (a token)
	hasEq              bool // an '=' follows the name
	valStart, valEnd   int  // the value, quotes included when quoted; empty when none
	quoted             bool // the value is a quoted-string
	end                int  // just past the last non-LWS byte of the parameter
}

// readParam reads "SWS ';' SWS name [SWS '=' SWS value]" at i, within end.
// ok is false (and err nil) when the next non-LWS byte is not ';': the
// parameters are over and the caller decides what that byte may be. An
// empty name is ErrBadVia-class syntax and reported as errBadParam so that
// each caller can map it; an unterminated quoted value is ErrTruncated.
func readParam(b []byte, i, end int) (p param, ok bool, err error) {
	i = skipWS(b, i, end)
	if i >= end || b[i] != ';' {
		return p, false, nil
	}
	i = skipWS(b, i+1, end)
	p.nameStart = i
	i = skipClass(b, i, end, cToken)
	p.nameEnd = i
	if p.nameEnd == p.nameStart {
		return p, false, errBadParam
	}
	p.end = i
	j := skipWS(b, i, end)
	if j < end && b[j] == '=' {
		p.hasEq = true
		p.end = j + 1
		j = skipWS(b, j+1, end)
		p.valStart, p.valEnd = j, j
		if j < end && b[j] == '"' {
			k, closed := skipQuoted(b, j, end)
			if !closed {
				return p, false, ErrTruncated
			}
			p.quoted = true
			p.valEnd, p.end = k, k
		} else {
			// RFC 3261 allows token / host / IPv6 here; real traffic
			// also carries vendor values with '/', '=', '@' and so on.
			// Accepting every visible byte except the delimiters keeps a
			// strange value from making the header unreadable, while the
			// structure (';', ',', quotes) stays strict.
			j = skipClass(b, j, end, cValue)
			if j > p.valStart {
				p.valEnd, p.end = j, j
			}
		}
	}
	return p, true, nil
}

// errBadParam is internal: readParam's callers turn it into their own error.
var errBadParam = ErrBadVia
