package siptest

import (
	"bytes"
	"os"
	"os/exec"
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
