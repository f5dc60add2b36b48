package sipscan

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

	// hStartLine is no header: scanLines returns it for a start line
	// it leaves to Go.
	hStartLine
)

// kindTable maps a header name's (length, first letter) to the header
// Scan reads; see nameKind. kindRows bounds the length: one more than the
// longest name, "subscription-state".
type kindTable [kindRows][32]hdr

const kindRows = 19

// Header names are looked up by length and first letter: nameKind[len][c&31]
// is the one header Scan reads with a name (or compact form, RFC 3261
// §7.3.3 and RFC 3841's "k") of that length starting with letter c in
// either case, and the rest of the name is then compared with hdrName.
// Only "call-id" and "contact" share a length and a first letter; Scan
// tells them apart by the second, and takes Contact's entry from the slot
// no name uses, [0][0] (hOther in a table that leaves Contact out). Every
// other header is skipped on the lookup alone. (headerKind is the lookup
// in Go; in wasm nextHeader does it in assembly while it walks the lines,
// and reads hdrName as an array of strings.)
var hdrName = [...]string{hVia: "via", hCSeq: "cseq", hCallID: "call-id", hFrom: "from", hTo: "to",
	hContact: "contact", hExpires: "expires", hFlowTimer: "flow-timer", hRecordRoute: "record-route",
	hRequire: "require", hSupported: "supported", hSubscriptionState: "subscription-state"}

var nameKind = func() (t kindTable) {
	for h, name := range hdrName {
		if name != "" && hdr(h) != hContact {
			if t[len(name)][name[0]&31] != hOther {
				panic("sipscan: two headers share a length and a first letter: " + name)
			}
			t[len(name)][name[0]&31] = hdr(h)
		}
	}
	t[0][0] = hContact
	for name, h := range map[string]hdr{"v": hVia, "i": hCallID, "f": hFrom, "t": hTo, "m": hContact, "k": hSupported} {
		t[1][name[0]&31] = h
	}
	return t
}()

// headerKind is the header named name (a token, not empty) in kinds
// (nameKind or one of kindsBySkip), or hOther.
func headerKind(name []byte, kinds *kindTable) hdr {
	l, c0 := len(name), name[0]
	if l >= len(kinds) || (c0|0x20)-'a' > 'z'-'a' {
		return hOther
	}
	h := kinds[l][c0&31]
	if h != hOther && l > 1 {
		if h == hCallID && name[1]|0x20 == 'o' {
			h = kinds[0][0] // hContact, or hOther: see nameKind
		}
		if !eqFold(name, hdrName[h]) {
			return hOther
		}
	}
	return h
}

// What a Need leaves out, as the headers ScanFor passes over: kindsBySkip
// is nameKind with the headers of the bits in its index taken out, so a
// header left out costs the scan no more than an unknown one.
const (
	skipOptionTags = 1 << iota // Require, Supported
	skipFrom
	skipRecordRoute
	skipContacts // Contact, Expires
	skipVia      // after the top Via value
	skipIDs      // Call-ID, To
	skipCombos   = 1 << iota
)

var kindsBySkip = func() (t [skipCombos]kindTable) {
	// leftBy[h] is the skip bit that takes header h out; only the cells
	// nameKind names can change. (Built once per instance: in wasm a loop
	// over every cell of 64 tables took ~1 ms of each instance's start.)
	var leftBy [hSubscriptionState + 1]int
	for bit, hs := range [...][]hdr{
		{hRequire, hSupported}, {hFrom}, {hRecordRoute}, {hContact, hExpires}, {hVia}, {hCallID, hTo},
	} {
		for _, h := range hs {
			leftBy[h] = 1 << bit
		}
	}
	type cell struct{ l, c int }
	var named []cell
	for l := range nameKind {
		for c, h := range nameKind[l] {
			if h != hOther {
				named = append(named, cell{l, c})
			}
		}
	}
	for skip := range t {
		t[skip] = nameKind
		for _, x := range named {
			if skip&leftBy[nameKind[x.l][x.c]] != 0 {
				t[skip][x.l][x.c] = hOther
			}
		}
		if skip&(skipIDs|skipContacts) == skipIDs {
			// Call-ID's entry, taken out, was also how "contact" is
			// found: name it Contact, whose name it is then compared
			// with.
			t[skip][len("contact")]['c'&31] = hContact
		}
	}
	return t
}()

// skipOf is what need leaves out before the start line is read (the
// request's method decides skipContacts and skipIDs).
func skipOf(need Need) int {
	skip := 0
	if need&NeedOutbound == 0 {
		skip |= skipOptionTags
	}
	if need&NeedFromTag == 0 {
		skip |= skipFrom
	}
	if need&NeedRecordRoutes == 0 {
		skip |= skipRecordRoute
	}
	return skip
}

// methodOf maps a method token to a Method. SIP methods are case-sensitive
// (RFC 3261 §7.1), so "invite" is MethodOther.
func methodOf(b []byte) Method {
	if l := len(b); l <= 8 && l > 0 && cap(b) >= 8 {
		return methodOfWord(le.Uint64(b[:8]), l) // (b runs on in the message)
	}
	return methodByName(b)
}

// methodByName is methodOf for any b: the reference for methodOfWord.
func methodByName(b []byte) Method {
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
	// The usual value, " 4711 INVITE" (one SP before and between, at most
	// seven digits, a method of at most eight letters running to the end),
	// is read a word at a time (word.go); anything else takes the general
	// path below, which reads it the same way.
	if j := i + 1; j+16 <= len(b) && b[i] == ' ' {
		x := le.Uint64(b[j:])
		if k := digitRun8(x); k > 0 && k < 8 && b[j+k] == ' ' {
			s := j + k + 1
			w := le.Uint64(b[s:])
			if l := end - s; l > 0 && l <= 8 && nameRun8(w) >= l {
				m.CSeqNum, m.CSeqMethod = digitsValue(x, k), methodOfWord(w, l)
				return nil
			}
		}
	}
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
	// The usual value, " 3600" (one SP, at most seven digits), a word at a
	// time (as in scanCSeq).
	if j := i + 1; j+8 <= len(b) && b[i] == ' ' {
		if k := digitRun8(le.Uint64(b[j:])); k > 0 && k < 8 && j+k == end {
			return int64(digitsValue(le.Uint64(b[j:]), k))
		}
	}
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

// isTerminated reports whether a Subscription-State value's substate-value
// is "terminated" (RFC 6665 §8.2.3: substate-value *( SEMI subexp-params )),
// compared case-insensitively, LWS around it allowed.
func isTerminated(b []byte, i, end int) bool {
	i = skipWS(b, i, end)
	e := skipClass(b, i, end, cToken)
	if !eqFold(b[i:e], "terminated") {
		return false
	}
	e = skipWS(b, e, end)
	return e == end || b[e] == ';'
}
