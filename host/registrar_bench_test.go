package host

import (
	"context"
	"testing"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/internal/testwasm"
)

// The plugin work of a registrar per REGISTER refresh, as the edge proxy
// does it: the REGISTER received on a flow that already has a record, and
// the 200 (keep=30 granted on its top Via) written back. The messages are
// the edge proxy benchmark's own (~300 bytes each), so this is the guest
// share of BenchmarkEdgeProxy/REGISTER/sipkeep, without sipgo or sockets.
// The plugin declares abi.FeatureQuietRefresh, so the REGISTER itself takes
// the fast path and only the 200 enters the guest.
func BenchmarkRegistrarRefresh(b *testing.B) {
	const reg = "REGISTER sip:127.0.0.1:5060 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:53788;branch=z9hG4bK-b1-1;keep\r\n" +
		"From: <sip:user1@127.0.0.1>;tag=b1\r\n" +
		"To: <sip:user1@127.0.0.1>\r\n" +
		"Call-ID: bench-1@127.0.0.1\r\n" +
		"CSeq: 1 REGISTER\r\n" +
		"Contact: <sip:user1@127.0.0.1:53788>\r\n" +
		"Expires: 300\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	const ok = "SIP/2.0 200 OK\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:53788;branch=z9hG4bK-b1-1;keep\r\n" +
		"From: <sip:user1@127.0.0.1>;tag=b1\r\n" +
		"To: <sip:user1@127.0.0.1>;tag=87dfb3dc-d365-4204-b2c6-bb6eea94a24e\r\n" +
		"Call-ID: bench-1@127.0.0.1\r\n" +
		"CSeq: 1 REGISTER\r\n" +
		"Content-Length: 0\r\n" +
		"Contact: <sip:user1@127.0.0.1:53788>;expires=300\r\n" +
		"Date: Mon, 23 Nov 2026 21:18:11 GMT\r\n\r\n"
	for _, tc := range []struct {
		name string
		opts []Option
	}{
		{"wasm", []Option{WithModuleFile(testwasm.Path(b))}},
		{"native", []Option{WithNativeGuest(nativeKeep)}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			h := newHost(b, append(tc.opts, WithoutTimers())...)
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
					b.Fatal("200 did not enter the guest")
				}
			}
		})
	}
}
