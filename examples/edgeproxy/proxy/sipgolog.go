package proxy

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/sipkeep/sipkeep/hostadapters/netkeep"
)

// SipgoLogger returns the logger sipgo's layers log through: the proxy's
// own handler (so --log-level and the output format apply to them too),
// with two changes, because sipgo logs what any peer sends:
//
//   - no raw payloads: sipgo logs a message it cannot parse with the bytes
//     (attribute "data"); those become their length, and every other
//     string or error is cut to maxLogValue bytes. A message a peer got
//     wrong is the peer's problem, so it logs at WARN, not ERROR;
//   - a connection the peer reset, a broken pipe or a timed-out read logs
//     at DEBUG: clients do that all day, it is not an error of the proxy;
//     a stream netkeep closed for bad framing (netkeep.ErrFraming, also
//     counted in its stats) logs at WARN.
//
// main passes it to sip.SetDefaultLogger too, for the parts of sipgo that
// log through its package default.
func SipgoLogger(l *slog.Logger) *slog.Logger {
	return slog.New(sipgoHandler{l.Handler()})
}

// maxLogValue bounds one attribute value from sipgo's logs.
const maxLogValue = 200

type sipgoHandler struct{ h slog.Handler }

// Enabled lets records through at any level the inner handler takes, and
// ERROR always, since Handle may lower an ERROR to a level it takes.
func (s sipgoHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelError || s.h.Enabled(ctx, l)
}

func (s sipgoHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	benign, payload, peerFault := false, false, false
	var errAttrs []slog.Attr
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "data" {
			payload = true
			out.AddAttrs(slog.Int("bytes", len(a.Value.String())))
			return true
		}
		if err, ok := a.Value.Any().(error); ok {
			benign = benign || peerGone(err)
			peerFault = peerFault || errors.Is(err, netkeep.ErrFraming)
			errAttrs = append(errAttrs, a)
			return true
		}
		out.AddAttrs(bounded(a))
		return true
	})
	// A parse error quotes the bytes it choked on: keep its words only.
	for _, a := range errAttrs {
		if payload {
			a = slog.String(a.Key, unquoted(a.Value.Any().(error).Error()))
		}
		out.AddAttrs(bounded(a))
	}
	switch {
	case benign && out.Level > slog.LevelDebug:
		out.Level = slog.LevelDebug
	case (payload || peerFault) && out.Level > slog.LevelWarn:
		out.Level = slog.LevelWarn
	}
	if !s.h.Enabled(ctx, out.Level) {
		return nil
	}
	return s.h.Handle(ctx, out)
}

func (s sipgoHandler) WithAttrs(as []slog.Attr) slog.Handler {
	bs := make([]slog.Attr, len(as))
	for i, a := range as {
		bs[i] = bounded(a)
	}
	return sipgoHandler{s.h.WithAttrs(bs)}
}

func (s sipgoHandler) WithGroup(name string) slog.Handler { return sipgoHandler{s.h.WithGroup(name)} }

// bounded cuts a string or error attribute to maxLogValue bytes.
func bounded(a slog.Attr) slog.Attr {
	var s string
	switch v := a.Value.Any().(type) {
	case string:
		s = v
	case error:
		s = v.Error()
	default:
		return a
	}
	if len(s) > maxLogValue {
		s = s[:maxLogValue] + "…"
	}
	return slog.String(a.Key, s)
}

// unquoted drops what s quotes ('...' or "..."), where sipgo's parse
// errors put the offending bytes.
func unquoted(s string) string {
	var b strings.Builder
	var in byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case in != 0 && c == in:
			in = 0
		case in != 0:
		case c == '\'' || c == '"':
			in = c
			b.WriteString("…")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// peerGone reports whether err only says the peer went away or went quiet.
func peerGone(err error) bool {
	var ne net.Error
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, netkeep.ErrStreamTimeout) || errors.As(err, &ne) && ne.Timeout() ||
		strings.Contains(err.Error(), "connection reset by peer")
}
