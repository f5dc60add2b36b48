package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"time"
)

// watch polls the module file and swaps when its content changes. Polling
// (stat, then hash only when size or mtime moved) needs no inotify and
// survives the file being replaced by rename, as deployments do.
func (h *Host) watch(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	var lastMod time.Time
	var lastSize int64 = -1
	for {
		select {
		case <-h.stopCh:
			return
		case <-t.C:
		}
		h.swapMu.Lock()
		path := h.src.path
		h.swapMu.Unlock()
		if path == "" {
			continue
		}
		st, err := os.Stat(path)
		if err != nil {
			continue // being replaced, or gone: keep serving what we have
		}
		if st.ModTime().Equal(lastMod) && st.Size() == lastSize {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		lastMod, lastSize = st.ModTime(), st.Size()
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) == h.Generation().SHA256 {
			continue
		}
		if err := h.swap(context.Background(), source{path: path}, "watch"); err != nil {
			h.log.Warn("sipkeep host: watched module changed but was refused", "path", path, "err", err)
		}
	}
}
