package sipscan

// How viaValue's value ended (st).
const (
	viaLast  = iota // a value, then only LWS to the end of the line
	viaMore         // a value, then ',': the next one starts at or after next
	viaJunk         // a value, then something other than ',': ErrBadVia after it
	viaEmpty        // nothing but LWS: ErrBadVia, v not written
	viaBad          // ErrBadVia inside the value
	viaTrunc        // a quoted-string not closed: ErrTruncated
)

// The assembly's flags of one parameter (param's hasEq and quoted). Only
// via_value_wasm.s reads them, as const_viaHasEq and const_viaQuoted
// through go_asm.h, which staticcheck does not see.
const (
	//lint:ignore U1000 read by via_value_wasm.s
	viaHasEq = 1
	//lint:ignore U1000 read by via_value_wasm.s
	viaQuoted = 2
)

// viaValueGo is viaValue in Go: the reference for the wasm assembly
// (via_value_wasm.s) and the implementation everywhere else.
//
// It reads the via-parm in b[i:] (len(b) is the end of the header line's
// value), LWS before it included,
//
//	via-parm = sent-protocol LWS sent-by *( SEMI via-params )
//
// into v: Start, End and Insert, and the keep parameter as setKeep
// records it. st says how the value ended (viaLast...) and next, for
// viaMore, is just past the ','. For viaEmpty v is not written; after
// an error inside the value, v holds what was read up to it.
//
// The parameters follow params.go; names and values are tested eight bytes
// at a time where they allow (nameRun8, valueRun8). The assembly does the
// same and reads hostnames eight bytes at a time as well; here the host is
// the plain byte loop, the definition the assembly is tested against.
func viaValueGo(b []byte, i int, v *Via) (st, next int) {
	// Indexes compared as uint against n = len(b): the compiler then
	// proves the indexing in bounds.
	n := len(b)
	for uint(i) < uint(n) && class[b[i]]&cWS != 0 {
		i++
	}
	if i >= n {
		return viaEmpty, 0
	}
	// Field by field: in wasm, zeroing a struct of more than 32 bytes
	// is a memory.fill, which wazero runs as calls to memmove.
	v.Start, v.End, v.Insert = i, 0, 0
	v.Keep, v.KeepValue, v.KeepStart, v.KeepEnd, v.KeepNameEnd = KeepAbsent, 0, 0, 0, 0
	// sent-protocol: three tokens; SLASH = SWS "/" SWS.
	for k := 0; k < 3; k++ {
		if k > 0 {
			for uint(i) < uint(n) && class[b[i]]&cWS != 0 {
				i++
			}
			if uint(i) >= uint(n) || b[i] != '/' {
				return viaBad, 0
			}
			i++
			for uint(i) < uint(n) && class[b[i]]&cWS != 0 {
				i++
			}
		}
		j := i
		for uint(j) < uint(n) && class[b[j]]&cToken != 0 {
			j++
		}
		if j == i {
			return viaBad, 0
		}
		i = j
	}
	// LWS is mandatory between transport and host.
	j := i
	for uint(j) < uint(n) && class[b[j]]&cWS != 0 {
		j++
	}
	if j == i || uint(j) >= uint(n) {
		return viaBad, 0
	}
	i = j
	// host: IPv6reference or hostname / IPv4address.
	if b[i] == '[' {
		j = i + 1
		for uint(j) < uint(n) && class[b[j]]&cV6 != 0 {
			j++
		}
		if j == i+1 || uint(j) >= uint(n) || b[j] != ']' {
			return viaBad, 0
		}
		i = j + 1
	} else {
		for uint(j) < uint(n) && class[b[j]]&cHost != 0 {
			j++
		}
		if j == i {
			return viaBad, 0
		}
		i = j
	}
	// [ COLON port ], COLON = SWS ":" SWS ("host: 4000" is legal).
	j = i
	for uint(j) < uint(n) && class[b[j]]&cWS != 0 {
		j++
	}
	if uint(j) < uint(n) && b[j] == ':' {
		j++
		for uint(j) < uint(n) && class[b[j]]&cWS != 0 {
			j++
		}
		k := j
		for uint(k) < uint(n) && class[b[k]]&cDigit != 0 {
			k++
		}
		if k == j {
			return viaBad, 0
		}
		i = k
	}
	// *( SEMI via-params ), each "SWS ';' SWS name [SWS '=' SWS value]".
	for {
		j = i
		for uint(j) < uint(n) && class[b[j]]&cWS != 0 {
			j++
		}
		if uint(j) >= uint(n) || b[j] != ';' {
			break
		}
		j++
		for uint(j) < uint(n) && class[b[j]]&cWS != 0 {
			j++
		}
		ns := j
		if j+8 <= n {
			j += nameRun8(le.Uint64(b[j:])) // most names: letters, digits, '-'
		}
		for uint(j) < uint(n) && class[b[j]]&cToken != 0 {
			j++
		}
		if j == ns {
			return viaBad, 0
		}
		ne := j
		pe, hasEq, quoted, vs, ve := j, false, false, 0, 0
		for uint(j) < uint(n) && class[b[j]]&cWS != 0 {
			j++
		}
		if uint(j) < uint(n) && b[j] == '=' {
			hasEq = true
			j++
			pe = j
			for uint(j) < uint(n) && class[b[j]]&cWS != 0 {
				j++
			}
			vs, ve = j, j
			if uint(j) < uint(n) && b[j] == '"' {
				k, closed := skipQuoted(b, j, n)
				if !closed {
					return viaTrunc, 0
				}
				quoted = true
				ve, pe = k, k
			} else {
				k := j
				for k+8 <= n {
					r := valueRun8(le.Uint64(b[k:]))
					k += r
					if r < 8 {
						break
					}
				}
				if k+8 > n {
					for uint(k) < uint(n) && class[b[k]]&cValue != 0 {
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
	for uint(i) < uint(n) && class[b[i]]&cWS != 0 {
		i++
	}
	switch {
	case i >= n:
		return viaLast, 0
	case b[i] != ',':
		return viaJunk, 0
	}
	return viaMore, i + 1
}
