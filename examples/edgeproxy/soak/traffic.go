package soak

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// RFC 3261 timers for a non-INVITE client transaction over UDP: resend
// after T1, doubling up to T2, give up at Timer F (64·T1).
const (
	t1     = 500 * time.Millisecond
	t2     = 4 * time.Second
	timerF = 64 * t1
	// pongWait is how long a CRLFCRLF ping waits for its pong (RFC 5626
	// §4.4.1: 10 s).
	pongWait = 10 * time.Second
)

// counters are the soak's results; every field is updated atomically.
type counters struct {
	transactions, failed, wrongKeep atomic.Int64
	// notGranted: a 200 without a keep value where one was asked — what
	// the host sends when the plugin call failed open (an overrun
	// deadline, a trap): the message passes unchanged. Not wrong, but it
	// must be explained by the host's failed_open calls.
	notGranted                   atomic.Int64
	kaSent, kaAnswered, kaFailed atomic.Int64
	flowsUp                      atomic.Int64

	mu       sync.Mutex
	findings []string // the first few failures, described
}

func (c *counters) finding(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.findings) < 20 {
		c.findings = append(c.findings, time.Now().UTC().Format("15:04:05.000 ")+fmt.Sprintf(format, args...))
	}
}

// checkRegister counts one REGISTER transaction: a 200 whose top Via has
// keep=want, or a failure of one kind or another.
func (c *counters) checkRegister(who string, res response, err error, want int) bool {
	c.transactions.Add(1)
	switch {
	case err != nil:
		c.failed.Add(1)
		c.finding("%s: REGISTER failed: %v", who, err)
		return false
	case res.code != 200:
		c.failed.Add(1)
		c.finding("%s: REGISTER answered %d", who, res.code)
		return false
	case res.keep < 0:
		c.notGranted.Add(1)
		c.finding("%s: no keep value on the 200's top Via (plugin call failed open?)", who)
		return true
	case res.keep != want:
		c.wrongKeep.Add(1)
		c.finding("%s: keep=%d on the 200's top Via, want %d", who, res.keep, want)
		return false
	}
	return true
}

// udpTransact sends req and returns the final response whose top Via has
// branch, resending as RFC 3261 §17.1.2 does.
func udpTransact(conn *net.UDPConn, to *net.UDPAddr, req []byte, branch string, buf []byte) (response, error) {
	start, wait := time.Now(), t1
	for time.Since(start) < timerF {
		if _, err := conn.WriteToUDP(req, to); err != nil {
			return response{}, err
		}
		deadline := time.Now().Add(wait)
		for {
			conn.SetReadDeadline(deadline)
			n, _, err := conn.ReadFromUDP(buf)
			if err != nil {
				break // resend
			}
			if r, ok := parseResponse(buf[:n]); ok && r.branch == branch && r.code >= 200 {
				return r, nil
			}
		}
		wait = min(2*wait, t2)
	}
	return response{}, errors.New("no final response (Timer F)")
}

// stunTransact sends a STUN Binding request and waits for its answer,
// resending as RFC 5389 §7.2.1 does (RTO 500 ms doubling, 7 sends, the
// last waited 16 RTO).
func stunTransact(conn *net.UDPConn, to *net.UDPAddr, buf []byte) error {
	req, id := stunRequest()
	rto := t1
	for try := 1; try <= 7; try++ {
		if _, err := conn.WriteToUDP(req, to); err != nil {
			return err
		}
		wait := rto
		if try == 7 {
			wait = 16 * t1
		}
		deadline := time.Now().Add(wait)
		for {
			conn.SetReadDeadline(deadline)
			n, _, err := conn.ReadFromUDP(buf)
			if err != nil {
				break
			}
			if stunAnswers(buf[:n], id) {
				return nil
			}
		}
		rto *= 2
	}
	return errors.New("STUN Binding request unanswered")
}

// keepInterval is when a UA granted keep=k sends its next keep-alive:
// 80–100 % of k (RFC 5626 §4.4.1).
func keepInterval(k int) time.Duration {
	d := time.Duration(k) * time.Second
	return d*8/10 + rand.N(d*2/10+1)
}

