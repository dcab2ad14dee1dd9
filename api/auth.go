package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/cpam-caddy/cpam/store"
)

// SessionCookie is the name of the login session cookie.
const SessionCookie = "cpam_session"

// DefaultSessionTTL is how long a session lives without being used.
const DefaultSessionTTL = 12 * time.Hour

// sessionTouchEvery is how often a session's expiry is pushed forward at
// most (one store write per session and minute).
const sessionTouchEvery = time.Minute

// CSRFHeader is the request header the panel sends with state-changing
// requests; with it (or a JSON content type) a cookie-authenticated request
// passes the CSRF rule.
const CSRFHeader = "X-CPAM-Request"

// maxLoginBody bounds the body of POST /auth/login.
const maxLoginBody = 4 << 10

// maxConcurrentHashes bounds the argon2 verifications running at once (each
// takes ~19 MiB).
const maxConcurrentHashes = 2

// How a request was authenticated (Identity.Via).
const (
	ViaSession  = "session"
	ViaAdminKey = "admin-key"
	ViaCPAKey   = "cpa-key"
)

// AuthOptions configure an Auth.
type AuthOptions struct {
	// Store keeps sessions and the admin key hash. Required.
	Store *store.Store
	// Logger receives failed attempts and blocks (never keys). Default: none.
	Logger *zap.Logger
	// SessionTTL is the sliding lifetime of a session. Default 12 h.
	SessionTTL time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// AuthConfig is the part of the configuration Auth needs; a new config
// swaps it in with SetConfig.
type AuthConfig struct {
	// AdminKey is the admin key from the config. When set it is the only
	// admin key (it is kept in memory only); when empty, the hash stored in
	// the database is used.
	AdminKey string
	// CPAKeys are the management keys of the configured CPA upstreams; the
	// API (not the management proxy) accepts them as bearer tokens.
	CPAKeys []string
	// SessionTTL is the sliding lifetime of a session; zero keeps the
	// AuthOptions value.
	SessionTTL time.Duration
}

// Auth authenticates API and management-proxy requests: session cookies,
// the admin key as a bearer token and, for the API only, CPA management
// keys. It also limits failed attempts per client IP. One Auth is shared by
// every handler of a runtime so the limiter outlives config reloads.
type Auth struct {
	store  *store.Store
	logger *zap.Logger
	ttl    time.Duration
	now    func() time.Time

	cfg     atomic.Pointer[authConfig]
	limiter *limiter
	hashes  chan struct{} // semaphore for argon2 verifications

	mu       sync.Mutex
	verified map[[sha256.Size]byte]verifiedKey
}

// authConfig is AuthConfig with the keys pre-hashed for constant-time,
// constant-length comparison.
type authConfig struct {
	adminKey [sha256.Size]byte
	hasAdmin bool
	cpaKeys  [][sha256.Size]byte
	ttl      time.Duration
}

// verifiedKey remembers a bearer key that matched the stored hash.
type verifiedKey struct {
	expires time.Time
	hash    string // the stored hash it matched; a rotation changes it
}

// NewAuth returns an Auth over opts.Store. Until SetConfig is called, only
// the stored admin key hash and sessions are accepted.
func NewAuth(opts AuthOptions) *Auth {
	a := &Auth{
		store:    opts.Store,
		logger:   opts.Logger,
		ttl:      opts.SessionTTL,
		now:      opts.Now,
		limiter:  newLimiter(),
		hashes:   make(chan struct{}, maxConcurrentHashes),
		verified: make(map[[sha256.Size]byte]verifiedKey),
	}
	if a.logger == nil {
		a.logger = zap.NewNop()
	}
	if a.ttl <= 0 {
		a.ttl = DefaultSessionTTL
	}
	if a.now == nil {
		a.now = time.Now
	}
	a.cfg.Store(&authConfig{})
	return a
}

// SetConfig swaps in the keys of the configuration now in force.
func (a *Auth) SetConfig(c AuthConfig) {
	cfg := &authConfig{ttl: c.SessionTTL}
	if c.AdminKey != "" {
		cfg.adminKey, cfg.hasAdmin = sha256.Sum256([]byte(c.AdminKey)), true
	}
	for _, k := range c.CPAKeys {
		if k != "" {
			cfg.cpaKeys = append(cfg.cpaKeys, sha256.Sum256([]byte(k)))
		}
	}
	a.cfg.Store(cfg)
	a.forgetVerified()
}

// Identity says how a request was authenticated.
type Identity struct {
	// Via is ViaSession, ViaAdminKey or ViaCPAKey.
	Via string
	// ExpiresAt is when the session expires (zero for bearer tokens).
	ExpiresAt time.Time

	sessionHash []byte
}

type identityKey struct{}

// IdentityFrom returns the identity Authenticate attached to ctx.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

type clientIPKey struct{}

// WithClientIP returns ctx carrying the client IP the server determined
// (Caddy's, honouring trusted_proxies). The brute-force limiter counts per
// this IP; without it the request's peer address is used.
func WithClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, clientIPKey{}, ip)
}

