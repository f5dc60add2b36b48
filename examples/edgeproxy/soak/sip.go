package soak

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
)

// register is a REGISTER for user over transport ("UDP" or "TCP") from
// local, asking keep-alives with ;keep on its Via (RFC 6223).
func register(transport, local, proxy, user, branch string, cseq int) []byte {
	return fmt.Appendf(nil, "REGISTER sip:%s SIP/2.0\r\n"+
		"Via: SIP/2.0/%s %s;branch=%s;rport;keep\r\n"+
		"Max-Forwards: 70\r\n"+
		"From: <sip:%s@soak.example>;tag=%s\r\n"+
		"To: <sip:%s@soak.example>\r\n"+
		"Call-ID: %s-%s@soak\r\n"+
		"CSeq: %d REGISTER\r\n"+
		"Contact: <sip:%s@%s;transport=%s>\r\n"+
		"Expires: 3600\r\nContent-Length: 0\r\n\r\n",
		proxy, transport, local, branch, user, user, user, user, local, cseq, user, local, transport)
}

func newBranch() string {
	var b [8]byte
	rand.Read(b[:])
	return "z9hG4bK" + hex.EncodeToString(b[:])
}

// response is what the soak checks in a response: its code, the branch
// and keep value of its top Via (keep -1: absent, -2: present, no value).
type response struct {
	code   int
	branch string
	keep   int
}

// parseResponse reads a response's status code and top Via. It reads
// only what it needs: one status line, one Via.
func parseResponse(b []byte) (response, bool) {
	r := response{keep: -1}
	line, rest, _ := bytes.Cut(b, []byte("\r\n"))
	if !bytes.HasPrefix(line, []byte("SIP/2.0 ")) || len(line) < 11 {
		return r, false
	}
	code, err := strconv.Atoi(string(line[8:11]))
	if err != nil {
		return r, false
	}
	r.code = code
	for len(rest) > 0 {
		line, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		if len(line) == 0 {
			break
		}
		name, val, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		name = bytes.TrimSpace(name)
		if !bytes.EqualFold(name, []byte("Via")) && !bytes.EqualFold(name, []byte("v")) {
			continue
		}
		val, _, _ = bytes.Cut(val, []byte(","))
		for _, p := range bytes.Split(val, []byte(";"))[1:] {
			k, v, hasV := bytes.Cut(bytes.TrimSpace(p), []byte("="))
			switch string(bytes.ToLower(bytes.TrimSpace(k))) {
			case "branch":
				r.branch = string(bytes.TrimSpace(v))
			case "keep":
				r.keep = -2
				if hasV {
					if n, err := strconv.Atoi(string(bytes.TrimSpace(v))); err == nil {
						r.keep = n
					}
				}
			}
		}
		return r, true
	}
	return r, true
}

// STUN Binding (RFC 5389): a 20-byte request with a random transaction
// id; the success response echoes it.
const stunMagic = 0x2112A442

func stunRequest() (req []byte, id [12]byte) {
	rand.Read(id[:])
	req = make([]byte, 20)
	binary.BigEndian.PutUint16(req[0:], 0x0001)
	binary.BigEndian.PutUint32(req[4:], stunMagic)
	copy(req[8:], id[:])
	return req, id
}

// stunAnswers reports whether b is a Binding success response to id.
func stunAnswers(b []byte, id [12]byte) bool {
	return len(b) >= 20 && binary.BigEndian.Uint16(b[0:]) == 0x0101 &&
		binary.BigEndian.Uint32(b[4:]) == stunMagic && bytes.Equal(b[8:20], id[:])
}
