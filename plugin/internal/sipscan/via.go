package sipscan

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
//
// This is the hottest code of the plugin in wasm, where every loop
// iteration of Go code is a jump through a br_table: each value is read
// into its Via by one viaValue call (via_value.go; wasm assembly in wasm).
func scanVia(b []byte, i, end int, m *Message) error {
	for {
		more, err := nextVia(b, i, end, m)
		if more == 0 || err != nil {
			return err
		}
		i = more
	}
}

// nextVia reads one Via value, the one at b[i:end] (end is the end of the
// header line's value), into m.Vias[m.NVias]. more is where the line's
// next value starts, after a ',', or 0 when none follows; ScanFor calls it
// alone for the top Via when it reads no other.
func nextVia(b []byte, i, end int, m *Message) (more int, err error) {
	if m.NVias == MaxVias {
		if skipWS(b, i, end) >= end {
			return 0, ErrBadVia // an empty header, or a comma with nothing after it
		}
		return 0, ErrTooManyVias
	}
	st, next := viaValue(b[:end], i, &m.Vias[m.NVias])
	switch st {
	case viaMore:
		m.NVias++
		return next, nil
	case viaLast:
		m.NVias++
		return 0, nil
	case viaJunk:
		m.NVias++
		return 0, ErrBadVia // only LWS, then ',' or the end, may follow a value
	case viaTrunc:
		return 0, ErrTruncated
	}
	return 0, ErrBadVia // viaBad, or viaEmpty: an empty header or a comma with nothing after it
}

// span is a range of the scanned message.
type span struct{ start, end int32 }

// lowerVia takes Via values below the top, b[i:end] (a Via line, or the
// rest of the top Via's line), for NeedLowerKeeps. They are only noted
// while no Via text below the top mentions keep; the first that does, or
// more lines than m.lower holds, has every noted range read in order, as
// scanVia would have read them, and every later one read at once.
func lowerVia(b []byte, i, end int, m *Message) error {
	if m.nLower >= 0 {
		if m.nLower < len(m.lower) && !mentionsKeep(b, i, end) {
			m.lower[m.nLower] = span{int32(i), int32(end)}
			m.nLower++
			return nil
		}
		noted := m.nLower
		m.nLower = -1 // from now on every value is read
		for k := 0; k < noted; k++ {
			if err := scanVia(b, int(m.lower[k].start), int(m.lower[k].end), m); err != nil {
				return err
			}
		}
	}
	return scanVia(b, i, end, m)
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
