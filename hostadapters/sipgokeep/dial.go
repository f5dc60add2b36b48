package sipgokeep

import (
	"context"
	"net"
	"sync"
)

// dialListener hands connections the Adapter dialed to sipgo as if they had
// been accepted: sipgo's TransportTCP.Serve registers each one in its
// connection pool (under its remote address) and starts its reader, exactly
// as for an accepted connection. That is the only public way to give sipgo a
// client connection we opened ourselves, and so the only way to put sipgo's
// outgoing streams under sipkeep.
type dialListener struct {
	addr  net.Addr
	conns chan handoff
	done  chan struct{}
	once  sync.Once

	mu   sync.Mutex
	prev chan struct{} // closed when sipgo has taken the previous conn
}

type handoff struct {
	conn  net.Conn
	taken chan struct{}
}

func newDialListener(addr net.Addr) *dialListener {
	return &dialListener{addr: addr, conns: make(chan handoff), done: make(chan struct{})}
}

// Accept returns the next dialed connection. sipgo calls Accept again only
// after it has registered the previous connection (TransportTCP.Serve runs
// initConnection synchronously), so entering Accept is the signal that the
// previous hand-off is complete.
func (d *dialListener) Accept() (net.Conn, error) {
	d.mu.Lock()
	if d.prev != nil {
		close(d.prev)
		d.prev = nil
	}
	d.mu.Unlock()
	select {
	case h := <-d.conns:
		d.mu.Lock()
		d.prev = h.taken
		d.mu.Unlock()
		return h.conn, nil
	case <-d.done:
		return nil, net.ErrClosed
	}
}

// handOff gives conn to sipgo and waits until sipgo's pool has it.
func (d *dialListener) handOff(ctx context.Context, conn net.Conn) error {
	h := handoff{conn: conn, taken: make(chan struct{})}
	select {
	case d.conns <- h:
	case <-d.done:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-h.taken:
		return nil
	case <-d.done:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d *dialListener) Close() error {
	d.once.Do(func() { close(d.done) })
	return nil
}

// Addr is the real listener's address: sipgo records the listen port of the
// first listener per network, and Record-Route uses it.
func (d *dialListener) Addr() net.Addr { return d.addr }
