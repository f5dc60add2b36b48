package uaclient

import (
	"net"
	"sync"
)

// connListener hands connections we dialed (and netkeep wrapped) to sipgo's
// TCP transport as if it had accepted them: sipgo v1.7.2 has no hook to wrap
// a conn it dials itself, but it reads and pools every accepted conn under
// its local and remote address, so client requests whose Laddr names the
// conn go out on it.
type connListener struct {
	addr net.Addr
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

func newConnListener(addr net.Addr) *connListener {
	return &connListener{addr: addr, ch: make(chan net.Conn), done: make(chan struct{})}
}

func (l *connListener) push(c net.Conn) bool {
	select {
	case l.ch <- c:
		return true
	case <-l.done:
		return false
	}
}

func (l *connListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *connListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *connListener) Addr() net.Addr { return l.addr }
