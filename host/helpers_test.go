package host

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/internal/testwasm"
	"github.com/sipkeep/sipkeep/plugin/keep"
)

// cacheDir is shared by the package's tests: each module compiles once.
var cacheDir string

func TestMain(m *testing.M) {
	d, err := os.MkdirTemp("", "sipkeep-host-cache-")
	if err != nil {
		panic(err)
	}
	cacheDir = d
	code := m.Run()
	os.RemoveAll(d)
	os.Exit(code)
}

func quietLogger() *slog.Logger {
	if os.Getenv("SIPKEEP_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// newHost makes a Host for a test and closes it at the end.
func newHost(tb testing.TB, opts ...Option) *Host {
	tb.Helper()
	base := []Option{WithCompilationCacheDir(cacheDir), WithLogger(quietLogger())}
	h, err := New(context.Background(), append(base, opts...)...)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	tb.Cleanup(func() { h.Close(context.Background()) })
	return h
}

// fixture builds host/internal/testdata/<name> once per test process.
var fixtures = map[string]string{}

func fixture(tb testing.TB, name string) string {
	tb.Helper()
	if p, ok := fixtures[name]; ok {
		return p
	}
	p := testwasm.Build(tb, "./host/internal/testdata/"+name)
	fixtures[name] = p
	return p
}

func readFile(tb testing.TB, p string) []byte {
	tb.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// nativeKeep runs plugin/keep natively.
var nativeKeep NativeGuestFactory = keep.Native

func flowN(i int) Flow {
	return Flow{
		Transport: abi.TransportUDP,
		Local:     netip.MustParseAddrPort("192.0.2.1:5060"),
		Remote:    netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)}), uint16(5000+i%1000)),
	}
}

const registerMsg = "REGISTER sip:example.com SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds;keep\r\n" +
	"Max-Forwards: 70\r\n" +
	"To: <sip:alice@example.com>\r\n" +
	"From: <sip:alice@example.com>;tag=1928301774\r\n" +
	"Call-ID: a84b4c76e66710@pc33.example.com\r\n" +
	"CSeq: 314159 REGISTER\r\n" +
	"Contact: <sip:alice@192.0.2.1:5060>\r\n" +
	"Expires: 3600\r\n" +
	"Content-Length: 0\r\n\r\n"

const optionsMsg = "OPTIONS sip:example.com SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds\r\n" +
	"Max-Forwards: 70\r\n" +
	"To: <sip:bob@example.com>\r\n" +
	"From: <sip:alice@example.com>;tag=1928301774\r\n" +
	"Call-ID: a84b4c76e66710@pc33.example.com\r\n" +
	"CSeq: 1 OPTIONS\r\n" +
	"Content-Length: 0\r\n\r\n"

// reqEvent is a request about to be sent on f: outgoing requests that
// mention keep (or that the sender covers) always enter the guest, which is
// what most tests need (a received request on a flow without a record
// never does: see fastpath.go).
func reqEvent(f Flow, msg string) Event {
	return Event{Kind: abi.KindSIPRequest, Dir: abi.DirOut, Flow: f, Role: abi.RoleProxy, InRouteSet: true, Message: []byte(msg)}
}

// benchHost is newHost for benchmarks: the call timeout is far above any
// call's cost, so a benchmark measures calls and never fails because the
// shared machine descheduled it past the default 100 ms (which a default
// -benchtime run, millions of calls long, met: a timed-out call fails open
// and its result is not the one measured). Interruption itself is tested
// (TestLoopIsInterrupted).
func benchHost(b *testing.B, opts ...Option) *Host {
	b.Helper()
	return newHost(b, append([]Option{WithCallTimeout(10 * time.Second)}, opts...)...)
}
