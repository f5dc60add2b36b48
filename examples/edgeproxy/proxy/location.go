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
	// Indexes of the bindings in aors (kept by setLocked), so that a
	// closed flow and a mid-dialog request cost the bindings they concern,
	// not a walk of every AOR under the lock: with 10,000 registered
	// flows, 1,000 TCP flows closing at once held the lock for seconds.
	byFlow    map[string]map[*Binding]string // flowKey → binding → its AOR key
	byContact map[string]map[*Binding]string // contactKey → binding → its AOR key
}

func flowKey(f Flow) string { return strings.ToUpper(f.Transport) + " " + f.Remote }

// LocationOption configures a Location.
type LocationOption func(*Location)

// KeyByUser makes the user part alone identify an AOR when on is true:
// sip:alice@example.com and sip:alice@127.0.0.1 are then the same AOR, as
// in Kamailio's registrar with use_domain=0.
func KeyByUser(on bool) LocationOption { return func(l *Location) { l.byUser = on } }

// NewLocation returns an empty location service.
func NewLocation(opts ...LocationOption) *Location {
	l := &Location{aors: map[string][]*Binding{}, now: time.Now,
		byFlow: map[string]map[*Binding]string{}, byContact: map[string]map[*Binding]string{}}
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
	l.setLocked(aor, nil)
}

// RemoveFlow drops the bindings registered over a flow (transport and
// remote address) that failed, so requests are not routed into a dead NAT
// binding.
func (l *Location) RemoveFlow(f Flow) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := flowKey(f)
	aors := map[string]bool{}
	for _, aor := range l.byFlow[k] {
		aors[aor] = true
	}
	n := 0
	for aor := range aors {
		bs := l.aors[aor]
		kept := slices.DeleteFunc(slices.Clone(bs), func(b *Binding) bool { return flowKey(b.Flow) == k })
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
// a mid-dialog request), the most recently registered if several are.
func (l *Location) ByContact(u sip.Uri) (Binding, bool) {
	k := contactKey(u)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var best *Binding
	for b := range l.byContact[k] {
		if b.Expires.After(now) && (best == nil || b.Registered.After(best.Registered)) {
			best = b
		}
	}
	if best == nil {
		return Binding{}, false
	}
	return *best, true
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
	expired := func(b *Binding) bool { return !b.Expires.After(now) }
	bs := l.aors[aor]
	if !slices.ContainsFunc(bs, expired) {
		return bs
	}
	bs = slices.DeleteFunc(slices.Clone(bs), expired)
	l.setLocked(aor, bs)
	return bs
}

// setLocked makes bs the bindings of aor and updates the indexes. bs is a
// new slice: the current one must not have been changed in place, since
// it tells which bindings leave.
func (l *Location) setLocked(aor string, bs []*Binding) {
	old := l.aors[aor]
	for _, b := range old {
		if !slices.Contains(bs, b) {
			unindex(l.byFlow, flowKey(b.Flow), b)
			unindex(l.byContact, contactKey(b.Contact), b)
		}
	}
	for _, b := range bs {
		if !slices.Contains(old, b) {
			index(l.byFlow, flowKey(b.Flow), b, aor)
			index(l.byContact, contactKey(b.Contact), b, aor)
		}
	}
	if len(bs) == 0 {
		delete(l.aors, aor)
		return
	}
	l.aors[aor] = bs
}

func index(m map[string]map[*Binding]string, k string, b *Binding, aor string) {
	set := m[k]
	if set == nil {
		set = map[*Binding]string{}
		m[k] = set
	}
	set[b] = aor
}

func unindex(m map[string]map[*Binding]string, k string, b *Binding) {
	delete(m[k], b)
	if len(m[k]) == 0 {
		delete(m, k)
	}
}

func copyBindings(bs []*Binding) []Binding {
	out := make([]Binding, len(bs))
	for i, b := range bs {
		out[i] = *b
	}
	return out
}
