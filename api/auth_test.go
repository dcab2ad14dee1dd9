package api

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cpam-caddy/cpam/collector"
	"github.com/cpam-caddy/cpam/store"
	"github.com/cpam-caddy/cpam/usage"
)

const (
	testAdminKey = "configured-admin-key-0123456789"
	testCPAKey   = "cpa-management-key-abcdef"
	testOrigin   = "https://panel.example.com"
)

// authClock is an injectable clock.
type authClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *authClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *authClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// authBackend is the minimal Backend the auth tests need.
type authBackend struct{ st *store.Store }

func (b authBackend) Ping(ctx context.Context) error      { return b.st.Ping(ctx) }
func (b authBackend) Info() ServiceInfo                   { return ServiceInfo{Service: "caddy-cpam"} }
func (b authBackend) Store() *store.Store                 { return b.st }
func (b authBackend) Normalizer() *usage.Normalizer       { return nil }
func (b authBackend) PricesChanged(context.Context) error { return nil }
func (b authBackend) CollectorStatus() []collector.Status { return nil }

type authEnv struct {
	t     *testing.T
	st    *store.Store
	clock *authClock
	auth  *Auth
	h     *Handler
}

func openAuthStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "cpam.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// newAuthEnv serves the API over a fresh store with cfg in force.
func newAuthEnv(t *testing.T, cfg AuthConfig) *authEnv {
	t.Helper()
	e := &authEnv{t: t, st: openAuthStore(t), clock: &authClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}}
	e.restart(cfg)
	return e
}

// restart builds a new Auth and Handler on the same store, as a process
// restart does.
func (e *authEnv) restart(cfg AuthConfig) {
	e.auth = NewAuth(AuthOptions{Store: e.st, Now: e.clock.now})
	e.auth.SetConfig(cfg)
	e.h = New(Options{Backend: authBackend{e.st}, Auth: e.auth, CORSOrigins: []string{testOrigin}})
}

// req describes one test request.
type req struct {
	method, path, body string
	header             map[string]string
	cookie             string
	ip                 string
}

func (e *authEnv) do(r req) *httptest.ResponseRecorder {
	e.t.Helper()
	if r.method == "" {
		r.method = http.MethodGet
	}
	hr := httptest.NewRequest(r.method, r.path, strings.NewReader(r.body))
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	if r.cookie != "" {
		hr.AddCookie(&http.Cookie{Name: SessionCookie, Value: r.cookie})
	}
	if r.ip == "" {
		r.ip = "198.51.100.1"
	}
	hr = hr.WithContext(WithClientIP(hr.Context(), r.ip))
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, hr)
	return rec
}

func jsonHeader() map[string]string { return map[string]string{"Content-Type": "application/json"} }

func bearer(key string) map[string]string { return map[string]string{"Authorization": "Bearer " + key} }

