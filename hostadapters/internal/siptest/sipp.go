package siptest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// SippRun is one run of sipp's REGISTER scenario against a server.
type SippRun struct {
	Calls     int
	Rate      int    // calls per second; 0 = as fast as the limit allows
	Limit     int    // simultaneous calls
	Transport string // "u1" (UDP, one socket), "un" (UDP, a socket per call: a flow per UA) or "t1"
	CheckKeep bool   // fail a call whose 200 OK has no keep=N on the top Via
}

// NeedSipp skips the test when sipp is not installed: the server tests
// are real-part tests, and without the tool there is nothing to drive.
func NeedSipp(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("sipp"); err != nil {
		t.Skip("sipp is not installed (apt-get install sip-tester): skipping")
	}
}

// Sipp runs the scenario testdata/register.xml (of the calling test's
// package, its working directory) against addr from dir, and returns the
// wall time and sipp's output; a non-zero exit (a failed call) is an error
// carrying the command and the output's tail. Safe from any goroutine.
func Sipp(dir, addr string, r SippRun) (time.Duration, string, error) {
	bin, err := exec.LookPath("sipp")
	if err != nil {
		return 0, "", err
	}
	scen, err := os.ReadFile(filepath.Join("testdata", "register.xml"))
	if err != nil {
		return 0, "", err
	}
	if !r.CheckKeep {
		scen = bytes.Replace(scen, []byte(`check_it="true"`), []byte(`check_it="false"`), 1)
	}
	sf := filepath.Join(dir, "register.xml")
	if err := os.WriteFile(sf, scen, 0o644); err != nil {
		return 0, "", err
	}
	if r.Transport == "" {
		r.Transport = "u1"
	}
	if r.Limit == 0 {
		r.Limit = 50
	}
	rate := r.Rate
	if rate == 0 {
		rate = 1000000
	}
	args := []string{"-sf", sf, "-i", "127.0.0.1", "-t", r.Transport,
		"-m", fmt.Sprint(r.Calls), "-r", fmt.Sprint(rate), "-l", fmt.Sprint(r.Limit),
		"-timeout", "60s", "-timeout_error", "-recv_timeout", "5000", "-nostdin"}
	if r.Transport == "un" {
		// A socket per call: sipp refuses to start while its default cap
		// on sockets (50,000) exceeds the open-file limit.
		args = append(args, "-max_socket", fmt.Sprint(2*r.Limit+16))
	}
	args = append(args, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err = cmd.Run()
	took := time.Since(start)
	if err != nil {
		return took, out.String(), fmt.Errorf("sipp %s: %w\n%s", strings.Join(args, " "), err, TailString(out.String(), 30))
	}
	return took, out.String(), nil
}

// SippCounts reads sipp's final "Successful call" and "Failed call" counts.
func SippCounts(out string) (ok, failed int) {
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(strings.ReplaceAll(l, "|", " "))
		if len(f) >= 4 && f[0] == "Successful" && f[1] == "call" {
			ok, _ = strconv.Atoi(f[len(f)-1])
		}
		if len(f) >= 4 && f[0] == "Failed" && f[1] == "call" {
			failed, _ = strconv.Atoi(f[len(f)-1])
		}
	}
	return ok, failed
}

// TailString is the last n lines of s, so an error quotes a long log's end.
func TailString(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
