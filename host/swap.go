package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// Swap loads wasm as a new generation and, once it is compiled, validated,
// instantiated and configured, publishes it atomically: calls in flight
// finish on the old generation, which closes when they have drained. Flow
// records and timers carry over (they live in the Store). A module that
// fails any check is refused with an error and the old one keeps serving.
func (h *Host) Swap(ctx context.Context, wasm []byte) error {
	return h.swap(ctx, source{bytes: append([]byte(nil), wasm...)}, "api")
}

// SwapFile is Swap with the module read from path; Reload and WithWatch
// then read that path.
func (h *Host) SwapFile(ctx context.Context, path string) error {
	return h.swap(ctx, source{path: path}, "file")
}

// Reload loads the current module's source again (its file, or the same
// bytes, or a fresh native guest): for SIGHUP handlers, and for recovering
// instances after the crash budget was spent.
func (h *Host) Reload(ctx context.Context) error {
	h.swapMu.Lock()
	src := h.src
	h.swapMu.Unlock()
	return h.swap(ctx, src, "reload")
}

// swap loads src as a candidate generation and publishes it. The candidate
// is compiled, instantiated and configured without swapMu (every guest step
// of it is bounded: instance.step), one candidate at a time (loadSem); only
// the publication — a pointer swap and the bookkeeping — takes swapMu.
func (h *Host) swap(ctx context.Context, src source, reason string) error {
	select {
	case h.loadSem <- struct{}{}:
	case <-h.stopCh:
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("sipkeep host: swap: waiting for the module being loaded: %w", ctx.Err())
	}
	defer func() { <-h.loadSem }()
	if h.closed.Load() {
		return ErrClosed
	}
	old := h.gen.Load()
	start := time.Now()
	rec := SwapRecord{At: start, Source: src.String(), Reason: reason}
	if old != nil {
		rec.From = old.info.Number
	}
	g, err := h.load(ctx, src, h.nextGen) // nextGen only moves under loadSem
	if err == nil && old != nil {
		// Be as ready as the old generation was: a swap must not make the
		// next callers wait for instantiation.
		want := int(old.pool.live.Load()) - 1
		if perr := g.pool.prewarm(ctx, want); perr != nil {
			g.close()
			g, err = nil, fmt.Errorf("prewarm: %w", perr)
		}
	}
	rec.Took = time.Since(start)

	h.swapMu.Lock()
	defer h.swapMu.Unlock()
	if err == nil && h.closed.Load() {
		g.close()
		return ErrClosed
	}
	if err != nil {
		if len(src.bytes) > 0 {
			sum := sha256.Sum256(src.bytes)
			rec.SHA256 = hex.EncodeToString(sum[:])
		}
		rec.Err = err.Error()
		h.record(rec)
		h.met.swaps.WithLabelValues("refused").Inc()
		h.log.Error("sipkeep host: module refused; the current one keeps serving", "source", rec.Source, "reason", reason, "err", err)
		return fmt.Errorf("sipkeep host: swap: %w", err)
	}
	h.nextGen++
	g.info.LoadedAt = time.Now()
	rec.To, rec.SHA256 = g.info.Number, g.info.SHA256
	h.gen.Store(g)
	h.src = src
	if old != nil {
		old.retire()
	}
	h.record(rec)
	h.met.swaps.WithLabelValues("ok").Inc()
	h.met.generation.Set(float64(g.info.Number))
	h.log.Info("sipkeep host: module swapped", "from", rec.From, "to", rec.To, "source", rec.Source,
		"sha256", rec.SHA256, "reason", reason, "took", rec.Took)
	return nil
}

func (h *Host) record(r SwapRecord) {
	h.history = append(h.history, r)
	if len(h.history) > maxHistory {
		h.history = append(h.history[:0], h.history[len(h.history)-maxHistory:]...)
	}
}