// clientIP returns the client IP of r.
func clientIP(r *http.Request) string {
	if ip, ok := r.Context().Value(clientIPKey{}).(string); ok && ip != "" {
		return ip
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// Authenticate checks r's credentials: an Authorization bearer token (the
// admin key, or a CPA management key when allowCPAKey) or else the session
// cookie. On success it returns r with the Identity attached (see
// IdentityFrom); otherwise it has answered 401, 403 (CSRF), 429 (too many
// failures from the client IP) or 503, and returns false.
func (a *Auth) Authenticate(w http.ResponseWriter, r *http.Request, allowCPAKey bool) (*http.Request, bool) {
	now := a.now()
	ip := clientIP(r)
	if authz := r.Header.Get("Authorization"); authz != "" {
		if a.refuseBlocked(w, ip, now) {
			return r, false
		}
		id, ok, err := a.checkBearer(r.Context(), authz, allowCPAKey)
		if err != nil {
			a.logger.Error("checking a bearer token", zap.Error(err))
			writeError(w, http.StatusServiceUnavailable, "unavailable", "authentication is unavailable: the database does not answer; check the Caddy log")
			return r, false
		}
		if !ok {
			a.recordFailure(ip, now, "bearer token", r.URL.Path)
			writeUnauthorized(w, "invalid_key", "the bearer token is not a valid key; send Authorization: Bearer <admin key>")
			return r, false
		}
		a.limiter.succeed(ip)
		return r.WithContext(context.WithValue(r.Context(), identityKey{}, id)), true
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		writeUnauthorized(w, "unauthorized", "sign in first: POST /auth/login with the admin key, or send Authorization: Bearer <admin key>")
		return r, false
	}
	id, ok, err := a.checkSession(r.Context(), w, c.Value, now)
	if err != nil {
		a.logger.Error("checking a session", zap.Error(err))
		writeError(w, http.StatusServiceUnavailable, "unavailable", "authentication is unavailable: the database does not answer; check the Caddy log")
		return r, false
	}
	if !ok {
		// A stale cookie is normal (expired, signed out elsewhere) and 32
		// random bytes cannot be guessed: not counted as a failure.
		clearSessionCookie(w)
		writeUnauthorized(w, "session_expired", "the session has expired or was signed out; sign in again")
		return r, false
	}
	if isStateChanging(r.Method) && !csrfSafe(r) {
		writeError(w, http.StatusForbidden, "csrf", "state-changing requests signed in by cookie need Content-Type: application/json or the header "+CSRFHeader+": 1")
		return r, false
	}
	return r.WithContext(context.WithValue(r.Context(), identityKey{}, id)), true
}

// refuseBlocked answers 429 when ip has too many recent failures.
func (a *Auth) refuseBlocked(w http.ResponseWriter, ip string, now time.Time) bool {
	wait, blocked := a.limiter.blocked(ip, now)
	if !blocked {
		return false
	}
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeError(w, http.StatusTooManyRequests, "too_many_attempts",
		fmt.Sprintf("too many failed sign-in attempts from your address; try again in %d seconds", secs))
	return true
}

// recordFailure counts a failed attempt of ip and logs it (never the key).
func (a *Auth) recordFailure(ip string, now time.Time, what, path string) {
	n := a.limiter.fail(ip, now)
	fields := []zap.Field{zap.String("client_ip", ip), zap.String("credential", what),
		zap.String("path", path), zap.Int("failures_in_window", n)}
	if n >= maxFailures {
		a.logger.Warn("too many failed authentications; blocking the client IP",
			append(fields, zap.Duration("window", failureWindow))...)
		return
	}
	a.logger.Warn("failed authentication", fields...)
}

// checkBearer verifies an Authorization header value.
func (a *Auth) checkBearer(ctx context.Context, authz string, allowCPAKey bool) (Identity, bool, error) {
	scheme, token, ok := strings.Cut(authz, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return Identity{}, false, nil
	}
	sum := sha256.Sum256([]byte(token))
	cfg := a.cfg.Load()
	if allowCPAKey {
		match := 0
		for _, k := range cfg.cpaKeys {
			match |= subtle.ConstantTimeCompare(sum[:], k[:])
		}
		if match == 1 {
			return Identity{Via: ViaCPAKey}, true, nil
		}
	}
	if cfg.hasAdmin {
		ok := subtle.ConstantTimeCompare(sum[:], cfg.adminKey[:]) == 1
		return Identity{Via: ViaAdminKey}, ok, nil
	}
	ok, err := a.checkStoredKey(ctx, sum, token)
	return Identity{Via: ViaAdminKey}, ok, err
}

// checkStoredKey verifies token against the stored admin key hash, paying
// for argon2 only on a key's first use within verifiedTTL.
func (a *Auth) checkStoredKey(ctx context.Context, sum [sha256.Size]byte, token string) (bool, error) {
	hash, ok, err := a.store.Setting(ctx, AdminKeyHashSetting)
	if err != nil {
		return false, fmt.Errorf("reading the admin key hash: %w", err)
	}
	if !ok {
		return false, nil
	}
	now := a.now()
	a.mu.Lock()
	v, cached := a.verified[sum]
	a.mu.Unlock()
	if cached && v.hash == hash && now.Before(v.expires) {
		return true, nil
	}
	select {
	case a.hashes <- struct{}{}:
	case <-ctx.Done():
		return false, fmt.Errorf("waiting to verify the admin key: %w", ctx.Err())
	}
	match, err := verifyAdminKeyHash(hash, token)
	<-a.hashes
	if err != nil {
		return false, err
	}
	if !match {
		return false, nil
	}
	a.mu.Lock()
	for k, e := range a.verified { // only valid keys get here: the map stays tiny
		if !now.Before(e.expires) || e.hash != hash {
			delete(a.verified, k)
		}
	}
	a.verified[sum] = verifiedKey{expires: now.Add(verifiedTTL), hash: hash}
	a.mu.Unlock()
	return true, nil
}

// forgetVerified empties the verified-key cache.
func (a *Auth) forgetVerified() {
	a.mu.Lock()
	clear(a.verified)
	a.mu.Unlock()
}

// adminKeyValid reports whether key is the admin key (not a CPA key).
func (a *Auth) adminKeyValid(ctx context.Context, key string) (bool, error) {
	_, ok, err := a.checkBearer(ctx, "Bearer "+key, false)
	return ok, err
}

// sessionHash is the stored form of a session id.
func sessionHash(id string) []byte {
	sum := sha256.Sum256([]byte(id))
	return sum[:]
}

// checkSession looks the cookie value up and slides its expiry (re-sending
// the cookie) at most once a minute.
func (a *Auth) checkSession(ctx context.Context, w http.ResponseWriter, id string, now time.Time) (Identity, bool, error) {
	h := sessionHash(id)
	ss, ok, err := a.store.Session(ctx, h, now)
	if err != nil || !ok {
		return Identity{}, false, err
	}
	expires := ss.Expires
	if now.Sub(ss.LastSeen) >= sessionTouchEvery {
		ttl := a.sessionTTL()
		expires = now.Add(ttl)
		if err := a.store.TouchSession(ctx, h, now, expires); err != nil {
			return Identity{}, false, fmt.Errorf("extending a session: %w", err)
		}
		setSessionCookie(w, id, ttl)
	}
	return Identity{Via: ViaSession, ExpiresAt: expires, sessionHash: h}, true, nil
}

// newSession creates a session and sets its cookie.
func (a *Auth) newSession(ctx context.Context, w http.ResponseWriter, now time.Time) (time.Time, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return time.Time{}, fmt.Errorf("generating a session id: %w", err)
	}
	id := base64.RawURLEncoding.EncodeToString(raw)
	ttl := a.sessionTTL()
	expires := now.Add(ttl)
	if err := a.store.PutSession(ctx, store.Session{IDHash: sessionHash(id), Created: now, Expires: expires, LastSeen: now}); err != nil {
		return time.Time{}, fmt.Errorf("saving the session: %w", err)
	}
	setSessionCookie(w, id, ttl)
	return expires, nil
}

// sessionTTL is the session lifetime of the configuration in force.
func (a *Auth) sessionTTL() time.Duration {
	if ttl := a.cfg.Load().ttl; ttl > 0 {
		return ttl
	}
	return a.ttl
}

func setSessionCookie(w http.ResponseWriter, id string, ttl time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: id, Path: "/", MaxAge: int(ttl.Seconds()),
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode,
	})
}

func clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode,
	})
}

func writeUnauthorized(w http.ResponseWriter, code, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="cpam"`)
	writeError(w, http.StatusUnauthorized, code, msg)
}

func isStateChanging(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// csrfSafe reports whether r could not have been sent by a plain HTML form
// or a no-CORS fetch from another site: a JSON content type or the panel's
// header both need a CORS preflight.
func csrfSafe(r *http.Request) bool {
	if r.Header.Get(CSRFHeader) == "1" {
		return true
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

// ---- routes ----

// authRoutes registers the /auth routes. They all go on the public mux:
// /auth/login needs no authentication and the others authenticate through
// withIdentity, which hands them the caller's Identity.
func (h *Handler) authRoutes(public, _ *routeMux) {
	public.HandleFunc("POST /auth/login", h.login)
	public.HandleFunc("POST /auth/logout", h.withIdentity(h.logout))
	public.HandleFunc("GET /auth/session", h.withIdentity(h.session))
	public.HandleFunc("POST /auth/admin-key", h.withIdentity(h.rotateAdminKey))
}

// withIdentity authenticates the request like every private route and
// passes it on with its Identity attached.
func (h *Handler) withIdentity(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if h.opts.Auth == nil {
			h.authorize(w, r)
			return
		}
		if r, ok := h.opts.Auth.Authenticate(w, r, true); ok {
			next(w, r)
		}
	}
}

// sessionInfo is the answer of /auth/session and /auth/login.
type sessionInfo struct {
	Authenticated bool       `json:"authenticated"`
	Via           string     `json:"via"`
	ExpiresAt     *time.Time `json:"expiresAt"`
}

func infoOf(id Identity) sessionInfo {
	si := sessionInfo{Authenticated: true, Via: id.Via}
	if !id.ExpiresAt.IsZero() {
		t := id.ExpiresAt.UTC()
		si.ExpiresAt = &t
	}
	return si
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	a := h.opts.Auth
	if a == nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "authentication is not set up")
		return
	}
	if !csrfSafe(r) {
		writeError(w, http.StatusForbidden, "csrf", "send the login as JSON: Content-Type: application/json")
		return
	}
	now := a.now()
	ip := clientIP(r)
	if a.refuseBlocked(w, ip, now) {
		return
	}
	var body struct {
		Key string `json:"key"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxLoginBody))
	if err := dec.Decode(&body); err != nil || body.Key == "" {
		writeError(w, http.StatusBadRequest, "bad_request", `send {"key": "<admin key>"} as JSON`)
		return
	}
	ok, err := a.adminKeyValid(r.Context(), body.Key)
	if err != nil {
		a.logger.Error("checking the admin key", zap.Error(err))
		writeError(w, http.StatusServiceUnavailable, "unavailable", "authentication is unavailable; check the Caddy log")
		return
	}
	if !ok {
		a.recordFailure(ip, now, "login", r.URL.Path)
		writeError(w, http.StatusUnauthorized, "invalid_key", "the admin key is wrong; it is in the Caddy log of the first start, in admin_key of the config, or reset it with: caddy cpam reset-admin-key")
		return
	}
	a.limiter.succeed(ip)
	if _, err := a.store.DeleteExpiredSessions(r.Context(), now); err != nil {
		a.logger.Warn("deleting expired sessions", zap.Error(err))
	}
	expires, err := a.newSession(r.Context(), w, now)
	if err != nil {
		a.logger.Error("creating a session", zap.Error(err))
		writeError(w, http.StatusServiceUnavailable, "unavailable", "could not create the session; check the Caddy log")
		return
	}
	writeJSON(w, http.StatusOK, infoOf(Identity{Via: ViaSession, ExpiresAt: expires}))
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	id, _ := IdentityFrom(r.Context())
	if id.sessionHash != nil {
		if err := h.opts.Auth.store.DeleteSession(r.Context(), id.sessionHash); err != nil {
			h.opts.Auth.logger.Error("deleting a session", zap.Error(err))
			writeError(w, http.StatusServiceUnavailable, "unavailable", "could not sign out; try again")
			return
		}
	}
	clearSessionCookie(w)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) session(w http.ResponseWriter, r *http.Request) {
	id, _ := IdentityFrom(r.Context())
	writeJSON(w, http.StatusOK, infoOf(id))
}

