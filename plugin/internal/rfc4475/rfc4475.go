// Package rfc4475 gives tests RFC 4475's 49 SIP torture messages, kept with
// the scanner (plugin/internal/sipscan/testdata/rfc4475, one .dat file per
// message, named as in the RFC).
package rfc4475

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Message is one torture message.
type Message struct {
	Name string // as in the RFC, e.g. "wsinv"
	Msg  []byte
}

// Messages reads all of them, sorted by name, or fails tb.
func Messages(tb testing.TB) []Message {
	tb.Helper()
	dir, err := dataDir()
	if err != nil {
		tb.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.dat"))
	if err != nil || len(files) != 49 {
		tb.Fatalf("RFC 4475 messages in %s: %d files (%v), want 49", dir, len(files), err)
	}
	sort.Strings(files)
	ms := make([]Message, 0, len(files))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		ms = append(ms, Message{strings.TrimSuffix(filepath.Base(f), ".dat"), b})
	}
	return ms
}

// dataDir finds the messages from the module root (go test runs in the
// package's directory, wherever that is below it).
func dataDir() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "plugin", "internal", "sipscan", "testdata", "rfc4475"), nil
		}
		up := filepath.Dir(d)
		if up == d {
			return "", os.ErrNotExist
		}
		d = up
	}
}
