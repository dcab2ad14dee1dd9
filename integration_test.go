package cpam_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"
	_ "modernc.org/sqlite"

	"github.com/cpam-caddy/cpam/cpasim"
	"github.com/cpam-caddy/cpam/cpasim/simtest"
)

// Ports of this package's in-process Caddy; other test packages must use
// their own.
const (
	adminPort = 2999
	httpPort  = 9080
	httpsPort = 9443
)

const (
	testManagementKey = "it-management-{key}-with-braces"
	testAdminKey      = "it-admin-key-0123456789abcdef"
	testCORSOrigin    = "https://panel.example.test"
)

// startSimulator runs a CPA simulator on loopback for one test.
func startSimulator(t *testing.T) *cpasim.Server {
	t.Helper()
	return simtest.Start(t, testManagementKey, nil)
}

// testGlobals are the global options every integration config starts with:
// this package's ports, Caddy's internal CA and storage under dir.
func testGlobals(dir string) string {
	return fmt.Sprintf(`	admin localhost:%d
	http_port %d
	https_port %d
	grace_period 1ns
	local_certs
	skip_install_trust
	storage file_system %s
`, adminPort, httpPort, httpsPort, filepath.Join(dir, "storage"))
}

// siteConfig is the Caddyfile under test: the DESIGN's single-domain layout
// on high ports with Caddy's internal CA.
func siteConfig(dir, cpaURL, retention string) string {
	return fmt.Sprintf(`{
%s	servers {
		trusted_proxies static private_ranges
		client_ip_headers X-Forwarded-For
	}
	cpam {
		cpa %s {
			management_key {env.CPAM_IT_MANAGEMENT_KEY}
		}
		admin_key {env.CPAM_IT_ADMIN_KEY}
		database %s
		retention %s
		cors_origins %s
	}
}

localhost {
	cpam_panel /management.html
	cpam_api /cpam/*
	cpam_management /v0/management/*
	respond "not a cpam route" 404
}
`, testGlobals(dir), cpaURL, filepath.Join(dir, "cpam.db"), retention, testCORSOrigin)
}

// newTester starts (or reuses) the in-process Caddy and fails, rather than
// skips, when it cannot: a skipped integration test proves nothing.
func newTester(t *testing.T) *caddytest.Tester {
	t.Helper()
	t.Cleanup(func() {
		if t.Skipped() && !testing.Short() {
			t.Error("the integration test was skipped: Caddy did not start on the admin port; is another test process using it?")
		}
	})
	return caddytest.NewTester(t).WithDefaultOverrides(caddytest.Config{
		AdminPort:          adminPort,
		TestRequestTimeout: 10 * time.Second,
		LoadRequestTimeout: 10 * time.Second,
	})
}

// get sends a request to the site and returns status, headers and body.
func do(t *testing.T, tester *caddytest.Tester, method, path string, header http.Header) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, fmt.Sprintf("https://localhost:%d%s", httpsPort, path), nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := tester.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(body)
}

// send is do with a body and an explicit client (without a cookie jar, so
// sessions stay in the subtest that made them).
func send(t *testing.T, client *http.Client, method, path string, header http.Header, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, fmt.Sprintf("https://localhost:%d%s", httpsPort, path), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(out)
}

// jarless returns a client over the tester's TLS transport without a
// cookie jar.
func jarless(tester *caddytest.Tester) *http.Client {
	return &http.Client{Transport: tester.Client.Transport, Timeout: 10 * time.Second}
}

// waitForTLS polls until the internal CA has issued the site certificate.
func waitForTLS(t *testing.T, tester *caddytest.Tester) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := tester.Client.Get(fmt.Sprintf("https://localhost:%d/cpam/health", httpsPort))
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no TLS handshake with the site: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitUntil polls cond for up to 20 seconds.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// countEvents reads the number of stored events straight from the file.
func countEvents(t *testing.T, path string) int64 {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	if err := db.QueryRow("SELECT count(*) FROM events").Scan(&n); err != nil {
		t.Fatalf("counting events: %v", err)
	}
	return n
}