// login signs in with key and returns the session cookie.
func (e *authEnv) login(key, ip string) string {
	e.t.Helper()
	rec := e.do(req{method: http.MethodPost, path: "/auth/login", body: `{"key":"` + key + `"}`, header: jsonHeader(), ip: ip})
	if rec.Code != http.StatusOK {
		e.t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	c := sessionCookieOf(rec)
	if c == nil || c.Value == "" {
		e.t.Fatalf("login set no session cookie: %v", rec.Header())
	}
	return c.Value
}

func sessionCookieOf(rec *httptest.ResponseRecorder) *http.Cookie {
	for _, c := range rec.Result().Cookies() {
		if c.Name == SessionCookie {
			return c
		}
	}
	return nil
}

func codeOf(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var body struct {
		Error string `json:"error"`
		Code  string `json:"code"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error == "" {
		t.Fatalf("error body %q is not {error, code}: %v", rec.Body, err)
	}
	return body.Code
}

func sessionOf(t *testing.T, rec *httptest.ResponseRecorder) sessionInfo {
	t.Helper()
	var si sessionInfo
	if err := json.Unmarshal(rec.Body.Bytes(), &si); err != nil {
		t.Fatalf("session body %q: %v", rec.Body, err)
	}
	return si
}

func TestLogin(t *testing.T) {
	e := newAuthEnv(t, AuthConfig{AdminKey: testAdminKey})
	rec := e.do(req{method: http.MethodPost, path: "/auth/login", body: `{"key":"` + testAdminKey + `"}`, header: jsonHeader()})
	if rec.Code != http.StatusOK {
		t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	c := sessionCookieOf(rec)
	if c == nil || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.MaxAge != int(DefaultSessionTTL.Seconds()) {
		t.Fatalf("session cookie = %+v", c)
	}
	if len(c.Value) < 43 {
		t.Errorf("session id %q is shorter than 32 random bytes", c.Value)
	}
	si := sessionOf(t, rec)
	if !si.Authenticated || si.Via != ViaSession || si.ExpiresAt == nil || !si.ExpiresAt.Equal(e.clock.now().Add(DefaultSessionTTL)) {
		t.Errorf("login answer = %+v", si)
	}
	// Only the SHA-256 of the id is stored.
	sum := sha256.Sum256([]byte(c.Value))
	if _, ok, err := e.st.Session(context.Background(), sum[:], e.clock.now()); err != nil || !ok {
		t.Errorf("no session stored under the id's hash: %v %v", ok, err)
	}
	if _, ok, _ := e.st.Session(context.Background(), []byte(c.Value), e.clock.now()); ok {
		t.Error("the session id is stored in clear")
	}

	for _, tc := range []struct {
		name, body string
		header     map[string]string
		status     int
		code       string
	}{
		{"wrong key", `{"key":"wrong-key-0123456789abcdef"}`, jsonHeader(), http.StatusUnauthorized, "invalid_key"},
		{"CPA key", `{"key":"` + testCPAKey + `"}`, jsonHeader(), http.StatusUnauthorized, "invalid_key"},
		{"malformed JSON", `{"key":`, jsonHeader(), http.StatusBadRequest, "bad_request"},
		{"no key", `{}`, jsonHeader(), http.StatusBadRequest, "bad_request"},
		{"form post", "key=" + testAdminKey, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, http.StatusForbidden, "csrf"},
	} {
		rec := e.do(req{method: http.MethodPost, path: "/auth/login", body: tc.body, header: tc.header})
		if rec.Code != tc.status || codeOf(t, rec) != tc.code || sessionCookieOf(rec) != nil {
			t.Errorf("%s: %d %s", tc.name, rec.Code, rec.Body)
		}
	}
	if strings.Contains(rec.Body.String(), testAdminKey) {
		t.Error("the login answer contains the key")
	}
}

func TestSessionRouteAndLogout(t *testing.T) {
	e := newAuthEnv(t, AuthConfig{AdminKey: testAdminKey})
	if rec := e.do(req{path: "/auth/session"}); rec.Code != http.StatusUnauthorized || codeOf(t, rec) != "unauthorized" {
		t.Errorf("session without credentials: %d %s", rec.Code, rec.Body)
	}
	cookie := e.login(testAdminKey, "")
	rec := e.do(req{path: "/auth/session", cookie: cookie})
	if si := sessionOf(t, rec); rec.Code != http.StatusOK || !si.Authenticated || si.Via != ViaSession || si.ExpiresAt == nil {
		t.Errorf("session: %d %s", rec.Code, rec.Body)
	}
	rec = e.do(req{path: "/auth/session", header: bearer(testAdminKey)})
	if si := sessionOf(t, rec); rec.Code != http.StatusOK || si.Via != ViaAdminKey || si.ExpiresAt != nil {
		t.Errorf("session by bearer: %d %s", rec.Code, rec.Body)
	}

	// Logout is state-changing: the CSRF rule applies to the cookie.
	if rec := e.do(req{method: http.MethodPost, path: "/auth/logout", cookie: cookie}); rec.Code != http.StatusForbidden || codeOf(t, rec) != "csrf" {
		t.Errorf("logout without CSRF header: %d %s", rec.Code, rec.Body)
	}
	rec = e.do(req{method: http.MethodPost, path: "/auth/logout", cookie: cookie, header: map[string]string{CSRFHeader: "1"}})
	if c := sessionCookieOf(rec); rec.Code != http.StatusNoContent || c == nil || c.MaxAge >= 0 {
		t.Errorf("logout: %d, cookie %+v", rec.Code, c)
	}
	rec = e.do(req{path: "/auth/session", cookie: cookie})
	if rec.Code != http.StatusUnauthorized || codeOf(t, rec) != "session_expired" {
		t.Errorf("session after logout: %d %s", rec.Code, rec.Body)
	}
}

func TestSessionSurvivesRestart(t *testing.T) {
	e := newAuthEnv(t, AuthConfig{AdminKey: testAdminKey})
	cookie := e.login(testAdminKey, "")
	e.restart(AuthConfig{AdminKey: testAdminKey})
	if rec := e.do(req{path: "/auth/session", cookie: cookie}); rec.Code != http.StatusOK {
		t.Errorf("session after restart: %d %s", rec.Code, rec.Body)
	}
}

func TestSlidingExpiry(t *testing.T) {
	e := newAuthEnv(t, AuthConfig{AdminKey: testAdminKey})
	start := e.clock.now()
	cookie := e.login(testAdminKey, "")

	// Within a minute of the last touch nothing is written.
	e.clock.advance(30 * time.Second)
	rec := e.do(req{path: "/auth/session", cookie: cookie})
	if si := sessionOf(t, rec); rec.Code != http.StatusOK || !si.ExpiresAt.Equal(start.Add(DefaultSessionTTL)) || sessionCookieOf(rec) != nil {
		t.Errorf("early use: %d %s, cookie %v", rec.Code, rec.Body, sessionCookieOf(rec))
	}
	// Later uses push the expiry and re-send the cookie.
	e.clock.advance(11 * time.Hour)
	touched := e.clock.now()
	rec = e.do(req{path: "/auth/session", cookie: cookie})
	if si := sessionOf(t, rec); rec.Code != http.StatusOK || !si.ExpiresAt.Equal(touched.Add(DefaultSessionTTL)) {
		t.Errorf("slid expiry: %d %s", rec.Code, rec.Body)
	}
	if c := sessionCookieOf(rec); c == nil || c.Value != cookie || c.MaxAge != int(DefaultSessionTTL.Seconds()) {
		t.Errorf("the cookie was not refreshed: %+v", c)
	}
	// Past the original 12 h it still works, because it slid.
	e.clock.advance(2 * time.Hour)
	if rec := e.do(req{path: "/auth/session", cookie: cookie}); rec.Code != http.StatusOK {
		t.Errorf("after the original expiry: %d", rec.Code)
	}
	// Unused for 12 h it expires.
	e.clock.advance(DefaultSessionTTL)
	rec = e.do(req{path: "/auth/session", cookie: cookie})
	if rec.Code != http.StatusUnauthorized || codeOf(t, rec) != "session_expired" {
		t.Errorf("idle session: %d %s", rec.Code, rec.Body)
	}
	if c := sessionCookieOf(rec); c == nil || c.MaxAge >= 0 {
		t.Errorf("an expired session's cookie is not cleared: %+v", c)
	}
}

func TestBearerKeys(t *testing.T) {
	e := newAuthEnv(t, AuthConfig{AdminKey: testAdminKey, CPAKeys: []string{"", testCPAKey}})
	if rec := e.do(req{path: "/nope", header: bearer(testAdminKey)}); rec.Code != http.StatusNotFound {
		t.Errorf("admin bearer: %d %s", rec.Code, rec.Body)
	}
	rec := e.do(req{path: "/auth/session", header: bearer(testCPAKey)})
	if si := sessionOf(t, rec); rec.Code != http.StatusOK || si.Via != ViaCPAKey {
		t.Errorf("CPA key on the API: %d %s", rec.Code, rec.Body)
	}
	for _, h := range []map[string]string{
		bearer("wrong"), bearer(""), {"Authorization": "Basic " + testAdminKey}, {"Authorization": testAdminKey},
	} {
		if rec := e.do(req{path: "/auth/session", header: h}); rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("%v: %d", h, rec.Code)
		}
	}

	// The management proxy authenticates without the CPA key.
	check := func(key string) bool {
		r := httptest.NewRequest(http.MethodGet, "/v0/management/config", nil)
		r.Header.Set("Authorization", "Bearer "+key)
		_, ok := e.auth.Authenticate(httptest.NewRecorder(), r, false)
		return ok
	}
	if !check(testAdminKey) || check(testCPAKey) {
		t.Error("the management check must accept the admin key and refuse the CPA key")
	}
	// A CPA key cannot rotate the admin key.
	if rec := e.do(req{method: http.MethodPost, path: "/auth/admin-key", header: bearer(testCPAKey)}); rec.Code != http.StatusForbidden {
		t.Errorf("rotation with a CPA key: %d %s", rec.Code, rec.Body)
	}
	// With a configured key, rotation belongs to the config.
	if rec := e.do(req{method: http.MethodPost, path: "/auth/admin-key", header: bearer(testAdminKey)}); rec.Code != http.StatusConflict || codeOf(t, rec) != "configured" {
		t.Errorf("rotation of a configured key: %d %s", rec.Code, rec.Body)
	}
}

func TestStoredAdminKeyAndRotation(t *testing.T) {
	e := newAuthEnv(t, AuthConfig{})
	ctx := context.Background()
	key, generated, err := EnsureAdminKey(ctx, e.st)
	if err != nil || !generated || len(key) < 32 {
		t.Fatalf("EnsureAdminKey = %q, %v, %v", key, generated, err)
	}
	if again, generated, err := EnsureAdminKey(ctx, e.st); err != nil || generated || again != "" {
		t.Fatalf("a second EnsureAdminKey generated again: %v %v", generated, err)
	}
	hash, _, _ := e.st.Setting(ctx, AdminKeyHashSetting)
	if !strings.HasPrefix(hash, "$argon2id$v=19$") || strings.Contains(hash, key) {
		t.Fatalf("stored hash %q", hash)
	}

	if rec := e.do(req{path: "/auth/session", header: bearer(key)}); rec.Code != http.StatusOK {
		t.Fatalf("stored key as bearer: %d %s", rec.Code, rec.Body)
	}
	e.auth.mu.Lock()
	cached := len(e.auth.verified)
	e.auth.mu.Unlock()
	if cached != 1 {
		t.Errorf("verified keys cached = %d, want 1", cached)
	}
	if rec := e.do(req{path: "/auth/session", header: bearer(key)}); rec.Code != http.StatusOK {
		t.Fatalf("cached key: %d", rec.Code)
	}
	cookie := e.login(key, "")

	// Rotation with a cookie is state-changing: CSRF rule.
	if rec := e.do(req{method: http.MethodPost, path: "/auth/admin-key", cookie: cookie}); rec.Code != http.StatusForbidden {
		t.Errorf("rotation without CSRF header: %d", rec.Code)
	}
	rec := e.do(req{method: http.MethodPost, path: "/auth/admin-key", header: bearer(key)})
	var out struct {
		Key string `json:"key"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); rec.Code != http.StatusOK || err != nil || out.Key == "" || out.Key == key {
		t.Fatalf("rotation: %d %s", rec.Code, rec.Body)
	}
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Error("the new key may be cached")
	}
	if rec := e.do(req{path: "/auth/session", header: bearer(key)}); rec.Code != http.StatusUnauthorized {
		t.Errorf("old key after rotation: %d", rec.Code)
	}
	if rec := e.do(req{path: "/auth/session", cookie: cookie}); rec.Code != http.StatusUnauthorized {
		t.Errorf("old session after rotation: %d", rec.Code)
	}
	if rec := e.do(req{path: "/auth/session", header: bearer(out.Key)}); rec.Code != http.StatusOK {
		t.Errorf("new key: %d", rec.Code)
	}

	// A rotation by another process (the CLI) is noticed at once, even by
	// a cached key.
	cli, err := ResetAdminKey(ctx, e.st)
	if err != nil {
		t.Fatal(err)
	}
	if rec := e.do(req{path: "/auth/session", header: bearer(out.Key)}); rec.Code != http.StatusUnauthorized {
		t.Errorf("key rotated away by the CLI: %d", rec.Code)
	}
	if rec := e.do(req{path: "/auth/session", header: bearer(cli)}); rec.Code != http.StatusOK {
		t.Errorf("the CLI's key: %d", rec.Code)
	}
}

func TestBruteForceLimit(t *testing.T) {
	e := newAuthEnv(t, AuthConfig{AdminKey: testAdminKey, CPAKeys: []string{testCPAKey}})
	const attacker, other = "203.0.113.7", "203.0.113.8"
	// Login and bearer failures count together.
	for i := range maxFailures {
		var rec *httptest.ResponseRecorder
		if i%2 == 0 {
			rec = e.do(req{path: "/auth/session", header: bearer("wrong"), ip: attacker})
		} else {
			rec = e.do(req{method: http.MethodPost, path: "/auth/login", body: `{"key":"wrong"}`, header: jsonHeader(), ip: attacker})
		}
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d %s", i+1, rec.Code, rec.Body)
		}
		e.clock.advance(time.Second)
	}
	for _, r := range []req{
		{path: "/auth/session", header: bearer("wrong"), ip: attacker},
		{path: "/auth/session", header: bearer(testAdminKey), ip: attacker},
		{method: http.MethodPost, path: "/auth/login", body: `{"key":"` + testAdminKey + `"}`, header: jsonHeader(), ip: attacker},
	} {
		rec := e.do(r)
		secs, err := strconv.Atoi(rec.Header().Get("Retry-After"))
		if rec.Code != http.StatusTooManyRequests || codeOf(t, rec) != "too_many_attempts" || err != nil || secs < 890 || secs > 900 {
			t.Errorf("%s %s blocked: %d, Retry-After %q", r.method, r.path, rec.Code, rec.Header().Get("Retry-After"))
		}
	}
	if rec := e.do(req{path: "/auth/session", header: bearer(testAdminKey), ip: other}); rec.Code != http.StatusOK {
		t.Errorf("another IP is blocked too: %d", rec.Code)
	}
	// The block ends when the oldest failure leaves the window.
	e.clock.advance(failureWindow - maxFailures*time.Second + time.Second)
	if rec := e.do(req{path: "/auth/session", header: bearer(testAdminKey), ip: attacker}); rec.Code != http.StatusOK {
		t.Errorf("after the window: %d %s", rec.Code, rec.Body)
	}
	// A success forgets the failures.
	for range maxFailures - 1 {
		e.do(req{path: "/auth/session", header: bearer("wrong"), ip: attacker})
	}
	e.do(req{path: "/auth/session", header: bearer(testAdminKey), ip: attacker})
	if rec := e.do(req{path: "/auth/session", header: bearer("wrong"), ip: attacker}); rec.Code != http.StatusUnauthorized {
		t.Errorf("failures were not reset by a success: %d", rec.Code)
	}
	// A new Auth config (reload) keeps the limiter: it lives in the Auth.
	for range maxFailures {
		e.do(req{path: "/auth/session", header: bearer("wrong"), ip: other})
	}
	e.auth.SetConfig(AuthConfig{AdminKey: testAdminKey})
	if rec := e.do(req{path: "/auth/session", header: bearer(testAdminKey), ip: other}); rec.Code != http.StatusTooManyRequests {
		t.Errorf("a config swap reset the limiter: %d", rec.Code)
	}
}

