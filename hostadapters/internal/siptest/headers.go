package siptest

import (
	"regexp"
	"strconv"
	"strings"
)

// Headers returns the values of every header called name (case-insensitive,
// comma-separated values split for Via).
func Headers(msg, name string) []string {
	var out []string
	head, _, _ := strings.Cut(msg, "\r\n\r\n")
	lines := strings.Split(head, "\r\n")
	for _, l := range lines[1:] {
		n, v, ok := strings.Cut(l, ":")
		if !ok || !strings.EqualFold(strings.TrimSpace(n), name) {
			continue
		}
		if strings.EqualFold(name, "Via") {
			for _, p := range strings.Split(v, ",") {
				out = append(out, strings.TrimSpace(p))
			}
			continue
		}
		out = append(out, strings.TrimSpace(v))
	}
	return out
}

// KeepParam matches a Via's keep parameter (RFC 6223), with its value if
// any in group 1; a test upstream rewrites a Via's keep with it.
var KeepParam = regexp.MustCompile(`(?i);\s*keep(?:\s*=\s*([^;,\s]*))?`)

// ViaKeep reports the keep parameter of a Via value: present, and its value ("" when bare).
func ViaKeep(via string) (value string, present bool) {
	m := KeepParam.FindStringSubmatch(via)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// StatusCode is the status of a response, 0 for a request or a short message.
func StatusCode(msg string) int {
	if !strings.HasPrefix(msg, "SIP/2.0 ") || len(msg) < 11 {
		return 0
	}
	n, _ := strconv.Atoi(msg[8:11])
	return n
}
