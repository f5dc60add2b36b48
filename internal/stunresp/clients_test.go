package stunresp

import (
	"bytes"
	"context"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// serve answers Binding requests on a loopback UDP socket until the test
// ends, the way an adapter does.
func serve(t *testing.T) *net.UDPConn {
	t.Helper()
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	local := pc.LocalAddr().(*net.UDPAddr).AddrPort()
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if res, err := Answer(buf[:n], from, local); err == nil {
				_, _ = pc.WriteToUDPAddrPort(res, from)
			}
		}
	}()
	return pc
}

// A real classic RFC 3489 client: Debian stun-client's `stun`.
func TestK3_StunClient3489(t *testing.T) {
	bin, err := exec.LookPath("stun")
	if err != nil {
		t.Skip("stun (Debian stun-client) not installed")
	}
	pc := serve(t)
	free, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	sport := free.LocalAddr().(*net.UDPAddr).Port
	free.Close()
	out, _ := exec.CommandContext(bounded(t), bin, pc.LocalAddr().String(), "1", "-v", "-p", strconv.Itoa(sport)).CombinedOutput() // exit status: NAT type
	want := "MappedAddress = 127.0.0.1:" + strconv.Itoa(sport)
	if !bytes.Contains(out, []byte(want)) {
		t.Fatalf("stun did not read %q:\n%s", want, out)
	}
}

// A real RFC 5389 client: coturn's turnutils_stunclient.
func TestK3_TurnutilsSTUNClient5389(t *testing.T) {
	bin, err := exec.LookPath("turnutils_stunclient")
	if err != nil {
		t.Skip("turnutils_stunclient (Debian coturn) not installed")
	}
	pc := serve(t)
	port := pc.LocalAddr().(*net.UDPAddr).Port
	out, err := exec.CommandContext(bounded(t), bin, "-p", strconv.Itoa(port), "127.0.0.1").CombinedOutput()
	if err != nil {
		t.Fatalf("turnutils_stunclient: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("UDP reflexive addr: 127.0.0.1:")) {
		t.Fatalf("no reflexive address read:\n%s", out)
	}
}

// bounded ends a client that never gets an answer (stun retries forever).
func bounded(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