func (h *Handler) rotateAdminKey(w http.ResponseWriter, r *http.Request) {
	a := h.opts.Auth
	id, _ := IdentityFrom(r.Context())
	if id.Via == ViaCPAKey {
		writeError(w, http.StatusForbidden, "forbidden", "rotating the admin key needs the admin key or a session, not a CPA management key")
		return
	}
	if a.cfg.Load().hasAdmin {
		writeError(w, http.StatusConflict, "configured", "the admin key is set by admin_key in the config; change it there and reload")
		return
	}
	key, err := ResetAdminKey(r.Context(), a.store)
	if err != nil {
		a.logger.Error("rotating the admin key", zap.Error(err))
		writeError(w, http.StatusServiceUnavailable, "unavailable", "could not rotate the admin key; check the Caddy log")
		return
	}
	a.forgetVerified()
	a.logger.Warn("the admin key was rotated through the API; every session was signed out", zap.String("client_ip", clientIP(r)))
	clearSessionCookie(w)
	writeJSON(w, http.StatusOK, map[string]string{
		"key":     key,
		"message": "this is the new admin key and it is shown only once; every session was signed out",
	})
}

// authorize lets an authenticated request through, or answers 401/403/429.
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request) bool {
	if h.opts.Auth == nil {
		writeUnauthorized(w, "unauthorized", "sign in first: POST /auth/login with the admin key, or send Authorization: Bearer <admin key>")
		return false
	}
	_, ok := h.opts.Auth.Authenticate(w, r, true)
	return ok
}

// ---- CORS ----

// corsMaxAge is how long a browser may cache a preflight answer (seconds).
const corsMaxAge = "600"

// cors applies the CORS policy; it returns false when it has answered.
func (h *Handler) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
	if !h.originAllowed(origin) {
		if preflight {
			writeError(w, http.StatusForbidden, "cors", "this origin may not call the API; add it to cors_origins in the cpam global option")
			return false
		}
		return true // no CORS headers: the browser keeps the answer from the page
	}
	hd := w.Header()
	hd.Set("Access-Control-Allow-Origin", origin)
	hd.Add("Vary", "Origin")
	hd.Set("Access-Control-Allow-Credentials", "true")
	if !preflight {
		hd.Set("Access-Control-Expose-Headers", "Retry-After")
		return true
	}
	hd.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS")
	hd.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Content-Encoding, Last-Event-ID, "+CSRFHeader)
	hd.Set("Access-Control-Max-Age", corsMaxAge)
	w.WriteHeader(http.StatusNoContent)
	return false
}

func (h *Handler) originAllowed(origin string) bool {
	for _, o := range h.opts.CORSOrigins {
		if strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}
