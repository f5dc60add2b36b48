// Package sipscan is a zero-copy, zero-allocation scanner of the parts of a
// SIP message that RFC 6223 keep negotiation needs: the start line, every Via
// value (with the position and value of its keep parameter), CSeq, Call-ID,
// the From and To tags and the To URI, Record-Route, Contact/Expires,
// Flow-Timer and Subscription-State.
//
// It is not a SIP parser: it does not build header objects and it ignores
// every header it does not need. It runs inside the wasm guest on every
// message, so Scan must not allocate; every slice in Message aliases the
// scanned buffer.
package sipscan

// Limits of one scan. A message beyond them is reported with an error, never
// truncated silently.
const (
	// MaxVias is how many Via values a message may carry (RFC 3261 sets no
	// limit; 64 hops is far beyond any real path and bounds the scan).
	MaxVias = 64
	// MaxHeaderBytes is the largest header section scanned (the body is never
	// read: the scan stops at the empty line).
	MaxHeaderBytes = 64 * 1024
)

// Method is a SIP method the rules care about; every other method is MethodOther.
type Method uint8

const (
	MethodNone Method = iota // a response's start line has none (see CSeqMethod)
	MethodOther
	MethodREGISTER
	MethodINVITE
	MethodACK
	MethodBYE
	MethodCANCEL
	MethodSUBSCRIBE
	MethodNOTIFY
	MethodREFER
	MethodUPDATE
	MethodOPTIONS
	MethodPRACK
	MethodMESSAGE
	MethodINFO
	MethodPUBLISH
)

// KeepState is what one Via value says about the keep parameter.
type KeepState uint8

const (
	KeepAbsent    KeepState = iota // no keep parameter
	KeepBare                       // ";keep" with no value (a sender's offer)
	KeepValue                      // ";keep=N" with 1*DIGIT that fits in uint32
	KeepBad                        // ";keep=" / ";keep=abc" / ";keep=-1" / overflow / quoted
	KeepDuplicate                  // keep appears more than once on this Via value
)

// Via is one Via value (one hop), counted across header lines and comma lists.
// All offsets are byte offsets into the scanned message.
type Via struct {
	// Start and End delimit the value: from the first byte of "SIP/2.0/..."
	// to the end of its last parameter (exclusive), trailing LWS excluded.
	// A folded value spans lines: the bytes in between may hold CRLF SP.
	Start, End int
	// Insert is where a new parameter (";keep") goes: the End of the value.
	// (Equal to End; named so that callers say what they mean.) In a comma
	// list it is before the LWS and the ',' that lead to the next value, and
	// before any fold, so inserting ";keep" there never changes which value
	// the parameter belongs to.
	Insert int
	// Keep is the state of the keep parameter on this value.
	Keep KeepState
	// KeepValue is N for KeepValue.
	KeepValue uint32
	// KeepStart..KeepEnd is the whole parameter after its ';' and LWS
	// ("keep", "keep=30", "KEEP = 30": name, optional LWS, '=', LWS, value),
	// trailing LWS excluded. A quoted value counts with its quotes; for
	// "keep=" (no value) KeepEnd is just past the '='. For KeepDuplicate,
	// the first occurrence (and KeepValue is 0). Zero for KeepAbsent.
	KeepStart, KeepEnd int
	// KeepNameEnd is the end of the parameter name ("keep"): the value part
	// ("=30" with any LWS) is KeepNameEnd..KeepEnd, empty for KeepBare.
	KeepNameEnd int
}

// Message is the result of one scan. Slices alias the scanned buffer.
type Message struct {
	IsRequest bool
	// Request: the method from the request line (also compared against CSeq).
	Method Method
	// Response: status code 100..699.
	Status int

	CSeqNum    uint32
	CSeqMethod Method

	CallID  []byte // the Call-ID value, trimmed ("i:" compact form too)
	FromTag []byte // tag parameter of From ("f:"), nil if none
	ToTag   []byte // tag parameter of To ("t:"), nil if none: a request outside a dialog
	// ToURI is the URI of the first To value (the address of record of a
	// REGISTER): inside "<...>", or a bare addr-spec up to its parameters.
	ToURI []byte

	// Expires header value in seconds; -1 when absent or unparsable. Values
	// above 2^32-1 (the delta-seconds range) read as 2^32-1; so do the
	// Contact expires parameters below. The first Expires header counts.
	Expires int64
	// Contacts counts Contact values ("m:") across header lines and comma
	// lists; ContactStar reports "Contact: *", which is not counted.
	Contacts    int
	ContactStar bool
	// ContactExpiresMax is the largest expires parameter among the Contact
	// values, -1 when none has one. ContactExpiresMin likewise the smallest.
	ContactExpiresMax int64
	ContactExpiresMin int64
	// FlowTimer is the Flow-Timer header value in seconds; -1 when absent or
	// bad (not 1*DIGIT, or above 2^32-1 like a bad keep value).
	FlowTimer int64
	// SubscriptionTerminated reports that the first Subscription-State
	// header (RFC 6665 §8.2.3) says "terminated" (any case; its parameters
	// are not read). A malformed one reads as not terminated.
	SubscriptionTerminated bool
	// RecordRoutes counts Record-Route values.
	RecordRoutes int
	// Require/Supported carry the "outbound" option tag (RFC 5626).
	Outbound bool

	Vias  [MaxVias]Via
	NVias int
	// lower holds the Via lines (or the rest of the top Via's line) below
	// the top value that ScanFor has not read yet: see NeedLowerKeeps.
	lower  [8]span
	nLower int
	// callID, toTag and toURI are CallID, ToTag and ToURI while the scan
	// runs, as offsets (ScanFor makes the slices once it is done): the
	// wasm assembly writes them, and it stores no pointers, which would
	// need the garbage collector's write barrier.
	callID, toTag, toURI field
	// HeaderEnd is the offset just past the empty line that ends the headers
	// (the start of the body), or len(msg) when the message has no body separator.
	HeaderEnd int
}
