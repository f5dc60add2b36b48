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
// This is the hottest code of the plugin in wasm, where every function call
// and every loop iteration is dear: the values and their parameters are read
// in this one function (the parameter grammar of params.go written out), parameter values
// eight bytes at a time.
func scanVia(b []byte, i, end int, m *Message) error {
	// With b cut at end and indexes compared as uint, the compiler proves
	// the indexing in bounds: in wasm each bounds check is a branch.
	b = b[:end]
	end = len(b)
	for {
		for uint(i) < uint(end) && class[b[i]]&cWS != 0 {
			i++
		}
		if i >= end {
			return ErrBadVia // an empty header, or a comma with nothing after it
		}
		if m.NVias == MaxVias {
			return ErrTooManyVias
		}
		v := &m.Vias[m.NVias]
		// Field by field: in wasm, zeroing a struct of more than 32 bytes
		// is a memory.fill, which wazero runs as calls to memmove.
		v.Start, v.End, v.Insert = i, 0, 0
		v.Keep, v.KeepValue, v.KeepStart, v.KeepEnd, v.KeepNameEnd = KeepAbsent, 0, 0, 0, 0
		// sent-protocol: three tokens; SLASH = SWS "/" SWS.
		for k := 0; k < 3; k++ {
			if k > 0 {
				for uint(i) < uint(end) && class[b[i]]&cWS != 0 {
					i++
				}
				if uint(i) >= uint(end) || b[i] != '/' {
					return ErrBadVia
				}
				i++
				for uint(i) < uint(end) && class[b[i]]&cWS != 0 {
					i++
				}
			}
			j := i
			for uint(j) < uint(end) && class[b[j]]&cToken != 0 {
				j++
			}
			if j == i {
				return ErrBadVia
			}
			i = j
		}
		// LWS is mandatory between transport and host.
		j := i
		for uint(j) < uint(end) && class[b[j]]&cWS != 0 {
			j++
		}
		if j == i || uint(j) >= uint(end) {
			return ErrBadVia
		}
		i = j
		// host: IPv6reference or hostname / IPv4address.
		if b[i] == '[' {
			j = i + 1
			for uint(j) < uint(end) && class[b[j]]&cV6 != 0 {
				j++
			}
			if j == i+1 || uint(j) >= uint(end) || b[j] != ']' {
				return ErrBadVia
			}
			i = j + 1
		} else {
			for uint(j) < uint(end) && class[b[j]]&cHost != 0 {
				j++
			}
			if j == i {
				return ErrBadVia
			}
			i = j
		}
		// [ COLON port ], COLON = SWS ":" SWS ("host: 4000" is legal).
		j = i
		for uint(j) < uint(end) && class[b[j]]&cWS != 0 {
			j++
		}
		if uint(j) < uint(end) && b[j] == ':' {
			j++
			for uint(j) < uint(end) && class[b[j]]&cWS != 0 {
				j++
			}
			k := j
			for uint(k) < uint(end) && class[b[k]]&cDigit != 0 {
				k++
			}
			if k == j {
				return ErrBadVia
			}
			i = k
		}
		// *( SEMI via-params ), each "SWS ';' SWS name [SWS '=' SWS value]"
		// as params.go describes them.
		for {
			j = i
			for uint(j) < uint(end) && class[b[j]]&cWS != 0 {
				j++
			}
			if uint(j) >= uint(end) || b[j] != ';' {
				break
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
				return ErrBadVia
			}
			ne := j
			pe, hasEq, quoted, vs, ve := j, false, false, 0, 0
			for uint(j) < uint(end) && class[b[j]]&cWS != 0 {
				j++
			}
			if uint(j) < uint(end) && b[j] == '=' {
				hasEq = true
				pe = j + 1
				j++
				for uint(j) < uint(end) && class[b[j]]&cWS != 0 {
					j++
				}
				vs, ve = j, j
				if uint(j) < uint(end) && b[j] == '"' {
					k, closed := skipQuoted(b, j, end)
					if !closed {
						return ErrTruncated
					}
					quoted = true
					ve, pe = k, k
				} else {
					// skipValue, written out.
					k := j
					for k+8 <= end {
						r := valueRun8(le.Uint64(b[k:]))
						k += r
						if r < 8 {
							break
						}
					}
					if k+8 > end {
						for uint(k) < uint(end) && class[b[k]]&cValue != 0 {
							k++
						}
					}
					if k > j {
						ve, pe = k, k
					}
				}
			}
			i = pe
			if ne-ns == 4 && eqFold(b[ns:ne], "keep") {
				setKeep(b, v, &param{nameStart: ns, nameEnd: ne, hasEq: hasEq, valStart: vs, valEnd: ve, quoted: quoted, end: pe})
			}
		}
		// Only LWS, then ',' or the end, may follow.
		v.End, v.Insert = i, i
		m.NVias++
		for uint(i) < uint(end) && class[b[i]]&cWS != 0 {
			i++
		}
		if i == end {
			return nil
		}
		if b[i] != ',' {
			return ErrBadVia
		}
		i++
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
