package netkeep

import (
	"errors"
	"fmt"
	"time"
)

// Limits bound what one stream message may cost. The zero value of a field
// means its default (DefaultLimits); a negative value means no limit (tests,
// trusted peers).
type Limits struct {
	// Message bounds a message, headers and body (default 65,535 bytes:
	// sipgo's own sip.ParseMaxMessageLength, so that the two agree on what
	// is too large; raise both together). Over it: 513 Message Too Large.
	Message int
	// Header bounds the start line and header fields up to the blank line
	// (default 32 KiB). Over it: 513.
	Header int
	// Lines bounds the header lines after the start line, continuation lines
	// included (default 256). Over it: 400.
	Lines int
	// Folds bounds the continuation lines of one header field (default 16).
	// Over it: 400.
	Folds int
	// MessageTimeout is how long a stream message may take to arrive once
	// its first byte has (default 30 s). Over it the stream is closed.
	MessageTimeout time.Duration
	// IdleTimeout closes an accepted stream on which nothing (no message, no
	// keep-alive, either way) has passed for this long, unless the stream
	// carries a keep-alive flow (the plugin started keep-alives on it, or
	// expects them: its failure detection governs it then) or a
	// registration (a 2xx to a REGISTER was written on it: the registrar
	// reaches the UA over it; TCP keep-alives, on by default on accepted Go
	// connections, find a peer that vanished). Default 3 min. Dialed streams
	// have no idle timeout.
	IdleTimeout time.Duration
}

// DefaultLimits are the limits New applies.
var DefaultLimits = Limits{
	Message:        65535,
	Header:         32 << 10,
	Lines:          256,
	Folds:          16,
	MessageTimeout: 30 * time.Second,
	IdleTimeout:    3 * time.Minute,
}

// withDefaults fills zero fields from DefaultLimits and turns negative ones
// into "no limit".
func (l Limits) withDefaults() Limits {
	pick := func(v, d int) int {
		switch {
		case v == 0:
			return d
		case v < 0:
			return maxInt
		}
		return v
	}
	pickD := func(v, d time.Duration) time.Duration {
		switch {
		case v == 0:
			return d
		case v < 0:
			return 0 // no timeout
		}
		return v
	}
	d := DefaultLimits
	return Limits{
		Message:        pick(l.Message, d.Message),
		Header:         pick(l.Header, d.Header),
		Lines:          pick(l.Lines, d.Lines),
		Folds:          pick(l.Folds, d.Folds),
		MessageTimeout: pickD(l.MessageTimeout, d.MessageTimeout),
		IdleTimeout:    pickD(l.IdleTimeout, d.IdleTimeout),
	}
}

const maxInt = int(^uint(0) >> 1)

// ErrFraming reports a stream that cannot be split into SIP messages the way
// every reader of it would split them: a missing, duplicate or malformed
// Content-Length, bytes that cannot start a message, a malformed header line,
// or a limit exceeded. There is no boundary to resynchronise on, so the
// connection ends (after a 400 or 513 where one can be built).
var ErrFraming = errors.New("netkeep: SIP stream framing error")

// ErrStreamTimeout reports a stream closed by netkeep for time: a message
// that did not complete within Limits.MessageTimeout, or an accepted stream
// idle for Limits.IdleTimeout.
var ErrStreamTimeout = errors.New("netkeep: SIP stream timed out")

// frameError is a framing error with the response status it deserves (0: no
// response, only close).
type frameError struct {
	status int
	reason string
	detail string
}

func (e *frameError) Error() string {
	return fmt.Sprintf("%v: %s", ErrFraming, e.detail)
}

func (e *frameError) Unwrap() error { return ErrFraming }

func badRequest(reason, format string, a ...any) *frameError {
	return &frameError{status: 400, reason: reason, detail: fmt.Sprintf(format, a...)}
}

func tooLarge(format string, a ...any) *frameError {
	return &frameError{status: 513, reason: "Message Too Large", detail: fmt.Sprintf(format, a...)}
}

func unframeable(format string, a ...any) *frameError {
	return &frameError{detail: fmt.Sprintf(format, a...)}
}
