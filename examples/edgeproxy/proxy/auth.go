package proxy

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// authenticator does HTTP digest (RFC 3261 §22, RFC 8760) for REGISTER.
// Disabled (every request passes) when no user is configured.
type authenticator struct {
	realm string
	users map[string]string

	mu     sync.Mutex
	nonces map[string]time.Time // issued, with their expiry
}

const nonceLife = 5 * time.Minute

func newAuthenticator(realm string, users map[string]string) *authenticator {
	return &authenticator{realm: realm, users: users, nonces: map[string]time.Time{}}
}

func (a *authenticator) enabled() bool { return len(a.users) > 0 }

// check returns the authenticated user, or a challenge header to send with a 401.
func (a *authenticator) check(req *sip.Request) (user string, challenge sip.Header) {
	if !a.enabled() {
		return "", nil
	}
	if h := req.GetHeader("Authorization"); h != nil {
		if cred, err := digest.ParseCredentials(h.Value()); err == nil && a.verify(req, cred) {
			return cred.Username, nil
		}
	}
	chal := digest.Challenge{Realm: a.realm, Nonce: a.newNonce(), Algorithm: "MD5", QOP: []string{"auth"}}
	return "", sip.NewHeader("WWW-Authenticate", chal.String())
}

func (a *authenticator) verify(req *sip.Request, cred *digest.Credentials) bool {
	pass, ok := a.users[cred.Username]
	if !ok || cred.Realm != a.realm || !a.validNonce(cred.Nonce) {
		return false
	}
	chal := &digest.Challenge{Realm: a.realm, Nonce: cred.Nonce, Algorithm: cred.Algorithm, Opaque: cred.Opaque}
	if cred.QOP != "" {
		chal.QOP = []string{cred.QOP}
	}
	want, err := digest.Digest(chal, digest.Options{
		Method: string(req.Method), URI: cred.URI, Username: cred.Username, Password: pass,
		Count: cred.Nc, Cnonce: cred.Cnonce,
	})
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.ToLower(want.Response)), []byte(strings.ToLower(cred.Response))) == 1
}

func (a *authenticator) newNonce() string {
	var b [16]byte
	rand.Read(b[:])
	n := hex.EncodeToString(b[:])
	now := time.Now()
	a.mu.Lock()
	for k, exp := range a.nonces {
		if now.After(exp) {
			delete(a.nonces, k)
		}
	}
	a.nonces[n] = now.Add(nonceLife)
	a.mu.Unlock()
	return n
}

func (a *authenticator) validNonce(n string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	exp, ok := a.nonces[n]
	return ok && time.Now().Before(exp)
}
