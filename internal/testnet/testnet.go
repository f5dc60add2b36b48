// Package testnet holds the helpers that tests starting real servers on
// loopback share: a port free for both UDP and TCP, and a Prometheus
// metrics scrape.
package testnet

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FreePort returns a port that is free on 127.0.0.1 for both UDP and TCP
// (SIP servers listen on the same port number for both).
func FreePort(tb testing.TB) int {
	tb.Helper()
	pc, l := ListenUDPAndTCP(tb)
	port := pc.LocalAddr().(*net.UDPAddr).Port
	pc.Close()
	l.Close()
	return port
}

// ListenUDPAndTCP listens on one port of 127.0.0.1 for both UDP and TCP, for
// a test's own SIP peer; the caller closes both.
func ListenUDPAndTCP(tb testing.TB) (net.PacketConn, net.Listener) {
	tb.Helper()
	return ListenUDPAndTCPOn(tb, "127.0.0.1")
}

// ListenUDPAndTCPOn is ListenUDPAndTCP on ip ("127.0.0.1" or "::1").
func ListenUDPAndTCPOn(tb testing.TB, ip string) (net.PacketConn, net.Listener) {
	tb.Helper()
	for range 50 {
		pc, err := net.ListenPacket("udp", net.JoinHostPort(ip, "0"))
		if err != nil {
			tb.Fatal(err)
		}
		l, err := net.Listen("tcp", net.JoinHostPort(ip, fmt.Sprint(pc.LocalAddr().(*net.UDPAddr).Port)))
		if err == nil {
			return pc, l
		}
		pc.Close()
	}
	tb.Fatalf("no port free for both UDP and TCP on %s", ip)
	return nil, nil
}

var scrapeClient = &http.Client{Timeout: 2 * time.Second}

// Scrape reads http://addr/metrics (Prometheus text exposition) into
// "name{labels}" -> value.
func Scrape(ctx context.Context, addr string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	res, err := scrapeClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	m := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			m[line[:i]] = v
		}
	}
	return m, nil
}