type serviceInfo struct {
	Service          string    `json:"service"`
	Mode             string    `json:"mode"`
	InstanceID       string    `json:"instanceId"`
	StartedAt        time.Time `json:"startedAt"`
	ConfigGeneration int64     `json:"configGeneration"`
	Configured       bool      `json:"configured"`
}

func readInfo(t *testing.T, tester *caddytest.Tester) serviceInfo {
	t.Helper()
	status, _, body := do(t, tester, http.MethodGet, "/cpam/usage-service/info", nil)
	if status != http.StatusOK {
		t.Fatalf("info: status %d: %s", status, body)
	}
	var info serviceInfo
	if err := json.Unmarshal([]byte(body), &info); err != nil {
		t.Fatalf("info: %v: %s", err, body)
	}
	return info
}

func TestSingleDomainOverHTTPS(t *testing.T) {
	sim := startSimulator(t)
	t.Setenv("CPAM_IT_MANAGEMENT_KEY", testManagementKey)
	t.Setenv("CPAM_IT_ADMIN_KEY", testAdminKey)
	dir := t.TempDir()

	tester := newTester(t)
	tester.InitServer(siteConfig(dir, sim.URL(), "90d"), "caddyfile")
	waitForTLS(t, tester)

	t.Run("panel", func(t *testing.T) {
		status, hdr, body := do(t, tester, http.MethodGet, "/management.html", nil)
		if status != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") {
			t.Fatalf("panel: status %d, content type %q", status, hdr.Get("Content-Type"))
		}
		const meta = `<meta name="cpam-config" content="{&#34;apiBase&#34;:&#34;/cpam&#34;,&#34;managementBase&#34;:&#34;/v0/management&#34;}">`
		if !strings.Contains(body, meta+"</head>") {
			t.Errorf("panel page lacks the injected config %s", meta)
		}
		if strings.Contains(body, testManagementKey) || strings.Contains(body, testAdminKey) {
			t.Error("the panel page contains a secret")
		}
		status, _, _ = do(t, tester, http.MethodGet, "/management.html", http.Header{"If-None-Match": {hdr.Get("ETag")}})
		if status != http.StatusNotModified {
			t.Errorf("conditional GET: status %d, want 304", status)
		}
		status, _, _ = do(t, tester, http.MethodPost, "/management.html", nil)
		if status != http.StatusMethodNotAllowed {
			t.Errorf("POST to the panel: status %d, want 405", status)
		}
	})

	t.Run("api", func(t *testing.T) {
		status, _, body := do(t, tester, http.MethodGet, "/cpam/health", nil)
		if status != http.StatusOK || body != `{"database":"ok","status":"ok"}`+"\n" {
			t.Errorf("health: %d %s", status, body)
		}
		info := readInfo(t, tester)
		if info.Service != "caddy-cpam" || info.Mode != "caddy" || !info.Configured || info.ConfigGeneration != 1 || info.InstanceID == "" {
			t.Errorf("info = %+v", info)
		}
		status, _, body = do(t, tester, http.MethodGet, "/cpam/no-such-route", nil)
		if status != http.StatusUnauthorized || !strings.Contains(body, `"code":"unauthorized"`) {
			t.Errorf("an API route without credentials: %d %s", status, body)
		}
		status, _, _ = do(t, tester, http.MethodGet, "/elsewhere", nil)
		if status != http.StatusNotFound {
			t.Errorf("a path outside the directives reached them: %d", status)
		}
	})

	t.Run("management proxy", func(t *testing.T) {
		admin := http.Header{"Authorization": {"Bearer " + testAdminKey}}
		status, _, body := do(t, tester, http.MethodGet, "/v0/management/config", nil)
		if status != http.StatusUnauthorized || !strings.Contains(body, "sign in first") {
			t.Errorf("without credentials: %d %s", status, body)
		}
		// A browser that knows CPA's key still cannot use it: only the admin key opens the proxy.
		status, _, _ = do(t, tester, http.MethodGet, "/v0/management/config", http.Header{
			"X-Management-Key": {testManagementKey}, "Authorization": {"Bearer " + testManagementKey}})
		if status != http.StatusUnauthorized {
			t.Errorf("with CPA's own key: status %d, want 401", status)
		}
		// Wrong admin keys stop here and never count towards CPA's IP ban.
		for range 6 {
			do(t, tester, http.MethodGet, "/v0/management/config", http.Header{"Authorization": {"Bearer wrong-key"}})
		}

		status, hdr, body := do(t, tester, http.MethodGet, "/v0/management/config", admin)
		if status != http.StatusOK || !strings.Contains(body, `"usage-statistics-enabled"`) {
			t.Fatalf("proxied GET /config: %d %s", status, body)
		}
		if hdr.Get("X-CPA-VERSION") != cpasim.DefaultVersion {
			t.Errorf("X-CPA-VERSION = %q, want CPA's header passed through", hdr.Get("X-CPA-VERSION"))
		}
		if hdr.Get("Access-Control-Allow-Origin") != "" {
			t.Error("CPA's wide-open CORS header reached the browser")
		}

		// CPA trusts X-Forwarded-For; the proxy must strip it, or CPA would
		// answer 403 "remote management disabled" for a remote address.
		spoofed := http.Header{"Authorization": admin["Authorization"], "X-Forwarded-For": {"10.9.8.7"}, "X-Real-IP": {"10.9.8.7"}}
		status, _, body = do(t, tester, http.MethodGet, "/v0/management/usage-statistics-enabled", spoofed)
		if status != http.StatusOK || body != `{"usage-statistics-enabled":true}` {
			t.Errorf("with X-Forwarded-For: %d %s", status, body)
		}

		status, _, body = do(t, tester, http.MethodGet, "/v0/management/usage-queue?count=10", admin)
		if status != http.StatusForbidden || !strings.Contains(body, "reserved for the cpam collector") {
			t.Errorf("usage-queue: %d %s", status, body)
		}
	})

	t.Run("login and the management proxy by session cookie", func(t *testing.T) {
		client := jarless(tester)
		jsonCT := http.Header{"Content-Type": {"application/json"}}
		status, hdr, body := send(t, client, http.MethodPost, "/cpam/auth/login", jsonCT, `{"key":"`+testAdminKey+`"}`)
		if status != http.StatusOK || !strings.Contains(body, `"via":"session"`) {
			t.Fatalf("login: %d %s", status, body)
		}
		setCookie := hdr.Get("Set-Cookie")
		for _, attr := range []string{"cpam_session=", "Path=/", "HttpOnly", "Secure", "SameSite=Strict", "Max-Age=43200"} {
			if !strings.Contains(setCookie, attr) {
				t.Errorf("Set-Cookie %q lacks %s", setCookie, attr)
			}
		}
		cookie := strings.SplitN(setCookie, ";", 2)[0]
		withCookie := func(extra ...string) http.Header {
			h := http.Header{"Cookie": {cookie}}
			for i := 0; i+1 < len(extra); i += 2 {
				h.Set(extra[i], extra[i+1])
			}
			return h
		}
		status, _, body = send(t, client, http.MethodGet, "/cpam/auth/session", withCookie(), "")
		if status != http.StatusOK || !strings.Contains(body, `"via":"session"`) {
			t.Errorf("session: %d %s", status, body)
		}
		status, hdr, body = send(t, client, http.MethodGet, "/v0/management/config", withCookie(), "")
		if status != http.StatusOK || !strings.Contains(body, `"usage-statistics-enabled"`) || hdr.Get("X-CPA-VERSION") == "" {
			t.Errorf("management proxy by cookie: %d %s", status, body)
		}
		// CSRF: a cookie-authenticated state change needs JSON or the panel's header.
		status, hdr, body = send(t, client, http.MethodPut, "/v0/management/debug", withCookie("Content-Type", "text/plain"), `{"value":true}`)
		if status != http.StatusForbidden || !strings.Contains(body, `"code":"csrf"`) || hdr.Get("X-CPA-VERSION") != "" {
			t.Errorf("management PUT without CSRF header: %d %s", status, body)
		}
		status, _, body = send(t, client, http.MethodPost, "/cpam/auth/logout", withCookie(), "")
		if status != http.StatusForbidden || !strings.Contains(body, `"code":"csrf"`) {
			t.Errorf("logout without CSRF header: %d %s", status, body)
		}
		status, _, _ = send(t, client, http.MethodPost, "/cpam/auth/logout", withCookie("X-CPAM-Request", "1"), "")
		if status != http.StatusNoContent {
			t.Errorf("logout: %d", status)
		}
		status, _, _ = send(t, client, http.MethodGet, "/v0/management/config", withCookie(), "")
		if status != http.StatusUnauthorized {
			t.Errorf("management proxy after logout: %d", status)
		}
		// CPA panel mode: the API (not the proxy) accepts CPA's management key.
		status, _, body = send(t, client, http.MethodGet, "/cpam/auth/session", http.Header{"Authorization": {"Bearer " + testManagementKey}}, "")
		if status != http.StatusOK || !strings.Contains(body, `"via":"cpa-key"`) {
			t.Errorf("CPA key on the API: %d %s", status, body)
		}
	})

	t.Run("CORS", func(t *testing.T) {
		client := jarless(tester)
		preflight := func(origin string) (int, http.Header) {
			status, hdr, _ := send(t, client, http.MethodOptions, "/cpam/auth/session", http.Header{
				"Origin": {origin}, "Access-Control-Request-Method": {"POST"}, "Access-Control-Request-Headers": {"content-type"}}, "")
			return status, hdr
		}
		if status, hdr := preflight(testCORSOrigin); status != http.StatusNoContent || hdr.Get("Access-Control-Allow-Origin") != testCORSOrigin ||
			hdr.Get("Access-Control-Allow-Credentials") != "true" || !strings.Contains(hdr.Get("Access-Control-Allow-Headers"), "X-CPAM-Request") {
			t.Errorf("allowed preflight: %d %v", status, hdr)
		}
		if status, hdr := preflight("https://evil.example.test"); status != http.StatusForbidden || hdr.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("foreign preflight: %d %v", status, hdr)
		}
		_, hdr, _ := send(t, client, http.MethodGet, "/cpam/health", http.Header{"Origin": {"https://evil.example.test"}}, "")
		if hdr.Get("Access-Control-Allow-Origin") != "" || hdr.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("a foreign simple request got CORS headers: %v", hdr)
		}
		_, hdr, _ = send(t, client, http.MethodGet, "/cpam/health", http.Header{"Origin": {testCORSOrigin}}, "")
		if hdr.Get("Access-Control-Allow-Origin") != testCORSOrigin || hdr.Get("Vary") != "Origin" {
			t.Errorf("an allowed simple request: %v", hdr)
		}
	})

	t.Run("wrong keys get 429 from caddy-cpam and never reach CPA", func(t *testing.T) {
		client := jarless(tester)
		// Caddy's client IP honours trusted_proxies: the test plays a proxy.
		from := func(ip string, kv ...string) http.Header {
			h := http.Header{"X-Forwarded-For": {ip}}
			for i := 0; i+1 < len(kv); i += 2 {
				h.Set(kv[i], kv[i+1])
			}
			return h
		}
		const attacker, bystander = "203.0.113.50", "203.0.113.51"
		for i := range 10 {
			var status int
			var hdr http.Header
			switch i % 3 {
			case 0:
				status, hdr, _ = send(t, client, http.MethodGet, "/v0/management/config", from(attacker, "Authorization", "Bearer wrong-key"), "")
			case 1:
				status, hdr, _ = send(t, client, http.MethodGet, "/cpam/auth/session", from(attacker, "Authorization", "Bearer wrong-key"), "")
			default:
				status, hdr, _ = send(t, client, http.MethodPost, "/cpam/auth/login", from(attacker, "Content-Type", "application/json"), `{"key":"wrong-key"}`)
			}
			if status != http.StatusUnauthorized || hdr.Get("X-CPA-VERSION") != "" {
				t.Fatalf("wrong key %d: status %d, reached CPA %v", i+1, status, hdr.Get("X-CPA-VERSION") != "")
			}
		}
		for _, path := range []string{"/v0/management/config", "/cpam/auth/session"} {
			status, hdr, body := send(t, client, http.MethodGet, path, from(attacker, "Authorization", "Bearer "+testAdminKey), "")
			if status != http.StatusTooManyRequests || hdr.Get("Retry-After") == "" || hdr.Get("X-CPA-VERSION") != "" {
				t.Errorf("%s after 10 failures: %d %s (Retry-After %q)", path, status, body, hdr.Get("Retry-After"))
			}
		}
		// Another client is unaffected, and CPA never banned the collector's
		// address: every request reaches it from Caddy with the right key.
		status, _, _ := send(t, client, http.MethodGet, "/v0/management/config", from(bystander, "Authorization", "Bearer "+testAdminKey), "")
		if status != http.StatusOK {
			t.Errorf("another client through the proxy: %d", status)
		}
		req, _ := http.NewRequest(http.MethodGet, sim.URL()+"/v0/management/config", nil)
		req.Header.Set("Authorization", "Bearer "+testManagementKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("CPA answers its own key from this address with %d: its IP ban was triggered", resp.StatusCode)
		}
	})

	t.Run("secrets stay out of the config", func(t *testing.T) {
		resp, err := http.Get(fmt.Sprintf("http://localhost:%d/config/", adminPort))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		cfg, _ := io.ReadAll(resp.Body)
		if strings.Contains(string(cfg), testManagementKey) || strings.Contains(string(cfg), testAdminKey) {
			t.Error("a resolved secret is in Caddy's running config")
		}
		if !strings.Contains(string(cfg), "{env.CPAM_IT_MANAGEMENT_KEY}") {
			t.Error("the management key placeholder is missing from the running config")
		}
	})

	t.Run("reloads under traffic reuse the runtime and lose nothing", func(t *testing.T) {
		waitUntil(t, "the collector's subscription", func() bool { return sim.Subscribers("usage") == 1 })
		first := readInfo(t, tester)
		stopTraffic := sim.StartEmitting(3, 2*time.Millisecond)
		time.Sleep(100 * time.Millisecond)
		tester.InitServer(siteConfig(dir, sim.URL(), "100d"), "caddyfile")
		time.Sleep(100 * time.Millisecond)
		tester.InitServer(siteConfig(dir, sim.URL(), "120d"), "caddyfile")
		time.Sleep(100 * time.Millisecond)
		if _, err := stopTraffic(); err != nil {
			t.Fatal(err)
		}
		db := filepath.Join(dir, "cpam.db")
		waitUntil(t, "every record in the database", func() bool {
			st := sim.DeliveryStats()
			return sim.QueueLen() == 0 && countEvents(t, db) == st.Deliverable()
		})
		st := sim.DeliveryStats()
		t.Logf("reloads under traffic: produced %d, stored %d", st.Produced, countEvents(t, db))
		if st.Produced < 100 {
			t.Errorf("only %d records produced during the reloads", st.Produced)
		}
		if st.Subscriptions != 1 {
			t.Errorf("the collector subscribed %d times; a reload must not restart it", st.Subscriptions)
		}
		after := readInfo(t, tester)
		if after.InstanceID != first.InstanceID || !after.StartedAt.Equal(first.StartedAt) {
			t.Errorf("a reload created a new runtime: %+v, then %+v", first, after)
		}
		if after.ConfigGeneration != first.ConfigGeneration+2 {
			t.Errorf("config generation %d after two reloads, want %d", after.ConfigGeneration, first.ConfigGeneration+2)
		}
		status, _, _ := do(t, tester, http.MethodGet, "/v0/management/config", http.Header{"Authorization": {"Bearer " + testAdminKey}})
		if status != http.StatusOK {
			t.Errorf("management proxy after reloads: %d", status)
		}
		if _, err := os.Stat(filepath.Join(dir, "cpam.db")); err != nil {
			t.Errorf("database file: %v", err)
		}
	})
}
