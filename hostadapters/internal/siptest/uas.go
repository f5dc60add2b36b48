package siptest

import (
	"fmt"
	"strings"
	"time"
)

// AnswerInvites answers n INVITEs on u with 200 OK (a UAS: Vias and
// Record-Route copied, To tagged), with a body of bodyLen bytes (0: none,
// no Content-Type) so a test can make a reply too large for one datagram.
// It returns early when nothing arrives for 10 s; run it in a goroutine.
func AnswerInvites(u *UA, n, bodyLen int) {
	for i := 0; i < n; {
		msg, err := u.Recv(10 * time.Second)
		if err != nil {
			return
		}
		if !strings.HasPrefix(msg, "INVITE ") {
			continue
		}
		i++
		var b strings.Builder
		b.WriteString("SIP/2.0 200 OK\r\n")
		head, _, _ := strings.Cut(msg, "\r\n\r\n")
		for _, l := range strings.Split(head, "\r\n")[1:] {
			name, _, _ := strings.Cut(l, ":")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "via", "v", "record-route", "from", "f", "call-id", "i", "cseq":
				b.WriteString(l + "\r\n")
			case "to", "t":
				b.WriteString(l + ";tag=uas1\r\n")
			}
		}
		body := strings.Repeat("a=x-sipkeep-filler:0123456789abcdef0123456789abcdef0123456789\r\n", bodyLen/32+1)[:bodyLen]
		ct := ""
		if bodyLen > 0 {
			ct = "Content-Type: application/sdp\r\n"
		}
		fmt.Fprintf(&b, "Contact: <sip:callee@%s>\r\n%sContent-Length: %d\r\n\r\n%s", u.Local(), ct, bodyLen, body)
		u.Send(b.String())
	}
}
