package netkeep

import (
	"errors"
	"strings"
	"testing"
)

// reqHead is a request's start line and the fields a rejection copies.
const reqHead = "REGISTER sip:example.com SIP/2.0\r\n" +
	"Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK-1\r\n" +
	"From: <sip:a@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\n" +
	"Call-ID: c1\r\nCSeq: 1 REGISTER\r\n"

// frameAll feeds data in one piece to a stream framer with the default
// limits and returns the messages and the error.
func frameAll(data string) (*framer, []string, error) {
	f := newFramer(Limits{}, true, true)
	f.feed([]byte(data))
	var msgs []string
	for {
		it, msg, err := f.next(false, false)
		if err != nil || it == itemNone {
			return &f, msgs, err
		}
		if it == itemMessage {
			msgs = append(msgs, string(msg))
		}
	}
}

// One authority on message boundaries: whatever two SIP readers could frame
// differently is refused, with the answer RFC 3261 gives where one can be
// built (status 0: close without an answer); what they all frame the same is
// accepted as sent.
func TestFramerRefusesAmbiguousFraming(t *testing.T) {
	folds := func(n int) string { return "X-F: a\r\n" + strings.Repeat(" b\r\n", n) }
	many := func(n int) string { return strings.Repeat("X-A: a\r\n", n) }
	for _, tc := range []struct {
		name, in string
		status   int // 0 with ok: accepted; 0 without: closed unanswered
		ok       bool
	}{
		{"plain", reqHead + "Content-Length: 0\r\n\r\n", 0, true},
		{"keep-alives before", "\r\n\r\n\r\n" + reqHead + "Content-Length: 0\r\n\r\n", 0, true},
		{"compact l with body", reqHead + "l: 3\r\n\r\nabc", 0, true},
		{"folded Content-Length", reqHead + "Content-Length:\r\n 3\r\n\r\nabc", 0, true},
		{"Content-Length with LWS", reqHead + "Content-Length :\t3 \r\n\r\nabc", 0, true},
		{"16 continuation lines", reqHead + folds(16) + "l: 0\r\n\r\n", 0, true},
		{"256 header lines", reqHead + many(256-6) + "l: 0\r\n\r\n", 0, true},
		{"response", "SIP/2.0 200 OK\r\nl: 0\r\n\r\n", 0, true},

		{"Content-Length then l: 0", reqHead + "Content-Length: 40\r\nl: 0\r\n\r\n", 400, false},
		{"duplicate equal Content-Length", reqHead + "Content-Length: 0\r\nContent-Length: 0\r\n\r\n", 400, false},
		{"negative Content-Length", reqHead + "Content-Length: -3\r\n\r\n", 400, false},
		{"overflowing Content-Length", reqHead + "Content-Length: 18446744073709551617\r\n\r\n", 400, false},
		{"two numbers", reqHead + "Content-Length: 1 2\r\n\r\n", 400, false},
		{"folded into two numbers", reqHead + "Content-Length: 1\r\n 2\r\n\r\n", 400, false},
		{"missing Content-Length", reqHead + "\r\n", 400, false},
		{"too large by Content-Length", reqHead + "Content-Length: 65536\r\n\r\n", 513, false},
		{"bare CR in a header", reqHead + "X-A: a\rb\r\nl: 0\r\n\r\n", 400, false},
		{"bare LF in a header", reqHead + "X-A: a\nl: 5\r\nl: 0\r\n\r\n", 400, false},
		{"NUL in a header", reqHead + "X-A: a\x00\r\nl: 0\r\n\r\n", 400, false},
		{"header without colon", reqHead + "X-A a\r\nl: 0\r\n\r\n", 400, false},
		{"name that is not a token", reqHead + "\vl: 5\r\nl: 0\r\n\r\n", 400, false},
		{"17 continuation lines", reqHead + folds(17) + "l: 0\r\n\r\n", 400, false},
		{"257 header lines", reqHead + many(257-6) + "l: 0\r\n\r\n", 400, false},
		{"headers over 32 KiB", reqHead + "X-A: " + strings.Repeat("a", 33<<10), 513, false},

		{"NULs before the start line", "\x00\x00\x00\x00" + reqHead + "l: 0\r\n\r\n", 0, false},
		{"TLS on a TCP port", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 0, false},
		{"HTTP", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0, false},
		{"continuation after the start line", "OPTIONS sip:x SIP/2.0\r\n l: 5\r\nl: 0\r\n\r\n", 400, false},
		{"CR without LF between messages", "\r\x00", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, msgs, err := frameAll(tc.in)
			if tc.ok {
				if err != nil || len(msgs) != 1 || !strings.HasSuffix(tc.in, msgs[0]) {
					t.Fatalf("want the message whole: %q, %v", msgs, err)
				}
				return
			}
			var fe *frameError
			if !errors.As(err, &fe) || !errors.Is(err, ErrFraming) || len(msgs) != 0 {
				t.Fatalf("want a framing error, got %q, %v", msgs, err)
			}
			if fe.status != tc.status {
				t.Fatalf("status %d, want %d (%v)", fe.status, tc.status, err)
			}
			res := f.errorResponse(fe)
			switch {
			case tc.status != 0 && strings.HasPrefix(tc.in, reqHead) && !strings.HasPrefix(string(res), "SIP/2.0 "+itoa3(tc.status)):
				t.Fatalf("answer %q", res)
			case (tc.status == 0 || !strings.HasPrefix(tc.in, reqHead)) && res != nil:
				t.Fatalf("answered %q", res)
			}
		})
	}
}

