package siptest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// StopGroup stops a server the test started in its own process group
// (SysProcAttr.Setpgid): SIGTERM to the main process, which stops its
// children, and after grace SIGKILL to the group; then SIGKILL to the group
// again for children that outlived the main process (they should not).
// Only the PID the test started is signalled, never a process by name.
func StopGroup(t testing.TB, cmd *exec.Cmd, name string, grace time.Duration) {
	pid := cmd.Process.Pid
	_ = syscall.Kill(pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		t.Logf("%s %d did not stop on SIGTERM; killing its process group", name, pid)
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-done
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}

// FileTail is the last n lines of the file at path ("" when unreadable),
// for quoting a server's log when a test fails.
func FileTail(path string, n int) string {
	b, _ := os.ReadFile(path)
	return TailString(string(b), n)
}

// FileContains reports whether the file at path contains sub (false when
// unreadable): a server's log says when it is ready or what it did.
func FileContains(path, sub string) bool {
	b, _ := os.ReadFile(path)
	return bytes.Contains(b, []byte(sub))
}

// CopyFile copies from to to (mode 0644), failing t on error.
func CopyFile(t testing.TB, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// ProcCPU reads a process's user and system CPU time and its number of
// threads from /proc/<pid>/stat; ok is false when the process is gone. The
// module benchmarks tell the plugin service (the one multi-threaded
// process: it runs Go) from the server's own single-threaded processes by
// the thread count.
func ProcCPU(pid int) (cpu time.Duration, threads int, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name may hold spaces and parentheses
	if i < 0 || i+2 > len(s) {
		return 0, 0, false
	}
	// Fields after ")": state (0) ... utime (11), stime (12) ... num_threads (17).
	f := strings.Fields(s[i+2:])
	if len(f) <= 17 {
		return 0, 0, false
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	threads, _ = strconv.Atoi(f[17])
	return time.Duration(ut+st) * 10 * time.Millisecond, threads, true // USER_HZ = 100
}
