package sipscanref

// hdr identifies the headers Scan reads; every other header is skipped.
type hdr uint8

const (
	hOther hdr = iota
	hVia
	hCSeq
	hCallID
	hFrom
	hTo
	hContact
	hExpires
	hFlowTimer
	hRecordRoute
	hRequire
	hSupported
	hSubscriptionState
)

// headerKind maps a header name, case-insensitively and with the compact
// forms of RFC 3261 §7.3.3 (and RFC 3841's "k" for Supported), to a hdr.
func headerKind(name []byte) hdr {
	switch len(name) {
	case 1:
		switch name[0] | 0x20 { // only 'X' and 'x' map to 'x' among token bytes
		case 'v':
			return hVia
		case 'i':
			return hCallID
		case 'f':
			return hFrom
		case 't':
			return hTo
		case 'm':
			return hContact
		case 'k':
			return hSupported
		}
	case 2:
		if eqFold(name, "to") {
			return hTo
		}
	case 3:
		if eqFold(name, "via") {
			return hVia
		}
	case 4:
		if eqFold(name, "cseq") {
			return hCSeq
		}
		if eqFold(name, "from") {
			return hFrom
		}
	case 7:
		switch {
		case eqFold(name, "call-id"):
			return hCallID
		case eqFold(name, "contact"):
			return hContact
		case eqFold(name, "expires"):
			return hExpires
		case eqFold(name, "require"):
			return hRequire
		}
	case 9:
		if eqFold(name, "supported") {
			return hSupported
		}
	case 10:
		if eqFold(name, "flow-timer") {
			return hFlowTimer
		}
	case 12:
		if eqFold(name, "record-route") {
			return hRecordRoute
		}
	case 18:
		if eqFold(name, "subscription-state") {
			return hSubscriptionState
		}
	}
	return hOther
}

// methodOf maps a method token to a Method. SIP methods are case-sensitive
// (RFC 3261 §7.1), so "invite" is MethodOther.
func methodOf(b []byte) Method {
	// switch on string(b) compiles to comparisons without a conversion.
	switch string(b) {
	case "REGISTER":
		return MethodREGISTER
	case "INVITE":
		return MethodINVITE
	case "ACK":
		return MethodACK
	case "BYE":
		return MethodBYE
	case "CANCEL":
		return MethodCANCEL
	case "SUBSCRIBE":
		return MethodSUBSCRIBE
	case "NOTIFY":
		return MethodNOTIFY
	case "REFER":
		return MethodREFER
	case "UPDATE":
		return MethodUPDATE
	case "OPTIONS":
		return MethodOPTIONS
	case "PRACK":
		return MethodPRACK
	case "MESSAGE":
		return MethodMESSAGE
	case "INFO":
		return MethodINFO
	case "PUBLISH":
		return MethodPUBLISH
	}
	return MethodOther
}

// scanCSeq reads "CSeq: 1*DIGIT LWS Method" (RFC 3261 §20.16).
func scanCSeq(b []byte, i, end int, m *Message) error {
	i, end = trimWS(b, i, end)
	j := skipClass(b, i, end, cDigit)
	n, ok := parseUint32(b[i:j])
	if !ok {
		return ErrBadCSeq
	}
	k := skipWS(b, j, end)
	if k == j {
		return ErrBadCSeq
	}
	e := skipClass(b, k, end, cToken)
	if e == k || e != end {
		return ErrBadCSeq
	}
	m.CSeqNum, m.CSeqMethod = n, methodOf(b[k:e])
	return nil
}

// scanExpires reads "Expires: delta-seconds"; -1 when it is not 1*DIGIT.
// RFC 3261 §20.19 bounds the value by 2^32-1, so a longer one saturates.
func scanExpires(b []byte, i, end int) int64 {
	i, end = trimWS(b, i, end)
	return parseDelta(b[i:end])
}

// scanFlowTimer reads "Flow-Timer: 1*DIGIT" (RFC 5626 §11.4); -1 when it is
// not digits or does not fit in uint32. Unlike Expires, an out-of-range
// value is bad input rather than "forever", as for keep (RFC 6223 §8.2).
func scanFlowTimer(b []byte, i, end int) int64 {
	i, end = trimWS(b, i, end)
	if n, ok := parseUint32(b[i:end]); ok {
		return int64(n)
	}
	return -1
}

// hasOptionTag reports whether the comma-separated option tags in b[i:end]
// (Require, Supported) include tag (lower case), compared case-insensitively.
func hasOptionTag(b []byte, i, end int, tag string) bool {
	for i < end {
		s := skipWS(b, i, end)
		e := s
		for e < end && b[e] != ',' {
			e++
		}
		s, t := trimWS(b, s, e)
		if eqFold(b[s:t], tag) {
			return true
		}
		i = e + 1
	}
	return false
}
