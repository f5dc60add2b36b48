package abi

import (
	"bytes"

	"github.com/sipkeep/sipkeep/internal/asciifold"
)

// MayDeregister reports whether a REGISTER might remove bindings, read off
// its text without parsing it (hosts use it with FeatureQuietRefresh). A
// de-registration needs "Contact: *", an expires parameter of 0 or an
// Expires header of 0 (RFC 3261 §10.2.2), so a message with no '*' and no
// "expires" whose value starts with '0' is not one. It errs towards true:
// an "expires" in a URI or display name, a '*' anywhere, count.
func MayDeregister(msg []byte) bool {
	if bytes.IndexByte(msg, '*') >= 0 {
		return true
	}
	for off := 0; ; {
		i := asciifold.Index(msg[off:], "expires")
		if i < 0 {
			return false
		}
		j := off + i + len("expires")
		for j < len(msg) && (msg[j] == ' ' || msg[j] == '\t' || msg[j] == '\r' || msg[j] == '\n' || msg[j] == ':' || msg[j] == '=') {
			j++
		}
		if j < len(msg) && (msg[j] == '0' || msg[j] == '"') {
			return true
		}
		off = j
	}
}
