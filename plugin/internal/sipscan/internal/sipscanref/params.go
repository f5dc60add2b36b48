package sipscanref

// param is one ";name[=value]" parameter as found by readParam. Offsets index
// the scanned message.
type param struct {
	nameStart, nameEnd int  // the name (a token)
	hasEq              bool // an '=' follows the name
	valStart, valEnd   int  // the value, quotes included when quoted; empty when none
	quoted             bool // the value is a quoted-string
	end                int  // just past the last non-LWS byte of the parameter
}

// paramResult is what readParam found.
type paramResult uint8

const (
	paramNone      paramResult = iota // the next non-LWS byte is not ';': the parameters are over
	paramOK                           // *p holds a parameter
	paramNoName                       // a ';' with no token after it
	paramOpenQuote                    // a quoted value that is not closed
)

// readParam reads "SWS ';' SWS name [SWS '=' SWS value]" at i, within end,
// into *p. On paramNone the caller decides what the byte that follows may be
// (',' or the end of the value, depending on the header).
//
//	generic-param = token [ EQUAL gen-value ]
//	gen-value     = token / host / quoted-string
func readParam(b []byte, i, end int, p *param) paramResult {
	i = skipWS(b, i, end)
	if i >= end || b[i] != ';' {
		return paramNone
	}
	i = skipWS(b, i+1, end)
	*p = param{nameStart: i}
	i = skipClass(b, i, end, cToken)
	p.nameEnd, p.end = i, i
	if p.nameEnd == p.nameStart {
		return paramNoName
	}
	j := skipWS(b, i, end)
	if j >= end || b[j] != '=' {
		return paramOK
	}
	p.hasEq = true
	p.end = j + 1
	j = skipWS(b, j+1, end)
	p.valStart, p.valEnd = j, j
	if j < end && b[j] == '"' {
		k, closed := skipQuoted(b, j, end)
		if !closed {
			return paramOpenQuote
		}
		p.quoted = true
		p.valEnd, p.end = k, k
		return paramOK
	}
	// RFC 3261 allows token / host / IPv6 here; real traffic also carries
	// vendor values with '/', '=', '@' and so on. Accepting every visible
	// byte except the delimiters keeps a strange value from making the
	// header unreadable, while the structure (';', ',', quotes) stays strict.
	if k := skipClass(b, j, end, cValue); k > j {
		p.valEnd, p.end = k, k
	}
	return paramOK
}
