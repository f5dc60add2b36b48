package main

import "bytes"

// dropTopVia returns msg without its first Via value: the form a response
// takes when the proxy that received it forwards it. When the first Via
// header holds several comma-separated values only the first goes; otherwise
// the whole header line (with its folded continuation lines) goes. ok is false
// when msg has no Via header before the end of its headers.
func dropTopVia(msg []byte) (out []byte, ok bool) {
	line := bytes.IndexByte(msg, '\n')
	for line >= 0 && line+1 < len(msg) {
		start := line + 1
		end := headerEnd(msg, start)
		if end == start || msg[start] == '\r' || msg[start] == '\n' {
			return nil, false // the empty line: no Via in the headers
		}
		colon := bytes.IndexByte(msg[start:end], ':')
		if colon > 0 && isVia(bytes.TrimRight(msg[start:start+colon], " \t")) {
			valStart := skipLWS(msg, start+colon+1, end)
			if comma := topLevelComma(msg[valStart:end]); comma >= 0 {
				next := skipLWS(msg, valStart+comma+1, end)
				return splice(msg, valStart, next), true
			}
			return splice(msg, start, end), true
		}
		line = end - 1
	}
	return nil, false
}

// headerEnd returns the offset just past the header that starts at start,
// including its line end and any folded continuation lines.
func headerEnd(msg []byte, start int) int {
	i := start
	for {
		nl := bytes.IndexByte(msg[i:], '\n')
		if nl < 0 {
			return len(msg)
		}
		i += nl + 1
		if i >= len(msg) || (msg[i] != ' ' && msg[i] != '\t') {
			return i
		}
	}
}

func isVia(name []byte) bool {
	return bytes.EqualFold(name, []byte("via")) || bytes.EqualFold(name, []byte("v"))
}

func skipLWS(msg []byte, i, end int) int {
	for i < end && (msg[i] == ' ' || msg[i] == '\t' || msg[i] == '\r' || msg[i] == '\n') {
		i++
	}
	return i
}

// topLevelComma finds the first comma outside a quoted string, or -1.
func topLevelComma(v []byte) int {
	quoted := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			return i
		}
	}
	return -1
}

func splice(msg []byte, from, to int) []byte {
	out := make([]byte, 0, len(msg)-(to-from))
	out = append(out, msg[:from]...)
	return append(out, msg[to:]...)
}
