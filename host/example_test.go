package host_test

import (
	"context"
	"log"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/host"
	"github.com/sipkeep/sipkeep/hostadapters/netkeep"
	"github.com/sipkeep/sipkeep/hostadapters/sipgokeep"
)

// The README's embedding in a sipgo server: the plugin hot-swapped from a
// file, netkeep on the sockets (STUN and CRLF answered, edits applied),
// sipgokeep serving sipgo through them. It compiles as the README shows it;
// it is not run (it would listen on port 5060).
func Example_sipgo() {
	ctx := context.Background()
	ua, _ := sipgo.NewUA()
	srv, _ := sipgo.NewServer(ua)
	cli, _ := sipgo.NewClient(ua)
	onRegister := func(req *sip.Request, tx sip.ServerTransaction) {}
	var req *sip.Request // a request being forwarded

	err := func() error {
		nk := netkeep.New(netkeep.WithRole(abi.RoleProxy))
		h, err := host.New(ctx,
			host.WithModuleFile("build/sipkeep.wasm"),
			host.WithActionHandler(nk.HandleAction),
			host.WithWatch(time.Second)) // hot swap when the file changes
		if err != nil {
			return err
		}
		defer h.Close(ctx)
		nk.Attach(h)

		ad := sipgokeep.New(ua, sipgokeep.WithKeeper(nk))
		go ad.ListenAndServe(ctx, srv, "udp", "127.0.0.1:5060")
		go ad.ListenAndServe(ctx, srv, "tcp", "127.0.0.1:5060")
		srv.OnRegister(sipgokeep.Handler(onRegister)) // optional: saves a deep stack growth per message
		// when forwarding:
		tx, err := cli.TransactionRequest(ctx, req, sipgo.ClientRequestAddVia, ad.ClientRequestFlow)
		if err != nil {
			return err
		}
		defer tx.Terminate()
		return nil
	}()
	if err != nil {
		log.Print(err)
	}
}

// A server that holds parsed messages calls Handle with each message and
// its flow, and sends Result.Message (or applies Result.Edits, stated
// semantically). It never fails: on any plugin failure the message passes
// unchanged.
func ExampleHost_Handle() {
	ctx := context.Background()
	h, err := host.New(ctx, host.WithModuleFile("build/sipkeep.wasm"))
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close(ctx)

	var flow host.Flow     // the UDP 5-tuple or TCP connection the message goes out on
	var response200 []byte // a 200 to a REGISTER with ;keep on its top Via
	res := h.Handle(ctx, host.Event{
		Kind: abi.KindSIPResponse, Dir: abi.DirOut, Role: abi.RoleProxy,
		Flow: flow, Message: response200,
	})
	send(res.Message) // with keep=30 on the top Via when granted
}

func send([]byte) {}
