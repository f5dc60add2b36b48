package sipscanref

import "errors"

// Errors returned by Scan. They are package-level values so that returning
// one does not allocate; compare with == or errors.Is.
var (
	// ErrNotSIP: the start line is neither "METHOD SP Request-URI SP SIP/2.0"
	// nor "SIP/2.0 SP 3DIGIT [SP reason]".
	ErrNotSIP = errors.New("sipscan: not a SIP start line")
	// ErrTooLarge: the header section does not end within MaxHeaderBytes.
	ErrTooLarge = errors.New("sipscan: header section larger than MaxHeaderBytes")
	// ErrTooManyVias: more than MaxVias Via values.
	ErrTooManyVias = errors.New("sipscan: more than MaxVias Via values")
	// ErrNoVia: the message has no Via value.
	ErrNoVia = errors.New("sipscan: no Via header")
	// ErrBadVia: a Via value that cannot be delimited (bad sent-protocol,
	// sent-by or parameter syntax, an empty value in a comma list).
	ErrBadVia = errors.New("sipscan: malformed Via value")
	// ErrBadCSeq: CSeq missing, duplicated, or not "1*DIGIT LWS Method".
	ErrBadCSeq = errors.New("sipscan: missing or malformed CSeq")
	// ErrBadHeader: a header line that is not "token LWS ':' value" (no
	// colon, an empty name, or a folded line right after the start line).
	ErrBadHeader = errors.New("sipscan: malformed header line")
	// ErrTruncated: the buffer ends inside a construct that must be closed: a
	// header name without its colon, a quoted string, or a "<...>" URI.
	ErrTruncated = errors.New("sipscan: truncated header")
)
