package abi

import (
	"bytes"

	"github.com/sipkeep/sipkeep/internal/asciifold"
)

// StandingGrantProbe is the response a host shows a module that declares
// FeatureStandingGrant, on a flow of its own with no record, to learn the
// keep value it grants on every response StandingGrantSite accepts: the
// module's edit for it is set-keep N on Via 0, or nothing (no standing
// grant: the receiver role is off, or REGISTER is not a method it grants on).
const StandingGrantProbe = "SIP/2.0 200 OK\r\n" +
	"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-probe;keep\r\n" +
	"From: <sip:probe@example.invalid>;tag=probe\r\n" +
	"To: <sip:probe@example.invalid>;tag=probe\r\n" +
	"Call-ID: standing-grant-probe\r\n" +
	"CSeq: 1 REGISTER\r\n" +
	"Contact: <sip:probe@192.0.2.1:5060>;expires=60\r\n" +
	"Content-Length: 0\r\n\r\n"

// StandingGrantSite reports whether msg is a response a module's standing
// grant covers (FeatureStandingGrant), read off its text without parsing
// it, and where the grant's "=N" goes: right after the "keep" of the top
// Via. It accepts only the plain case, so that the decision cannot depend
// on anything but the module's policy:
//   - a 2xx status line ("SIP/2.0 2dd ");
//   - in the header block, "keep" (any case) exactly once, as a bare
//     parameter of the first Via header field's first value: ";keep" on the
//     header's own line, before any ',' or '"', followed by ';', ',', or
//     the line's end (spaces and tabs allowed before those);
//   - exactly one CSeq header, with the method REGISTER;
//   - no Flow-Timer header (R15 takes its value from it);
//   - lines end in CRLF, with no bare CR or LF in the header block.
//
// Anything else is false, and the host calls the module as usual. Linear in
// the header bytes. hostadapters/sipkeepc's skc_standing_site is the same
// rule in C (TestStandingSiteAgrees ties them).
func StandingGrantSite(msg []byte) (at int, ok bool) {
	if len(msg) < 13 || !bytes.HasPrefix(msg, []byte("SIP/2.0 2")) ||
		!isDigit(msg[9]) || !isDigit(msg[10]) || msg[11] != ' ' {
		return 0, false
	}
	end := bytes.Index(msg, []byte("\r\n\r\n"))
	if end < 0 {
		return 0, false
	}
	hdr := msg[:end+2]
	k := asciifold.Index(hdr, "keep")
	if k < 0 || asciifold.Index(hdr[k+4:], "keep") >= 0 {
		return 0, false
	}
	seenVia, cseq := false, 0
	at = -1
	for off := bytes.Index(hdr, crlf) + 2; off < len(hdr); {
		eol := off + bytes.Index(hdr[off:], crlf)
		line := hdr[off:eol]
		if bytes.ContainsAny(line, "\r\n") {
			return 0, false // a bare CR or LF: line ends a reader might split otherwise
		}
		name, value, hasColon := headerName(line)
		switch {
		case !hasColon:
			// a continuation line, or not a header: only the Via's own line may hold the keep
		case asciifold.Equal(name, "via") || asciifold.Equal(name, "v"):
			if !seenVia {
				seenVia = true
				if k > off && k < eol {
					if !bareKeepAt(hdr, off+value, k, eol) {
						return 0, false
					}
					at = k + 4
				}
			}
		case asciifold.Equal(name, "cseq"):
			cseq++
			if cseq > 1 || !cseqIsRegister(line[value:]) {
				return 0, false
			}
		case asciifold.Equal(name, "flow-timer"):
			return 0, false
		}
		off = eol + 2
	}
	if at < 0 || cseq != 1 {
		return 0, false
	}
	return at, true
}

var crlf = []byte("\r\n")

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// headerName splits a header line at its colon: the name (trailing spaces
// and tabs trimmed) and the offset of the value. A line that starts with a
// space or tab continues the previous header: no name.
func headerName(line []byte) (name []byte, value int, ok bool) {
	if len(line) == 0 || line[0] == ' ' || line[0] == '\t' {
		return nil, 0, false
	}
	c := bytes.IndexByte(line, ':')
	if c <= 0 {
		return nil, 0, false
	}
	name = bytes.TrimRight(line[:c], " \t")
	return name, c + 1, true
}

// bareKeepAt reports whether the "keep" at k is a bare parameter of the
// first via-parm, which starts at start on a line ending at eol.
func bareKeepAt(hdr []byte, start, k, eol int) bool {
	if k == 0 || hdr[k-1] != ';' || bytes.ContainsAny(hdr[start:k], ",\"") {
		return false
	}
	j := k + 4
	for j < eol && (hdr[j] == ' ' || hdr[j] == '\t') {
		j++
	}
	return j == eol || hdr[j] == ';' || hdr[j] == ','
}

// cseqIsRegister reports whether a CSeq value is "<digits> REGISTER".
func cseqIsRegister(v []byte) bool {
	v = bytes.Trim(v, " \t")
	i := 0
	for i < len(v) && isDigit(v[i]) {
		i++
	}
	if i == 0 || i == len(v) || (v[i] != ' ' && v[i] != '\t') {
		return false
	}
	return string(bytes.TrimLeft(v[i:], " \t")) == "REGISTER"
}
