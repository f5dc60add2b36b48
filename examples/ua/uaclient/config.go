// Package uaclient is a SIP user agent (RFC 6223 sender) built on sipgo, the
// sipkeep host and netkeep: it registers with ";keep" (added by the plugin on
// the way out), keeps its flow alive with STUN (UDP) or CRLF pings (TCP) at
// the negotiated rate, re-registers before expiry (re-negotiating, R1), and
// recovers from a failed flow by re-registering (on a new connection for TCP).
// examples/ua is a thin main around it; tests drive it directly.
package uaclient

import (
	"errors"
	"log/slog"
	"time"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/abi/proto"
	"github.com/sipkeep/sipkeep/host"
)

// Config is what the UA needs. Zero fields take the defaults in brackets.
type Config struct {
	Proxy     string        // registrar/proxy host:port [127.0.0.1:5060]
	Transport string        // "udp" or "tcp" [udp]
	User      string        // user part of the AOR [alice]
	Expires   time.Duration // requested registration lifetime [600s]
	Listen    string        // local address to bind [127.0.0.1:0]
	WASM      string        // path of sipkeep.wasm [build/sipkeep.wasm]
	Policy    *proto.Policy // plugin policy (tests lower floor and timeouts)
	Logger    *slog.Logger  // [slog.Default()]
	// RequestTimeout bounds one REGISTER transaction [5s].
	RequestTimeout time.Duration
	// RetryBackoff is the first wait after a failed registration; it doubles
	// up to 30 s [1s].
	RetryBackoff time.Duration
	// HostOptions are passed to host.New after the module and the action
	// handler (metrics, failure policy...).
	HostOptions []host.Option
	// OnEvent, when set, sees every keep-alive event (tests).
	OnEvent func(Event)
}

// Event is one thing that happened to the UA's keep-alives or registration.
type Event struct {
	Time time.Time
	Kind EventKind
	Flow host.Flow
	// Action is the plugin action behind keep-alive events.
	Action abi.Action
	// Expires is the granted lifetime (EventRegistered).
	Expires time.Duration
	Err     error
}

// EventKind says what an Event is.
type EventKind int

const (
	EventRegistered        EventKind = iota + 1 // a 2xx to our REGISTER; Expires granted
	EventRegisterFailed                         // no 2xx (timeout, error response)
	EventUnregistered                           // Expires: 0 answered
	EventKeepaliveStarted                       // the plugin started keep-alives (Action.Value = interval s)
	EventKeepaliveSent                          // a STUN request or a ping left (Action says which)
	EventKeepaliveAnswered                      // its answer arrived
	EventKeepaliveStopped                       // the plugin stopped keep-alives (Action.Reason)
	EventFlowFailed                             // keep-alives went unanswered: the UA re-registers
	EventFlowClosed                             // the TCP connection ended under us: the UA re-registers on a new one
)

var eventNames = map[EventKind]string{
	EventRegistered: "registered", EventRegisterFailed: "register-failed", EventUnregistered: "unregistered",
	EventKeepaliveStarted: "keepalive-started", EventKeepaliveSent: "keepalive-sent",
	EventKeepaliveAnswered: "keepalive-answered", EventKeepaliveStopped: "keepalive-stopped",
	EventFlowFailed: "flow-failed", EventFlowClosed: "flow-closed",
}

func (k EventKind) String() string { return eventNames[k] }

func (c *Config) defaults() error {
	if c.Proxy == "" {
		c.Proxy = "127.0.0.1:5060"
	}
	if c.Transport == "" {
		c.Transport = "udp"
	}
	if c.Transport != "udp" && c.Transport != "tcp" {
		return errors.New("uaclient: transport must be udp or tcp, not " + c.Transport)
	}
	if c.User == "" {
		c.User = "alice"
	}
	if c.Expires == 0 {
		c.Expires = 600 * time.Second
	}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:0"
	}
	if c.WASM == "" {
		c.WASM = "build/sipkeep.wasm"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 5 * time.Second
	}
	if c.RetryBackoff == 0 {
		c.RetryBackoff = time.Second
	}
	return nil
}
