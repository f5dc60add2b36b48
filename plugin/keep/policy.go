package keep

import (
	"errors"
	"strconv"
	"strings"
)

// Policy is the whole configuration of the plugin. It mirrors the Policy
// message of abi/proto/sipkeep.proto field by field: a zero field means "the
// default" (given in brackets), so Policy{} is a sane policy.
//
// The go-plugin control plane converts the protobuf message into this struct
// and calls Plugin.Configure; native hosts and tests use it directly.
type Policy struct {
	// Receiver role (RFC 6223 §4.4): grant keep=N to upstream senders. [enabled]
	ReceiverDisabled bool
	// N, in seconds, granted to senders. [30]
	ReceiverKeepSeconds uint32
	// Methods that may negotiate as receiver (upper case, as on the wire).
	// [REGISTER, INVITE, SUBSCRIBE, REFER, UPDATE]
	ReceiverMethods []string
	// Sender role (§4.3): insert ;keep and send keep-alives when granted. [enabled]
	SenderDisabled bool
	// Methods on which the sender offers ;keep. [REGISTER, INVITE, SUBSCRIBE, REFER, UPDATE]
	SenderMethods []string
	// Floor and ceiling, in seconds, applied to any negotiated interval so a
	// tampered keep=1 cannot make us send every second. [10, 3600]
	FloorSeconds   uint32
	CeilingSeconds uint32
	// Receiver: report a flow dead when nothing arrived for this multiple of
	// the granted interval. [3]; DeadFlowDisabled turns the check off.
	DeadFlowMultiple uint32
	DeadFlowDisabled bool
	// K2: pong deadline in ms. [10000]
	PongTimeoutMs uint32
	// K4 / RFC 5389 §7.2.1: initial RTO in ms [500], requests Rc [7], final
	// wait Rm×RTO [16].
	STUNRTOMs           uint32
	STUNMaxRequests     uint32
	STUNFinalMultiplier uint32
	// R17: by default (false) keep values are stripped from every Via below
	// the topmost one in responses sent on the upstream flow. true keeps them.
	KeepLowerValues bool
	// Safety net for dialogs whose end we never saw (lost BYE), in seconds. [43200]
	DialogMaxSeconds uint32
	// Registration lifetime assumed when a 2xx gives none, in seconds. [3600]
	DefaultRegistrationSeconds uint32
}

// Defaults.
const (
	DefaultReceiverKeepSeconds        = 30
	DefaultFloorSeconds               = 10
	DefaultCeilingSeconds             = 3600
	DefaultDeadFlowMultiple           = 3
	DefaultPongTimeoutMs              = 10000
	DefaultSTUNRTOMs                  = 500
	DefaultSTUNMaxRequests            = 7
	DefaultSTUNFinalMultiplier        = 16
	DefaultDialogMaxSeconds           = 43200
	DefaultDefaultRegistrationSeconds = 3600
)

// DefaultMethods is the default for ReceiverMethods and SenderMethods.
var DefaultMethods = []string{"REGISTER", "INVITE", "SUBSCRIBE", "REFER", "UPDATE"}

// eligibleMethods are the methods that may appear in a method list: REGISTER,
// requests that form a dialog, and mid-dialog target refreshes.
var eligibleMethods = map[string]methodBit{
	"REGISTER":  mREGISTER,
	"INVITE":    mINVITE,
	"SUBSCRIBE": mSUBSCRIBE,
	"REFER":     mREFER,
	"UPDATE":    mUPDATE,
	"NOTIFY":    mNOTIFY,
}

