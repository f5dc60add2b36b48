package sipscanref

// scanVia reads the comma-separated Via values in b[i:end] (one header
// line's value, folds included) and appends them to m.Vias.
//
//	via-parm      = sent-protocol LWS sent-by *( SEMI via-params )
//	sent-protocol = protocol-name SLASH protocol-version SLASH transport
//	sent-by       = host [ COLON port ]
//
// The keep parameter is edited in place by the plugin, so the delimiting is
// strict: anything that does not fit the grammar is ErrBadVia rather than a
// guess that could put an edit in the wrong place.
func scanVia(b []byte, i, end int, m *Message) error {
	for {
		i = skipWS(b, i, end)
		if i >= end {
			return ErrBadVia // an empty header, or a comma with nothing after it
		}
		if m.NVias == MaxVias {
			return ErrTooManyVias
		}
		v := &m.Vias[m.NVias]
		*v = Via{}
		next, err := scanViaValue(b, i, end, v)
		if err != nil {
			return err
		}
		m.NVias++
		i = skipWS(b, next, end)
		if i == end {
			return nil
		}
		if b[i] != ',' {
			return ErrBadVia
		}
		i++
	}
}

// scanViaValue reads one via-parm starting at its first byte b[i] and fills
// v. It returns the index just past the value (v.End); what follows is LWS,
// then ',' or end.
func scanViaValue(b []byte, i, end int, v *Via) (int, error) {
	v.Start = i
	// sent-protocol: three tokens; SLASH = SWS "/" SWS.
	for k := 0; k < 3; k++ {
		if k > 0 {
			i = skipWS(b, i, end)
			if i >= end || b[i] != '/' {
				return 0, ErrBadVia
			}
			i = skipWS(b, i+1, end)
		}
		j := skipClass(b, i, end, cToken)
		if j == i {
			return 0, ErrBadVia
		}
		i = j
	}
	// LWS is mandatory between transport and host.
	j := skipWS(b, i, end)
	if j == i || j >= end {
		return 0, ErrBadVia
	}
	i = j
	// host: IPv6reference or hostname / IPv4address.
	if b[i] == '[' {
		j = skipClass(b, i+1, end, cV6)
		if j == i+1 || j >= end || b[j] != ']' {
			return 0, ErrBadVia
		}
		i = j + 1
	} else {
		j = skipClass(b, i, end, cHost)
		if j == i {
			return 0, ErrBadVia
		}
		i = j
	}
	// [ COLON port ], COLON = SWS ":" SWS ("host: 4000" is legal).
	if j = skipWS(b, i, end); j < end && b[j] == ':' {
		j = skipWS(b, j+1, end)
		k := skipClass(b, j, end, cDigit)
		if k == j {
			return 0, ErrBadVia
		}
		i = k
	}
	var p param
params:
	for {
		switch readParam(b, i, end, &p) {
		case paramNone:
			break params
		case paramNoName:
			return 0, ErrBadVia
		case paramOpenQuote:
			return 0, ErrTruncated
		}
		i = p.end
		if eqFold(b[p.nameStart:p.nameEnd], "keep") {
			setKeep(b, v, &p)
		}
	}
	// Only LWS, then ',' or the end, may follow; scanVia checks which.
	if j = skipWS(b, i, end); j < end && b[j] != ',' {
		return 0, ErrBadVia
	}
	v.End, v.Insert = i, i
	return i, nil
}

// setKeep records one keep parameter on v (RFC 6223 §8.2:
// keep = "keep" [ EQUAL 1*(DIGIT) ]).
func setKeep(b []byte, v *Via, p *param) {
	if v.Keep != KeepAbsent {
		// The offsets stay on the first occurrence; the value is not
		// trusted because the two may disagree.
		v.Keep, v.KeepValue = KeepDuplicate, 0
		return
	}
	v.KeepStart, v.KeepNameEnd, v.KeepEnd = p.nameStart, p.nameEnd, p.end
	switch {
	case !p.hasEq:
		v.Keep = KeepBare
	case p.quoted:
		v.Keep = KeepBad
	default:
		if n, ok := parseUint32(b[p.valStart:p.valEnd]); ok {
			v.Keep, v.KeepValue = KeepValue, n
		} else {
			v.Keep = KeepBad
		}
	}
}