func TestCSRF(t *testing.T) {
	e := newAuthEnv(t, AuthConfig{AdminKey: testAdminKey})
	cookie := e.login(testAdminKey, "")
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		rec := e.do(req{method: method, path: "/nope", cookie: cookie, header: map[string]string{"Content-Type": "text/plain"}})
		if rec.Code != http.StatusForbidden || codeOf(t, rec) != "csrf" {
			t.Errorf("%s by cookie without JSON or header: %d %s", method, rec.Code, rec.Body)
		}
		for _, h := range []map[string]string{{"Content-Type": "application/json; charset=utf-8"}, {CSRFHeader: "1"}} {
			if rec := e.do(req{method: method, path: "/nope", cookie: cookie, header: h}); rec.Code != http.StatusNotFound {
				t.Errorf("%s by cookie with %v: %d", method, h, rec.Code)
			}
		}
		// Bearer requests are not subject to it.
		if rec := e.do(req{method: method, path: "/nope", header: bearer(testAdminKey)}); rec.Code != http.StatusNotFound {
			t.Errorf("%s by bearer: %d", method, rec.Code)
		}
	}
	if rec := e.do(req{path: "/nope", cookie: cookie}); rec.Code != http.StatusNotFound {
		t.Errorf("GET by cookie: %d", rec.Code)
	}
}

