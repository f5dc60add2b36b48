// Package abi is the contract between the sipkeep plugin (a WebAssembly guest) and
// every host that runs it: export names, the ABI version marker, feature flags,
// and the byte layouts of the hot-path input and output buffers.
//
// ABI.md in this directory is the prose specification; this package is its
// executable form. Both sides import it: the guest to decode inputs and encode
// outputs without allocating, the host to do the reverse. It imports only the
// standard library and internal/asciifold (which imports only bytes), so it
// compiles for GOOS=wasip1 unchanged; TestImportsStayPortable holds it there.
package abi

// Version is the ABI version marker the guest exports: major<<16 | minor.
// A host accepts a module whose major equals VersionMajor and whose minor is
// at least the minor it needs. Minor versions only add (new kinds, flags,
// reasons, trailing fields that older hosts ignore).
const (
	VersionMajor = 1
	VersionMinor = 0
	Version      = uint32(VersionMajor)<<16 | uint32(VersionMinor)
)

// Names of the guest's exports. Signatures are given as wasm types.
const (
	// () -> i32: Version.
	ExportABIVersion = "sipkeep_abi_version"
	// () -> i64: the Feature bits this module implements.
	ExportFeatures = "sipkeep_features"
	// () -> i32: address of the guest-owned input buffer.
	ExportInputBuffer = "sipkeep_input_buffer"
	// () -> i32: capacity in bytes of the input buffer.
	ExportInputCapacity = "sipkeep_input_capacity"
	// () -> i32: address of the guest-owned output buffer.
	ExportOutputBuffer = "sipkeep_output_buffer"
	// () -> i32: capacity in bytes of the output buffer.
	ExportOutputCapacity = "sipkeep_output_capacity"

	// (input_len i32) -> i32. The host has written an input (header, record,
	// message) of input_len bytes at the input buffer. A result >= 0 is the
	// length of the output written at the output buffer; < 0 is -Errno.
	ExportOnRequest  = "on_request"
	ExportOnResponse = "on_response"
	ExportOnTimer    = "on_timer"

	// Reactor initialisation, run once per instance before any other call.
	ExportInitialize = "_initialize"
	// The linear memory.
	ExportMemory = "memory"
)

// Feature is a bit set of what a module implements, read once at load time.
type Feature uint64

const (
	FeatureReceiver      Feature = 1 << iota // sets keep=N on responses (RFC 6223 §4.4)
	FeatureSender                            // inserts ;keep and drives keep-alives (§4.3)
	FeatureSTUN                              // UDP keep-alives: STUN Binding (RFC 5626 §4.4.2)
	FeatureCRLF                              // stream keep-alives: CRLFCRLF/CRLF (RFC 5626 §4.4.1)
	FeatureDeadFlow                          // receiver reports flows whose keep-alives stopped
	FeatureStripBelowTop                     // strips keep values below the top Via (§10, R17)
	FeatureControlPlane                      // go-plugin typed calls: configure, describe, stats
	// FeatureQuietRefresh: a received REGISTER that cannot be a
	// de-registration (see MayDeregister) changes nothing in the flow's
	// record but its liveness, which the module also notes on the response
	// sent back on the flow; a host may pass it without calling on_request.
	FeatureQuietRefresh
	// FeatureStandingGrant: on a 2xx to REGISTER being sent that
	// StandingGrantSite accepts, the module's only edit is set-keep N on
	// Via 0, with the N it gives the probe (StandingGrantProbe), whatever
	// the flow, its record, the role, the flags and the time — unless it
	// finds the message malformed, and then it edits nothing. A host may
	// apply that edit itself and show the module the response afterwards,
	// with its original time, for the record.
	FeatureStandingGrant
)

// Has reports whether every bit of want is set in f.
func (f Feature) Has(want Feature) bool { return f&want == want }

// Errno is a negative return of on_request/on_response/on_timer: the guest
// could not even read its input. The host treats it as a failed call (fail open)
// but not as a dead instance.
type Errno int32

const (
	ErrnoNone        Errno = 0
	ErrnoShortInput  Errno = 1 // input_len smaller than the header or than the lengths it declares
	ErrnoTooLarge    Errno = 2 // input_len larger than the input buffer
	ErrnoBadHeader   Errno = 3 // unknown kind/direction/transport for this export
	ErrnoOutputSpace Errno = 4 // the result did not fit the output buffer
	ErrnoNotReady    Errno = 5 // not configured / not initialised
)

