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
// by one viaParm call (via_parm.go; wasm assembly in wasm), which returns
// its bounds and the first keep parameter; here they are recorded.
func scanVia(b []byte, i, end int, m *Message) error {
	b = b[:end]
	for {
		if m.NVias == MaxVias {
			if skipWS(b, i, end) >= end {
				return ErrBadVia // an empty header, or a comma with nothing after it
			}
			return ErrTooManyVias
		}
		st, start, vend, next, ks, kne, kvs, kve, ke := viaParm(b, i)
		code := st & viaCode
		if code == viaEmpty {
			return ErrBadVia // an empty header, or a comma with nothing after it
		}
		v := &m.Vias[m.NVias]
		// Field by field: in wasm, zeroing a struct of more than 32 bytes
		// is a memory.fill, which wazero runs as calls to memmove.
		v.Start, v.End, v.Insert = start, 0, 0
		v.Keep, v.KeepValue, v.KeepStart, v.KeepEnd, v.KeepNameEnd = KeepAbsent, 0, 0, 0, 0
		if st&viaKeep != 0 {
			setKeep(b, v, &param{nameStart: ks, nameEnd: kne, hasEq: st&viaKeepEq != 0,
				valStart: kvs, valEnd: kve, quoted: st&viaKeepQuoted != 0, end: ke})
			if st&viaKeepAgain != 0 {
				v.Keep, v.KeepValue = KeepDuplicate, 0 // what setKeep does for a second one
			}
		}
		switch code {
		case viaBad:
			return ErrBadVia
		case viaTrunc:
			return ErrTruncated
		}
		v.End, v.Insert = vend, vend
		m.NVias++
		switch code {
		case viaLast:
			return nil
		case viaJunk:
			return ErrBadVia // only LWS, then ',' or the end, may follow
		}
		i = next
	}
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