// sleep waits d or until ctx ends; false if ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// udpFlow registers user over its own UDP socket (one flow) and keeps the
// flow alive with STUN until ctx ends; the transaction in flight then
// completes.
func (s *soak) udpFlow(ctx context.Context, user string) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		s.c.finding("%s: %v", user, err)
		s.c.failed.Add(1)
		return
	}
	defer conn.Close()
	buf := make([]byte, 65536)
	br := newBranch()
	res, err := udpTransact(conn, s.udpAddr, register("UDP", conn.LocalAddr().String(), s.addr, user, br, 1), br, buf)
	if !s.c.checkRegister(user, res, err, s.cfg.Keep) {
		return
	}
	s.c.flowsUp.Add(1)
	for sleep(ctx, keepInterval(s.cfg.Keep)) {
		s.c.kaSent.Add(1)
		if err := stunTransact(conn, s.udpAddr, buf[:1500]); err != nil {
			s.c.kaFailed.Add(1)
			s.c.finding("%s: %v", user, err)
			continue
		}
		s.c.kaAnswered.Add(1)
	}
}

// tcpFlow is udpFlow over a TCP connection, with CRLFCRLF pings.
func (s *soak) tcpFlow(ctx context.Context, user string) {
	conn, err := net.DialTimeout("tcp", s.addr, timerF)
	if err != nil {
		s.c.transactions.Add(1)
		s.c.failed.Add(1)
		s.c.finding("%s: dial: %v", user, err)
		return
	}
	defer conn.Close()
	rd := bufio.NewReader(conn)
	br := newBranch()
	conn.SetDeadline(time.Now().Add(timerF))
	var res response
	if _, err = conn.Write(register("TCP", conn.LocalAddr().String(), s.addr, user, br, 1)); err == nil {
		res, err = readResponse(rd, br)
	}
	if !s.c.checkRegister(user, res, err, s.cfg.Keep) {
		return
	}
	s.c.flowsUp.Add(1)
	pong := make([]byte, 2)
	for sleep(ctx, keepInterval(s.cfg.Keep)) {
		s.c.kaSent.Add(1)
		conn.SetDeadline(time.Now().Add(pongWait))
		_, err := conn.Write([]byte("\r\n\r\n"))
		if err == nil {
			_, err = io.ReadFull(rd, pong)
		}
		if err != nil || string(pong) != "\r\n" {
			s.c.kaFailed.Add(1)
			s.c.finding("%s: CRLF ping: pong %q, %v", user, pong, err)
			return // the stream is out of step or gone
		}
		s.c.kaAnswered.Add(1)
	}
}

// readResponse reads SIP messages from a stream until the final response
// with branch.
func readResponse(rd *bufio.Reader, branch string) (response, error) {
	for {
		var head strings.Builder
		length := 0
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				return response{}, err
			}
			if line == "\r\n" && head.Len() == 0 {
				continue // a pong or keep-alive between messages
			}
			head.WriteString(line)
			if line == "\r\n" {
				break
			}
			if name, v, ok := strings.Cut(line, ":"); ok && (strings.EqualFold(strings.TrimSpace(name), "Content-Length") || strings.TrimSpace(name) == "l") {
				length, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		if _, err := rd.Discard(length); err != nil {
			return response{}, err
		}
		if r, ok := parseResponse([]byte(head.String())); ok && r.branch == branch && r.code >= 200 {
			return r, nil
		}
	}
}

// loadWorker registers user over and over on one UDP socket, each
// REGISTER sent when the last is answered (closed loop), until ctx ends.
func (s *soak) loadWorker(ctx context.Context, user string) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		s.c.finding("%s: %v", user, err)
		s.c.failed.Add(1)
		return
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	buf := make([]byte, 65536)
	for cseq := 1; ctx.Err() == nil; cseq++ {
		br := newBranch()
		res, err := udpTransact(conn, s.udpAddr, register("UDP", local, s.addr, user, br, cseq), br, buf)
		s.c.checkRegister(user, res, err, s.cfg.Keep)
	}
}
