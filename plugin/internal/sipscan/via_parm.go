package sipscan

// What viaParm found, in the low bits of st.
const (
	viaLast  = iota // a value, then only LWS to the end of the line
	viaMore         // a value, then ',': the next one starts at or after next
	viaJunk         // a value, then something other than ',': ErrBadVia after it
	viaEmpty        // nothing but LWS: ErrBadVia, no value
	viaBad          // ErrBadVia inside the value
	viaTrunc        // a quoted-string not closed: ErrTruncated
	viaCode  = 7    // mask of the codes above
)

// The keep parameters seen by viaParm, in the upper bits of st.
const (
	viaKeep       = 1 << 3 // a keep parameter: ks..ke are the first one's
	viaKeepAgain  = 1 << 4 // another keep parameter after it (KeepDuplicate)
	viaKeepEq     = 1 << 5 // the first has an '=' (hasEq)
	viaKeepQuoted = 1 << 6 // the first has a quoted value
)

// viaParmGo is viaParm in Go: the reference for the wasm assembly
// (via_wasm.s) and the implementation everywhere else.
//
// It reads one via-parm from b[i:] (len(b) is the end of the header
// line's value), LWS before it included:
//
//	via-parm = sent-protocol LWS sent-by *( SEMI via-params )
//
// and returns the code (viaLast...) with the keep bits in st; start and
// end delimit the value; next is just past the ',' for viaMore; ks, kne,
// kvs, kve, ke are the first keep parameter's name start, name end, value
// start and end, and end (a param's nameStart, nameEnd, valStart, valEnd,
// end), also when an error follows it. A keep parameter counts only once
// it is read whole, as it did when scanVia called setKeep per parameter.
// Whatever a path does not set is 0, so the two versions compare whole.
//
// The parameters follow params.go; a parameter value is read eight bytes
// at a time (valueRun8), names by a plain token loop (they are short).
func viaParmGo(b []byte, i int) (st, start, end, next, ks, kne, kvs, kve, ke int) {
	// Indexes compared as uint against n = len(b): the compiler then
	// proves the indexing in bounds.
	n := len(b)
	for uint(i) < uint(n) && class[b[i]]&cWS != 0 {
		i++
	}
	if i >= n {
		return viaEmpty, 0, 0, 0, 0, 0, 0, 0, 0
	}
	start = i
	// sent-protocol: three tokens; SLASH = SWS "/" SWS.
	for k := 0; k < 3; k++ {
		if k > 0 {
			for uint(i) < uint(n) && class[b[i]]&cWS != 0 {
				i++
			}
			if uint(i) >= uint(n) || b[i] != '/' {
				return viaBad, start, 0, 0, 0, 0, 0, 0, 0
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
			return viaBad, start, 0, 0, 0, 0, 0, 0, 0
		}
		i = j
	}
	// LWS is mandatory between transport and host.
	j := i
	for uint(j) < uint(n) && class[b[j]]&cWS != 0 {
		j++
	}
	if j == i || uint(j) >= uint(n) {
		return viaBad, start, 0, 0, 0, 0, 0, 0, 0
	}
	i = j
	// host: IPv6reference or hostname / IPv4address.
	if b[i] == '[' {
		j = i + 1
		for uint(j) < uint(n) && class[b[j]]&cV6 != 0 {
			j++
		}
		if j == i+1 || uint(j) >= uint(n) || b[j] != ']' {
			return viaBad, start, 0, 0, 0, 0, 0, 0, 0
		}
		i = j + 1
	} else {
		for uint(j) < uint(n) && class[b[j]]&cHost != 0 {
			j++
		}
		if j == i {
			return viaBad, start, 0, 0, 0, 0, 0, 0, 0
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
			return viaBad, start, 0, 0, 0, 0, 0, 0, 0
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
		for uint(j) < uint(n) && class[b[j]]&cToken != 0 {
			j++
		}
		if j == ns {
			return st | viaBad, start, 0, 0, ks, kne, kvs, kve, ke
		}
		ne := j
		pe, flags, vs, ve := j, 0, 0, 0
		for uint(j) < uint(n) && class[b[j]]&cWS != 0 {
			j++
		}
		if uint(j) < uint(n) && b[j] == '=' {
			flags = viaKeepEq
			j++
			pe = j
			for uint(j) < uint(n) && class[b[j]]&cWS != 0 {
				j++
			}
			vs, ve = j, j
			if uint(j) < uint(n) && b[j] == '"' {
				k, closed := skipQuoted(b, j, n)
				if !closed {
					return st | viaTrunc, start, 0, 0, ks, kne, kvs, kve, ke
				}
				flags |= viaKeepQuoted
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
			if st&viaKeep != 0 {
				st |= viaKeepAgain
			} else {
				st |= viaKeep | flags
				ks, kne, kvs, kve, ke = ns, ne, vs, ve, pe
			}
		}
	}
	// Only LWS, then ',' or the end, may follow.
	end = i
	for uint(i) < uint(n) && class[b[i]]&cWS != 0 {
		i++
	}
	switch {
	case i >= n:
		st |= viaLast
	case b[i] != ',':
		st |= viaJunk
	default:
		st |= viaMore
		next = i + 1
	}
	return st, start, end, next, ks, kne, kvs, kve, ke
}
