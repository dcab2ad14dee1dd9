package cpasim

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// CPA's failed-attempt policy for management authentication.
const (
	maxFailures   = 5
	banDuration   = 30 * time.Minute
	purgeInterval = time.Hour
	idleExpiry    = 2 * time.Hour
)

// Management authentication messages.
const (
	msgRemoteDisabled = "remote management disabled"
	msgKeyNotSet      = "remote management key not set"
	msgMissingKey     = "missing management key"
	msgInvalidKey     = "invalid management key"
)

// authResult is the outcome of one management authentication. A zero
// status means success.
type authResult struct {
	status int
	msg    string
}

func (r authResult) ok() bool { return r.status == 0 }

type attemptInfo struct {
	count        int
	blockedUntil time.Time
	lastActivity time.Time
}

// guard is CPA's management key check with its failed-attempt IP ban. One
// guard is shared by the HTTP and RESP sides.
type guard struct {
	now         func() time.Time
	delay       time.Duration
	secret      func() string
	allowRemote func() bool

	mu        sync.Mutex
	attempts  map[string]*attemptInfo
	lastPurge time.Time
}

func newGuard(now func() time.Time, delay time.Duration, secret func() string, allowRemote func() bool) *guard {
	return &guard{
		now:         now,
		delay:       delay,
		secret:      secret,
		allowRemote: allowRemote,
		attempts:    make(map[string]*attemptInfo),
	}
}

// isLocal reports whether ip counts as a local caller.
func isLocal(ip string) bool { return ip == "127.0.0.1" || ip == "::1" }

// authorize applies CPA's decision order to a management request from ip
// carrying key ("" when none was sent).
func (g *guard) authorize(ctx context.Context, ip, key string) authResult {
	if msg, banned := g.banned(ip); banned {
		return authResult{http.StatusForbidden, msg}
	}
	if !isLocal(ip) && !g.allowRemote() {
		return authResult{http.StatusForbidden, msgRemoteDisabled}
	}
	secret := g.secret()
	if secret == "" {
		return authResult{http.StatusForbidden, msgKeyNotSet}
	}
	if key == "" {
		g.fail(ip)
		return authResult{http.StatusUnauthorized, msgMissingKey}
	}
	if g.delay > 0 {
		t := time.NewTimer(g.delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	a, b := sha256.Sum256([]byte(key)), sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(a[:], b[:]) != 1 {
		g.fail(ip)
		return authResult{http.StatusUnauthorized, msgInvalidKey}
	}
	g.succeed(ip)
	return authResult{}
}

// banned reports whether ip is banned and the message to answer with. An
// expired ban resets the entry.
func (g *guard) banned(ip string) (string, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	g.purgeLocked(now)
	ai := g.attempts[ip]
	if ai == nil || ai.blockedUntil.IsZero() {
		return "", false
	}
	if now.Before(ai.blockedUntil) {
		remaining := ai.blockedUntil.Sub(now).Round(time.Second)
		return fmt.Sprintf("IP banned due to too many failed attempts. Try again in %s", remaining), true
	}
	ai.blockedUntil = time.Time{}
	ai.count = 0
	return "", false
}

// fail counts one failed attempt; the fifth bans ip.
func (g *guard) fail(ip string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	ai := g.attempts[ip]
	if ai == nil {
		ai = &attemptInfo{}
		g.attempts[ip] = ai
	}
	ai.count++
	ai.lastActivity = now
	if ai.count >= maxFailures {
		ai.blockedUntil = now.Add(banDuration)
		ai.count = 0
	}
}

// succeed resets the failure counter of ip.
func (g *guard) succeed(ip string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.attempts, ip)
}

// purgeLocked forgets entries idle for more than two hours, at most once an
// hour.
func (g *guard) purgeLocked(now time.Time) {
	if now.Sub(g.lastPurge) < purgeInterval {
		return
	}
	g.lastPurge = now
	for ip, ai := range g.attempts {
		if now.Sub(ai.lastActivity) > idleExpiry && !now.Before(ai.blockedUntil) {
			delete(g.attempts, ip)
		}
	}
}

// reset forgets every failure and ban, as a restart does.
func (g *guard) reset() {
	g.mu.Lock()
	defer g.mu.Unlock()
	clear(g.attempts)
}

// managementKey extracts the management key of an HTTP request:
// Authorization (Bearer in any case, or bare) first, then X-Management-Key.
func managementKey(r *http.Request) string {
	if ah := r.Header.Get("Authorization"); ah != "" {
		parts := strings.SplitN(ah, " ", 2)
		if len(parts) == 2 && strings.EqualFold(parts[0], "bearer") {
			return parts[1]
		}
		return ah
	}
	return r.Header.Get("X-Management-Key")
}

// clientIP mirrors gin's ClientIP with every peer trusted: the first
// X-Forwarded-For entry, else X-Real-IP, else the TCP peer.
func clientIP(r *http.Request) string {
	for _, name := range []string{"X-Forwarded-For", "X-Real-IP"} {
		if ip, ok := forwardedIP(r.Header.Get(name)); ok {
			return ip
		}
	}
	return peerIP(r.RemoteAddr)
}

// forwardedIP walks a forwarding header right to left like gin does when
// every proxy is trusted, which yields its first entry when all entries are
// valid IPs.
func forwardedIP(header string) (string, bool) {
	if header == "" {
		return "", false
	}
	items := strings.Split(header, ",")
	for i := len(items) - 1; i >= 0; i-- {
		s := strings.TrimSpace(items[i])
		if net.ParseIP(s) == nil {
			break
		}
		if i == 0 {
			return s, true
		}
	}
	return "", false
}

// peerIP strips the port of a remote address.
func peerIP(addr string) string {
	host, _, err := net.SplitHostPort(strings.TrimSpace(addr))
	if err != nil {
		return addr
	}
	return host
}
