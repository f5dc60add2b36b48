package netkeep

import (
	"fmt"
	"time"
)

// A stream has two read deadlines: the application's (sipgo's ReadTimeout)
// and netkeep's (Limits.MessageTimeout once a message has begun, else
// Limits.IdleTimeout on an accepted stream without a keep-alive flow or a
// registration). The socket gets the earlier; a timeout says whose it was.

// SetReadDeadline remembers the reader's timeout so that a keep-alive, which
// the reader never sees, still counts as activity (sipgo's ReadTimeout).
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.noteReadDeadline(t)
	return c.setAppDeadline(t)
}

// SetDeadline: see SetReadDeadline.
func (c *Conn) SetDeadline(t time.Time) error {
	c.noteReadDeadline(t)
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.setAppDeadline(t)
}

func (c *Conn) noteReadDeadline(t time.Time) {
	if t.IsZero() {
		c.readIdle.Store(0)
		return
	}
	c.readIdle.Store(int64(time.Until(t)))
}

func (c *Conn) rearmReadDeadline() {
	if d := time.Duration(c.readIdle.Load()); d > 0 {
		_ = c.setAppDeadline(time.Now().Add(d))
	}
}

func (c *Conn) setAppDeadline(t time.Time) error {
	c.dlMu.Lock()
	defer c.dlMu.Unlock()
	c.appDeadline = t
	return c.Conn.SetReadDeadline(earliest(t, c.ourDeadline))
}

// armDeadline sets netkeep's deadline before a socket read (reader only).
func (c *Conn) armDeadline() {
	ours, _ := c.ourDeadlineNow()
	c.dlMu.Lock()
	defer c.dlMu.Unlock()
	c.ourDeadline = ours
	_ = c.Conn.SetReadDeadline(earliest(c.appDeadline, ours))
}

// ourDeadlineNow is netkeep's deadline for the next read and what it bounds.
func (c *Conn) ourDeadlineNow() (time.Time, string) {
	lim := &c.k.lim
	if !c.msgStart.IsZero() && lim.MessageTimeout > 0 {
		return c.msgStart.Add(lim.MessageTimeout), "message not complete"
	}
	if c.accepted && lim.IdleTimeout > 0 && !c.keepFlow.Load() && !c.regFlow.Load() {
		return time.Unix(0, c.lastActive.Load()).Add(lim.IdleTimeout), "idle"
	}
	return time.Time{}, ""
}

// timeoutCause tells whose deadline a timed-out read hit: the application's
// (ours nil), netkeep's (ours says which), or neither any more (spurious:
// activity or a registration moved netkeep's on while the read waited).
func (c *Conn) timeoutCause() (ours error, spurious bool) {
	now := time.Now()
	c.dlMu.Lock()
	app := c.appDeadline
	c.dlMu.Unlock()
	if !app.IsZero() && !now.Before(app) {
		return nil, false
	}
	if t, what := c.ourDeadlineNow(); !t.IsZero() && !now.Before(t) {
		d := c.k.lim.IdleTimeout
		if what != "idle" {
			d = c.k.lim.MessageTimeout
		}
		return fmt.Errorf("%w: %s after %v", ErrStreamTimeout, what, d), false
	}
	return nil, true
}

func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}

// wakeReader makes a blocked read return and re-arm netkeep's deadline (the
// read sees a timeout that timeoutCause calls spurious, or the idle one).
func (c *Conn) wakeReader() {
	c.dlMu.Lock()
	defer c.dlMu.Unlock()
	c.ourDeadline = time.Now()
	_ = c.Conn.SetReadDeadline(c.ourDeadline)
}