func TestCORS(t *testing.T) {
	e := newAuthEnv(t, AuthConfig{AdminKey: testAdminKey})
	rec := e.do(req{path: "/health", header: map[string]string{"Origin": testOrigin}})
	h := rec.Header()
	if rec.Code != http.StatusOK || h.Get("Access-Control-Allow-Origin") != testOrigin || h.Get("Vary") != "Origin" || h.Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("allowed origin: %d %v", rec.Code, h)
	}
	rec = e.do(req{method: http.MethodOptions, path: "/auth/session", header: map[string]string{
		"Origin": testOrigin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,x-cpam-request"}})
	h = rec.Header()
	if rec.Code != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != testOrigin ||
		!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") || h.Get("Access-Control-Max-Age") == "" ||
		h.Get("Access-Control-Allow-Headers") != "Authorization, Content-Type, Content-Encoding, Last-Event-ID, X-CPAM-Request" {
		t.Errorf("preflight: %d %v", rec.Code, h)
	}
	rec = e.do(req{method: http.MethodOptions, path: "/auth/session", header: map[string]string{
		"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}})
	if rec.Code != http.StatusForbidden || codeOf(t, rec) != "cors" || rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from another origin: %d %v", rec.Code, rec.Header())
	}
	rec = e.do(req{path: "/health", header: map[string]string{"Origin": "https://evil.example"}})
	for k := range rec.Header() {
		if strings.HasPrefix(k, "Access-Control-") {
			t.Errorf("a simple request from another origin got %s", k)
		}
	}
}

func TestPublicRoutes(t *testing.T) {
	e := newAuthEnv(t, AuthConfig{AdminKey: testAdminKey})
	for _, p := range []string{"/health", "/usage-service/info"} {
		if rec := e.do(req{path: p}); rec.Code != http.StatusOK {
			t.Errorf("%s without auth: %d", p, rec.Code)
		}
	}
	for _, r := range []req{{path: "/status"}, {path: "/auth/session"}, {path: "/api/v1/summary"}, {method: http.MethodPost, path: "/auth/logout"}, {method: http.MethodPost, path: "/auth/admin-key"}} {
		if rec := e.do(r); rec.Code != http.StatusUnauthorized {
			t.Errorf("%s %s without auth: %d", r.method, r.path, rec.Code)
		}
	}
	var nilAuth *Handler = New(Options{Backend: authBackend{e.st}})
	rec := httptest.NewRecorder()
	nilAuth.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/auth/session", nil))
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("without an Auth: %d", rec.Code)
	}
}

func TestAdminKeyHash(t *testing.T) {
	h, err := HashAdminKey("the-key")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := verifyAdminKeyHash(h, "the-key"); !ok || err != nil {
		t.Errorf("right key: %v %v", ok, err)
	}
	if ok, err := verifyAdminKeyHash(h, "the-kez"); ok || err != nil {
		t.Errorf("wrong key: %v %v", ok, err)
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=999999999,t=1,p=1$AA$AA", "$argon2id$v=19$m=x$AA$AA"} {
		if _, err := verifyAdminKeyHash(bad, "k"); err == nil {
			t.Errorf("hash %q accepted", bad)
		}
	}
}

func TestLimiterPrunes(t *testing.T) {
	l := newLimiter()
	now := time.Now()
	l.fail("a", now)
	l.fail("b", now.Add(failureWindow))
	if _, ok := l.failures["a"]; ok {
		t.Error("a stale IP was kept")
	}
	if _, blocked := l.blocked("b", now.Add(failureWindow)); blocked {
		t.Error("one failure blocks")
	}
}
