package host

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
)

// lineLogger is the guest's stdout or stderr: it logs whole lines through
// slog, so a panicking guest's message and stack reach the host's logs.
type lineLogger struct {
	log    *slog.Logger
	gen    uint64
	stream string
	mu     sync.Mutex
	buf    []byte
	sawOOM atomic.Bool
}

const maxLine = 4096

func newLineLogger(l *slog.Logger, gen uint64, stream string) *lineLogger {
	return &lineLogger{log: l, gen: gen, stream: stream}
}

func (w *lineLogger) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			if len(w.buf) > maxLine { // a guest writing without newlines must not grow us forever
				w.emit(w.buf)
				w.buf = w.buf[:0]
			}
			return len(p), nil
		}
		w.emit(w.buf[:i])
		w.buf = w.buf[:copy(w.buf, w.buf[i+1:])]
	}
}

func (w *lineLogger) emit(line []byte) {
	if bytes.Contains(line, []byte("out of memory")) {
		w.sawOOM.Store(true)
	}
	if len(line) == 0 {
		return
	}
	lvl := slog.LevelInfo
	if w.stream == "stderr" {
		lvl = slog.LevelWarn
	}
	w.log.Log(context.Background(), lvl, "guest output", "stream", w.stream, "generation", w.gen, "line", string(line))
}
