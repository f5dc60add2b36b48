package main

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
)

// logRing keeps the Go host's log lines for the server's C thread, which
// writes them through the server's own logger (Kamailio: LM_*), so nothing
// goes to stderr, which is lost once the server daemonizes. Bounded: when
// the C thread falls behind, the oldest lines go.
type logRing struct {
	mu    sync.Mutex
	lines []logLine
	max   int
	lost  int
}

type logLine struct {
	level int // SKC_LOG_*
	text  string
}

func newLogRing(max int) *logRing { return &logRing{max: max} }

func (r *logRing) push(level int, text string) {
	r.mu.Lock()
	if len(r.lines) >= r.max {
		r.lines = r.lines[1:]
		r.lost++
	}
	r.lines = append(r.lines, logLine{level, text})
	r.mu.Unlock()
}

// pop returns the oldest line; ok is false when there is none.
func (r *logRing) pop() (logLine, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lost > 0 {
		n := r.lost
		r.lost = 0
		return logLine{2, "sipkeep: log lines dropped: " + itoa(n)}, true
	}
	if len(r.lines) == 0 {
		return logLine{}, false
	}
	l := r.lines[0]
	r.lines = r.lines[1:]
	return l, true
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// handler is an slog.Handler writing text records into the ring.
func (r *logRing) handler(level slog.Level) slog.Handler {
	return &ringHandler{r: r, level: level}
}

type ringHandler struct {
	r     *logRing
	level slog.Level
	attrs []slog.Attr
	group string
}

func (h *ringHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *ringHandler) Handle(_ context.Context, rec slog.Record) error {
	var b bytes.Buffer
	th := slog.NewTextHandler(&b, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey) {
				return slog.Attr{} // the server's logger stamps both
			}
			return a
		},
	})
	var hh slog.Handler = th
	if len(h.attrs) > 0 {
		hh = hh.WithAttrs(h.attrs)
	}
	if h.group != "" {
		hh = hh.WithGroup(h.group)
	}
	if err := hh.Handle(context.Background(), rec); err != nil {
		return err
	}
	lvl := 0
	switch {
	case rec.Level >= slog.LevelError:
		lvl = 3
	case rec.Level >= slog.LevelWarn:
		lvl = 2
	case rec.Level >= slog.LevelInfo:
		lvl = 1
	}
	h.r.push(lvl, string(bytes.TrimRight(b.Bytes(), "\n")))
	return nil
}

func (h *ringHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &c
}

func (h *ringHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.group = name
	return &c
}
