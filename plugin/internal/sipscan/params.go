package sipscan

// param is one ";name[=value]" parameter. Offsets index the scanned message.
//
// Via values (viaValueGo, and via_value_wasm.s in wasm) and name-addr
// values (nextAddrGo, addr_wasm.s) read parameters with the same grammar,
// written out in each (in wasm a call per parameter cost more than the
// parameter); param carries one to setKeep in the Go version:
//
//	SWS ';' SWS name [SWS '=' SWS value]
//	generic-param = token [ EQUAL gen-value ]
//	gen-value     = token / host / quoted-string
//
// A ';' with no token after it ends the parameters (a Via: ErrBadVia; a
// name-addr: junk skipped to the next comma); a quoted value that is not
// closed is ErrTruncated. RFC 3261 allows token / host / IPv6 as an
// unquoted value; real traffic also carries vendor values with '/', '=',
// '@' and so on. Accepting every visible byte except the delimiters
// (cValue) keeps a strange value from making the header unreadable, while
// the structure (';', ',', quotes) stays strict.
type param struct {
	nameStart, nameEnd int  // the name (a token)
	hasEq              bool // an '=' follows the name
	valStart, valEnd   int  // the value, quotes included when quoted; empty when none
	quoted             bool // the value is a quoted-string
	end                int  // just past the last non-LWS byte of the parameter
}