// WithDefaults returns p with every zero field replaced by its default.
// Slices are copied, so the result shares no memory with p.
func (p Policy) WithDefaults() Policy {
	if p.ReceiverKeepSeconds == 0 {
		p.ReceiverKeepSeconds = DefaultReceiverKeepSeconds
	}
	if len(p.ReceiverMethods) == 0 {
		p.ReceiverMethods = DefaultMethods
	}
	p.ReceiverMethods = append([]string(nil), p.ReceiverMethods...)
	if len(p.SenderMethods) == 0 {
		p.SenderMethods = DefaultMethods
	}
	p.SenderMethods = append([]string(nil), p.SenderMethods...)
	if p.FloorSeconds == 0 {
		p.FloorSeconds = DefaultFloorSeconds
	}
	if p.CeilingSeconds == 0 {
		p.CeilingSeconds = DefaultCeilingSeconds
	}
	if p.DeadFlowMultiple == 0 {
		p.DeadFlowMultiple = DefaultDeadFlowMultiple
	}
	if p.PongTimeoutMs == 0 {
		p.PongTimeoutMs = DefaultPongTimeoutMs
	}
	if p.STUNRTOMs == 0 {
		p.STUNRTOMs = DefaultSTUNRTOMs
	}
	if p.STUNMaxRequests == 0 {
		p.STUNMaxRequests = DefaultSTUNMaxRequests
	}
	if p.STUNFinalMultiplier == 0 {
		p.STUNFinalMultiplier = DefaultSTUNFinalMultiplier
	}
	if p.DialogMaxSeconds == 0 {
		p.DialogMaxSeconds = DefaultDialogMaxSeconds
	}
	if p.DefaultRegistrationSeconds == 0 {
		p.DefaultRegistrationSeconds = DefaultDefaultRegistrationSeconds
	}
	return p
}

// Validate reports why p (after WithDefaults) cannot be used, or nil.
// Configure refuses an invalid policy and keeps the one in force.
func (p Policy) Validate() error {
	p = p.WithDefaults()
	var errs []error
	if p.FloorSeconds > p.CeilingSeconds {
		errs = append(errs, errors.New("floor_seconds "+u(p.FloorSeconds)+" is above ceiling_seconds "+u(p.CeilingSeconds)))
	}
	if p.CeilingSeconds > 86400 {
		errs = append(errs, errors.New("ceiling_seconds "+u(p.CeilingSeconds)+" is above 86400"))
	}
	if !p.ReceiverDisabled && (p.ReceiverKeepSeconds < p.FloorSeconds || p.ReceiverKeepSeconds > p.CeilingSeconds) {
		errs = append(errs, errors.New("receiver_keep_seconds "+u(p.ReceiverKeepSeconds)+" is outside [floor_seconds, ceiling_seconds]"))
	}
	if p.DeadFlowMultiple > 100 {
		errs = append(errs, errors.New("dead_flow_multiple "+u(p.DeadFlowMultiple)+" is above 100"))
	}
	if p.PongTimeoutMs > 600000 {
		errs = append(errs, errors.New("pong_timeout_ms "+u(p.PongTimeoutMs)+" is above 600000"))
	}
	if p.STUNRTOMs > 60000 {
		errs = append(errs, errors.New("stun_rto_ms "+u(p.STUNRTOMs)+" is above 60000"))
	}
	if p.STUNMaxRequests > 16 {
		errs = append(errs, errors.New("stun_max_requests "+u(p.STUNMaxRequests)+" is above 16"))
	}
	if p.STUNFinalMultiplier > 64 {
		errs = append(errs, errors.New("stun_final_multiplier "+u(p.STUNFinalMultiplier)+" is above 64"))
	}
	if p.DialogMaxSeconds > 7*86400 {
		errs = append(errs, errors.New("dialog_max_seconds "+u(p.DialogMaxSeconds)+" is above 604800"))
	}
	if p.DefaultRegistrationSeconds > 7*86400 {
		errs = append(errs, errors.New("default_registration_seconds "+u(p.DefaultRegistrationSeconds)+" is above 604800"))
	}
	if _, err := methodMask("receiver_methods", p.ReceiverMethods); err != nil {
		errs = append(errs, err)
	}
	if _, err := methodMask("sender_methods", p.SenderMethods); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func methodMask(field string, ms []string) (methodBit, error) {
	var mask methodBit
	for _, m := range ms {
		b, ok := eligibleMethods[strings.TrimSpace(m)]
		if !ok {
			return 0, errors.New(field + ": " + strconv.Quote(m) + " cannot negotiate keep-alives (allowed: REGISTER, INVITE, SUBSCRIBE, REFER, UPDATE, NOTIFY)")
		}
		mask |= b
	}
	return mask, nil
}

func u(v uint32) string { return strconv.FormatUint(uint64(v), 10) }

// methodBit is a set of the methods that can negotiate.
type methodBit uint8

const (
	mREGISTER methodBit = 1 << iota
	mINVITE
	mSUBSCRIBE
	mREFER
	mUPDATE
	mNOTIFY
)