func (e Errno) Error() string {
	switch e {
	case ErrnoShortInput:
		return "sipkeep guest: input shorter than its header declares"
	case ErrnoTooLarge:
		return "sipkeep guest: input larger than the input buffer"
	case ErrnoBadHeader:
		return "sipkeep guest: input header has an unknown kind, direction or transport"
	case ErrnoOutputSpace:
		return "sipkeep guest: output buffer too small for the result"
	case ErrnoNotReady:
		return "sipkeep guest: not initialised"
	}
	return "sipkeep guest: unknown errno"
}

// Kind is what the input message is.
type Kind uint8

const (
	KindNone        Kind = 0 // on_timer: no message
	KindSIPRequest  Kind = 1 // a SIP request (on_request)
	KindSIPResponse Kind = 2 // a SIP response (on_response)
	KindSTUN        Kind = 3 // a STUN message: a Binding request to on_request, a response to on_response
	KindPing        Kind = 4 // CRLFCRLF received on a stream (on_request); the host has answered it
	KindPong        Kind = 5 // CRLF received on a stream (on_response)
)

// Direction says whether the message was received or is about to be sent.
type Direction uint8

const (
	DirIn  Direction = 1 // received from the network on Flow
	DirOut Direction = 2 // about to be sent (or forwarded) on Flow
)

// Transport of the flow.
type Transport uint8

const (
	TransportUDP  Transport = 1
	TransportTCP  Transport = 2
	TransportTLS  Transport = 3
	TransportSCTP Transport = 4
	TransportWS   Transport = 5
	TransportWSS  Transport = 6
)

// Stream reports whether the transport is connection-oriented (CRLF keep-alives).
func (t Transport) Stream() bool { return t >= TransportTCP && t <= TransportWSS }

func (t Transport) String() string {
	switch t {
	case TransportUDP:
		return "UDP"
	case TransportTCP:
		return "TCP"
	case TransportTLS:
		return "TLS"
	case TransportSCTP:
		return "SCTP"
	case TransportWS:
		return "WS"
	case TransportWSS:
		return "WSS"
	}
	return "unknown"
}

// Role of this entity for the message.
type Role uint8

const (
	RoleUA    Role = 1 // user agent: always in its own dialogs' route set
	RoleProxy Role = 2 // proxy (or B2BUA leg toward a proxy): in a route set only if it record-routes
)

// Flags in the input header.
const (
	// FlagInRouteSet: this entity is (or will be) in the route set of the dialog the
	// message belongs to — a UA always, a proxy when it record-routes. Without it
	// the plugin neither offers (R8) nor accepts (R12) dialog keep-alives.
	FlagInRouteSet uint16 = 1 << 0
	// FlagLocalReply: the response was generated here (a UAS, a registrar's
	// reply), not forwarded from downstream.
	FlagLocalReply uint16 = 1 << 1
)

// Layout of the input buffer: ABI.md, "Input". The offsets below are the
// ones its table gives; TestABIMarkdownInputLayout holds the two together.
const (
	InputHeaderSize = 80

	inKind      = 0
	inDir       = 1
	inTransport = 2
	inRole      = 3
	inFlags     = 4
	inRecordLen = 6
	inMsgLen    = 8
	inNow       = 16
	inRandom    = 24
	inFlowID    = 32
	inRemote    = 40
	inLocal     = 60
	addrSize    = 20
)

// Limits the guest guarantees; a host must not exceed them.
const (
	// MaxMessage is the largest message (headers) a host may pass. Larger ones
	// fail open without entering the guest.
	MaxMessage = 64 * 1024
	// MaxRecord is the largest flow record either side produces.
	MaxRecord = 2048
	// MinInputCapacity is the smallest input buffer a v1 guest exports.
	MinInputCapacity = InputHeaderSize + MaxRecord + MaxMessage
	// MinOutputCapacity is the smallest output buffer a v1 guest exports.
	MinOutputCapacity = 16 * 1024
)

// Layout of the output buffer: ABI.md, "Output"; TestABIMarkdownOutputLayout
// holds the two together.
const (
	OutputHeaderSize = 32

	outReason    = 0
	outFlags     = 2
	outEdits     = 4
	outActions   = 6
	outRecordLen = 8
	outTextLen   = 10
	outDeadline  = 16
)

// Output flags.
const (
	OutRecordChanged uint16 = 1 << 0 // store the record that follows
	OutRecordDelete  uint16 = 1 << 1 // the flow has nothing left: delete its record and timer
)

// Limits on one output.
const (
	MaxEdits   = 64
	MaxActions = 32
)
