package netkeep

import (
	"log/slog"
	"time"

	"github.com/sipkeep/sipkeep/abi"
)

// Option configures a Keeper.
type Option func(*Keeper)

// WithRole sets the role reported to the plugin for every message
// (abi.RoleUA by default; a proxy passes abi.RoleProxy).
func WithRole(r abi.Role) Option { return func(k *Keeper) { k.role = r } }

// WithInRouteSet replaces the in-route-set test. By default a UA is always in
// the route set and a proxy is when the message carries a Record-Route whose
// URI host:port is one of the wrapped sockets' local addresses.
func WithInRouteSet(f func(msg []byte, dir abi.Direction) bool) Option {
	return func(k *Keeper) { k.inRouteSet = f }
}

// WithLocalReply decides whether an outgoing response was generated here (a
// registrar's or UAS's reply) rather than forwarded. By default a UA's
// responses are local replies and a proxy's are not.
func WithLocalReply(f func(msg []byte) bool) Option {
	return func(k *Keeper) { k.localReply = f }
}

// WithLogger sets the logger (slog.Default() otherwise).
func WithLogger(l *slog.Logger) Option { return func(k *Keeper) { k.log = l } }

// WithEvents registers a callback for flow events (keep-alives started,
// answered, failed, dead...). It is called from the host's timer goroutine or
// a reader goroutine and must not block for long.
func WithEvents(f func(FlowEvent)) Option { return func(k *Keeper) { k.events = f } }

// WithClock makes every Event carry now() (tests); by default the host's clock
// is used.
func WithClock(now func() time.Time) Option { return func(k *Keeper) { k.now = now } }

// WithMaxMessage bounds a message (headers and body): Limits.Message.
func WithMaxMessage(n int) Option { return func(k *Keeper) { k.lim.Message = n } }

// WithLimits sets what one message and one stream may cost (DefaultLimits
// for every zero field; see Limits).
func WithLimits(l Limits) Option { return func(k *Keeper) { k.lim = l } }
