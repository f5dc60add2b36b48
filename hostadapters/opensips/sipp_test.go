package opensips

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type sippRun struct {
	Calls     int
	Rate      int    // calls per second; 0 = as fast as the limit allows
	Limit     int    // simultaneous calls
	Transport string // "u1" (UDP, one socket) or "t1"
	CheckKeep bool   // fail a call whose 200 OK has no keep=N on the top Via
}

// runSipp runs the REGISTER scenario against s and returns the wall time;
// it fails the test when sipp reports a failed call (non-zero exit).
func runSipp(t testing.TB, s *osips, r sippRun) time.Duration {
	t.Helper()
	needSipp(t)
	took, err := sipp(t.TempDir(), s, r)
	if err != nil {
		t.Fatal(err)
	}
	return took
}

func needSipp(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("sipp"); err != nil {
		t.Skip("sipp is not installed (apt-get install sip-tester): skipping")
	}
}

// sipp runs the scenario; safe to call from any goroutine.
func sipp(dir string, s *osips, r sippRun) (time.Duration, error) {
	bin, err := exec.LookPath("sipp")
	if err != nil {
		return 0, err
	}
	scen, err := os.ReadFile(filepath.Join("testdata", "register.xml"))
	if err != nil {
		return 0, err
	}
	if !r.CheckKeep {
		scen = bytes.Replace(scen, []byte(`check_it="true"`), []byte(`check_it="false"`), 1)
	}
	sf := filepath.Join(dir, "register.xml")
	if err := os.WriteFile(sf, scen, 0o644); err != nil {
		return 0, err
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
		"-timeout", "60s", "-timeout_error", "-recv_timeout", "5000", "-nostdin", s.Addr()}
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
		return took, fmt.Errorf("sipp %s: %w\n%s", strings.Join(args, " "), err, tailString(out.String(), 30))
	}
	return took, nil
}

func tailString(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