func itoa3(n int) string {
	return string([]byte{byte('0' + n/100), byte('0' + n/10%10), byte('0' + n%10)})
}

// The answer to a refused request copies Via, From, To, Call-ID and CSeq
// (RFC 3261 §8.2.6.2), adds a To tag, and has no body.
func TestFramerRejectionAnswer(t *testing.T) {
	in := reqHead + "Content-Length: 40\r\nl: 0\r\n\r\n"
	f, _, err := frameAll(in)
	var fe *frameError
	if !errors.As(err, &fe) {
		t.Fatal(err)
	}
	want := "SIP/2.0 400 Bad Request\r\n" +
		"Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK-1\r\n" +
		"From: <sip:a@example.com>;tag=1\r\nTo: <sip:a@example.com>;tag=sipkeep-reject\r\n" +
		"Call-ID: c1\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n"
	if got := string(f.errorResponse(fe)); got != want {
		t.Fatalf("answer\n%q\nwant\n%q", got, want)
	}
	// An ACK is never answered (RFC 3261 §17.2.1).
	f, _, err = frameAll(strings.Replace(in, "REGISTER sip", "ACK sip", 1))
	if errors.As(err, &fe); f.errorResponse(fe) != nil {
		t.Fatal("ACK answered")
	}
}

// Memory: a drained framer keeps at most smallBuf, whatever its messages
// cost; while a message arrives its buffer stays within the message limit
// plus a read window.
func TestFramerMemoryBounded(t *testing.T) {
	f := newFramer(Limits{}, true, true)
	big := reqHead + "X-Pad: " + strings.Repeat("p", 30<<10) + "\r\nContent-Length: 30000\r\n\r\n" + strings.Repeat("b", 30000)
	for i := 0; i < len(big); i += 1000 {
		copy(f.space(readWindow), big[i:min(i+1000, len(big))])
		f.grew(min(1000, len(big)-i))
		if c := cap(f.store); c > DefaultLimits.Message+2*smallBuf+readWindow {
			t.Fatalf("buffer %d bytes while framing a %d-byte message", c, len(big))
		}
	}
	if it, _, err := f.next(false, false); it != itemMessage || err != nil {
		t.Fatalf("%v %v", it, err)
	}
	if cap(f.store) > smallBuf {
		t.Fatalf("drained framer keeps %d bytes", cap(f.store))
	}
}
