package abi

// Reason explains an outcome: why a message got no edit, why keep-alives
// stopped, why a flow failed. It is informative (logs, metrics); hosts never
// branch on it for correctness, so new values may be added in minor versions.
type Reason uint16

const (
	ReasonNone Reason = iota
	// Message-level outcomes.
	ReasonEdited            // edits were made
	ReasonNoKeep            // nothing to negotiate in this message
	ReasonMalformed         // the SIP message could not be scanned; passed unchanged
	ReasonBadKeepValue      // keep=abc, keep=, keep=-1, overflow: treated as not negotiated
	ReasonDuplicateKeep     // keep appears twice on one Via: treated as not negotiated
	ReasonTooLarge          // message too large for the scanner
	ReasonACK               // ACK never negotiates (R7)
	ReasonMethodNotEligible // method is not REGISTER, dialog-forming or target refresh
	ReasonNotInRouteSet     // dialog keep-alives need this entity in the route set (R8, R12)
	ReasonAlreadyNegotiated // the dialog already negotiated on this flow (R6)
	ReasonPolicy            // the configured policy says no
	ReasonBadRecord         // the flow record could not be read; started afresh
	ReasonNotOurs           // STUN/pong not matching our transaction
	// Keep-alive outcomes.
	ReasonPongTimeout       // no CRLF pong within the deadline (K2)
	ReasonSTUNTimeout       // STUN transaction timed out (K4, R18)
	ReasonMappedAddrChanged // XOR-MAPPED-ADDRESS differs from the previous one (K4)
	ReasonRegistrationEnded // registration expired, deregistered, or refreshed without keep (R2)
	ReasonDialogEnded       // BYE, non-2xx final to the initial INVITE, or dialog timeout (R3)
	ReasonNoKeepalives      // receiver: nothing arrived for the dead-flow multiple of the interval
	ReasonSTUNError         // STUN error response
	reasonCount
)

var reasonNames = [...]string{
	ReasonNone:              "none",
	ReasonEdited:            "edited",
	ReasonNoKeep:            "no-keep",
	ReasonMalformed:         "malformed",
	ReasonBadKeepValue:      "bad-keep-value",
	ReasonDuplicateKeep:     "duplicate-keep",
	ReasonTooLarge:          "too-large",
	ReasonACK:               "ack",
	ReasonMethodNotEligible: "method-not-eligible",
	ReasonNotInRouteSet:     "not-in-route-set",
	ReasonAlreadyNegotiated: "already-negotiated",
	ReasonPolicy:            "policy",
	ReasonBadRecord:         "bad-record",
	ReasonNotOurs:           "not-ours",
	ReasonPongTimeout:       "pong-timeout",
	ReasonSTUNTimeout:       "stun-timeout",
	ReasonMappedAddrChanged: "mapped-address-changed",
	ReasonRegistrationEnded: "registration-ended",
	ReasonDialogEnded:       "dialog-ended",
	ReasonNoKeepalives:      "no-keepalives",
	ReasonSTUNError:         "stun-error",
}

func (r Reason) String() string {
	if r < reasonCount {
		return reasonNames[r]
	}
	return "unknown-reason"
}
