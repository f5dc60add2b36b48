package host

import (
	"context"
	"testing"
	"time"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/internal/testwasm"
	"github.com/sipkeep/sipkeep/plugin/keeptest"
)

// refreshREGISTER is a REGISTER refresh of the edge proxy benchmark.
const refreshREGISTER = "REGISTER sip:127.0.0.1:5060 SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 127.0.0.1:53788;branch=z9hG4bK-b1-1;keep\r\n" +
	"From: <sip:user1@127.0.0.1>;tag=b1\r\n" +
	"To: <sip:user1@127.0.0.1>\r\n" +
	"Call-ID: bench-1@127.0.0.1\r\n" +
	"CSeq: 1 REGISTER\r\n" +
	"Contact: <sip:user1@127.0.0.1:53788>\r\n" +
	"Expires: 300\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"

// refreshOK is the 200 the edge proxy sends back (keeptest.RegistrarOK).
const refreshOK = keeptest.RegistrarOK

// The plugin work of a registrar per REGISTER refresh, as the edge proxy
// does it: the REGISTER received on a flow that already has a record, and
// the 200 (keep=30 granted on its top Via) written back. The messages are
// the edge proxy benchmark's own (~300 bytes each), so this is the guest
// share of BenchmarkEdgeProxy/REGISTER/sipkeep, without sipgo or sockets.
// The plugin declares abi.FeatureQuietRefresh, so the REGISTER itself takes
// the fast path and only the 200 enters the guest.
func BenchmarkRegistrarRefresh(b *testing.B) {
	const reg, ok = refreshREGISTER, refreshOK
	for _, tc := range registrarGuests(b) {
		b.Run(tc.name, func(b *testing.B) {
			h := benchHost(b, append(tc.opts, WithoutTimers())...)
			f := flowN(1)
			in := Event{Kind: abi.KindSIPRequest, Dir: abi.DirIn, Flow: f, Role: abi.RoleProxy, Message: []byte(reg)}
			out := Event{Kind: abi.KindSIPResponse, Dir: abi.DirOut, Flow: f, Role: abi.RoleProxy, LocalReply: true, Message: []byte(ok)}
			ctx := context.Background()
			h.Handle(ctx, in)
			if r := h.Handle(ctx, out); !r.Entered || len(r.Message) == len(ok) {
				b.Fatalf("the 200 was not edited: %+v", r)
			}
			b.ReportAllocs()
			for b.Loop() {
				if r := h.Handle(ctx, in); r.Entered {
					b.Fatal("a quiet refresh entered the guest")
				}
				if r := h.Handle(ctx, out); !r.Entered {
					b.Fatalf("200 did not enter the guest: %v", r.Err)
				}
			}
		})
	}
}

// guestCase names a guest and the options that load it.
type guestCase struct {
	name string
	opts []Option
}

// registrarGuests are the two guests the registrar benchmarks compare: the
// built plugin and its logic compiled in.
func registrarGuests(b *testing.B) []guestCase {
	return []guestCase{
		{"wasm", []Option{WithModuleFile(testwasm.Path(b))}},
		{"native", []Option{WithNativeGuest(nativeKeep)}},
	}
}

// BenchmarkRegistrarRefreshCold is the refresh's 200 (the call the edge
// proxy makes per REGISTER) with the caches cold, as they are in a proxy
// where sipgo's own work runs between two calls: 8 MB of other memory is
// walked before each call. Only the call is timed (ns/call); ns/op is
// mostly the walk. Warm against cold, wasm against native, says how much
// of the guest's cost in a running proxy (the host's call histogram) is
// the cache misses of its larger code and memory rather than its
// instructions.
func BenchmarkRegistrarRefreshCold(b *testing.B) {
	for _, tc := range registrarGuests(b) {
		for _, cold := range []bool{false, true} {
			name := tc.name + "/warm"
			if cold {
				name = tc.name + "/cold"
			}
			b.Run(name, func(b *testing.B) {
				h := benchHost(b, append(tc.opts, WithoutTimers())...)
				out := Event{Kind: abi.KindSIPResponse, Dir: abi.DirOut, Flow: flowN(1), Role: abi.RoleProxy, LocalReply: true, Message: []byte(refreshOK)}
				ctx := context.Background()
				h.Handle(ctx, out)
				var spent time.Duration
				for b.Loop() {
					if cold {
						evictCaches()
					}
					t0 := time.Now()
					if r := h.Handle(ctx, out); !r.Entered {
						b.Fatalf("200 did not enter the guest: %v", r.Err)
					}
					spent += time.Since(t0)
				}
				b.ReportMetric(float64(spent.Nanoseconds())/float64(b.N), "ns/call")
			})
		}
	}
}

// evictionBuffer is larger than the test machine's last-level cache share.
var evictionBuffer = make([]byte, 8<<20)

// evictCaches writes one byte of every cache line of evictionBuffer.
func evictCaches() {
	for i := 0; i < len(evictionBuffer); i += 64 {
		evictionBuffer[i]++
	}
}
