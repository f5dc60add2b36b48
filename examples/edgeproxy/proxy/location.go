package proxy

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Flow is the transport flow a binding was registered over: requests for the
// binding go back over it (RFC 5626 §5.3), never to the Contact's address,
// which is usually a private address behind NAT. Keeping this flow open is
// the whole point of keep-alives.
type Flow struct {
	Transport string // "UDP" or "TCP"
	Remote    string // the UA's address as we see it, host:port
	Local     string // our address the REGISTER arrived on, host:port
}

// Binding is one registered contact of an address-of-record.
type Binding struct {
	AOR        string
	Contact    sip.Uri
	Expires    time.Time
	Flow       Flow
	Instance   string // +sip.instance (RFC 5626)
	RegID      string // reg-id (RFC 5626)
	Outbound   bool   // registered with RFC 5626 outbound
	CallID     string
	CSeq       uint32
	Registered time.Time
}

// key identifies a binding inside its AOR: the instance and reg-id for
// outbound registrations (RFC 5626 §6), otherwise the contact URI.
func (b *Binding) key() string {
	if b.Instance != "" && b.RegID != "" {
		return "ob:" + b.Instance + ";" + b.RegID
	}
	return "uri:" + contactKey(b.Contact)
}

// contactKey is what a request-URI is compared with to find the binding of a
// mid-dialog request (the remote target of a dialog is a registered Contact).
func contactKey(u sip.Uri) string {
	return strings.ToLower(u.User + "@" + u.HostPort())
}

// Location is the in-memory location service. Safe for concurrent use.
type Location struct {
	mu     sync.Mutex
	aors   map[string][]*Binding
	now    func() time.Time
	byUser bool
}

// LocationOption configures a Location.
type LocationOption func(*Location)

// KeyByUser makes the user part alone identify an AOR when on is true:
// sip:alice@example.com and sip:alice@127.0.0.1 are then the same AOR, as
// in Kamailio's registrar with use_domain=0.
func KeyByUser(on bool) LocationOption { return func(l *Location) { l.byUser = on } }

// NewLocation returns an empty location service.
func NewLocation(opts ...LocationOption) *Location {
	l := &Location{aors: map[string][]*Binding{}, now: time.Now}
	for _, o := range opts {
		o(l)
	}
	return l
}

// key is the map key of an AOR as AOR returns it (sip:user@host).
func (l *Location) key(aor string) string {
	if l.byUser {
		if i := strings.LastIndexByte(aor, '@'); i > len("sip:") {
			return aor[:i]
		}
	}
	return aor
}

// AOR is the canonical address-of-record for a URI: sip:user@host.
func AOR(u sip.Uri) string {
	return strings.ToLower("sip:" + u.User + "@" + u.Host)
}

// ErrTooManyContacts is Update's answer when a REGISTER would leave an AOR
// with more live bindings than its limit; nothing is changed.
var ErrTooManyContacts = errors.New("too many registered contacts")

// Update applies one REGISTER's bindings (expires zero removes) and returns
// the AOR's current bindings. With maxContacts > 0, a REGISTER that would
// leave more than maxContacts live bindings changes nothing and returns
// ErrTooManyContacts (re-registering or removing a binding never counts
// against the limit: it replaces or drops one).
func (l *Location) Update(aor string, bs []*Binding, maxContacts int) ([]Binding, error) {
	aor = l.key(aor)
	l.mu.Lock()
	defer l.mu.Unlock()
	old := l.liveLocked(aor)
	cur := slices.Clone(old)
	for _, b := range bs {
		k := b.key()
		cur = slices.DeleteFunc(cur, func(o *Binding) bool { return o.key() == k })
		if b.Expires.After(l.now()) {
			cur = append(cur, b)
		}
	}
	if maxContacts > 0 && len(cur) > maxContacts && len(cur) > len(old) {
		return copyBindings(old), ErrTooManyContacts
	}
	l.setLocked(aor, cur)
	return copyBindings(cur), nil
}

// RemoveAll drops every binding of aor (Contact: *, Expires: 0).
func (l *Location) RemoveAll(aor string) {
	aor = l.key(aor)
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.aors, aor)
}

// RemoveFlow drops the bindings registered over a flow (transport and
// remote address) that failed, so requests are not routed into a dead NAT
// binding.
func (l *Location) RemoveFlow(f Flow) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for aor, bs := range l.aors {
		kept := slices.DeleteFunc(bs, func(b *Binding) bool {
			return strings.EqualFold(b.Flow.Transport, f.Transport) && b.Flow.Remote == f.Remote
		})
		n += len(bs) - len(kept)
		l.setLocked(aor, kept)
	}
	return n
}

// Lookup returns the live bindings of aor, most recently registered first.
func (l *Location) Lookup(aor string) []Binding {
	aor = l.key(aor)
	l.mu.Lock()
	defer l.mu.Unlock()
	bs := copyBindings(l.liveLocked(aor))
	slices.SortStableFunc(bs, func(a, b Binding) int { return b.Registered.Compare(a.Registered) })
	return bs
}

// ByContact finds the live binding whose Contact is u (the remote target of
// a mid-dialog request).
func (l *Location) ByContact(u sip.Uri) (Binding, bool) {
	k := contactKey(u)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for _, bs := range l.aors {
		for _, b := range bs {
			if b.Expires.After(now) && contactKey(b.Contact) == k {
				return *b, true
			}
		}
	}
	return Binding{}, false
}

// Len reports the number of live bindings.
func (l *Location) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for aor := range l.aors {
		n += len(l.liveLocked(aor))
	}
	return n
}

func (l *Location) liveLocked(aor string) []*Binding {
	now := l.now()
	bs := slices.DeleteFunc(l.aors[aor], func(b *Binding) bool { return !b.Expires.After(now) })
	l.setLocked(aor, bs)
	return bs
}

func (l *Location) setLocked(aor string, bs []*Binding) {
	if len(bs) == 0 {
		delete(l.aors, aor)
		return
	}
	l.aors[aor] = bs
}

func copyBindings(bs []*Binding) []Binding {
	out := make([]Binding, len(bs))
	for i, b := range bs {
		out[i] = *b
	}
	return out
}
