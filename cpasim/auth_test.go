package cpasim

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestManagementAuthHTTP(t *testing.T) {
	s := newTestServer(t, nil)
	url := s.URL() + "/v0/management/usage-queue"

	res := doHTTP(t, http.MethodGet, url, nil, "")
	expectHTTP(t, res, 401, `{"error":"missing management key"}`)
	for _, h := range []string{"X-CPA-VERSION", "X-CPA-COMMIT", "X-CPA-BUILD-DATE", "X-CPA-SUPPORT-PLUGIN"} {
		if res.header.Get(h) == "" {
			t.Errorf("401 lacks %s", h)
		}
	}
	if res.header.Get("X-CPA-VERSION") != "v7.2.140" || res.header.Get("X-CPA-COMMIT") != "a7e3596b7" ||
		res.header.Get("X-CPA-SUPPORT-PLUGIN") != "1" {
		t.Errorf("version headers: %v", res.header)
	}
	if ct := res.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("content type %q", ct)
	}
	if res.header.Get("Access-Control-Allow-Origin") != "*" || res.header.Get("Access-Control-Expose-Headers") != exposedHeaders {
		t.Errorf("CORS headers: %v", res.header)
	}
	expectHTTP(t, doHTTP(t, http.MethodGet, url, map[string]string{"Authorization": "Bearer nope"}, ""),
		401, `{"error":"invalid management key"}`)
	// That was two failures; success resets the counter.
	for _, hdr := range []map[string]string{
		{"Authorization": "bEaReR " + testKey},
		{"Authorization": testKey},
		{"X-Management-Key": testKey},
		{"Authorization": "Bearer " + testKey, "X-Management-Key": "wrong"},
	} {
		expectHTTP(t, doHTTP(t, http.MethodGet, url, hdr, ""), 200, `[]`)
	}
	// Authorization is checked first.
	expectHTTP(t, doHTTP(t, http.MethodGet, url, map[string]string{"Authorization": "wrong", "X-Management-Key": testKey}, ""),
		401, `{"error":"invalid management key"}`)
	for range 3 {
		expectHTTP(t, doHTTP(t, http.MethodGet, url, nil, ""), 401, `{"error":"missing management key"}`)
	}
	expectHTTP(t, mgmtGet(t, s, "/usage-queue", nil), 200, `[]`) // 4 failures, then success: reset
	for range 4 {
		doHTTP(t, http.MethodGet, url, nil, "")
	}
	expectHTTP(t, mgmtGet(t, s, "/usage-queue", nil), 200, `[]`)

	// Forwarding headers decide who is local.
	expectHTTP(t, mgmtGet(t, s, "/usage-queue", map[string]string{"X-Forwarded-For": "10.9.8.7"}),
		403, `{"error":"remote management disabled"}`)
	expectHTTP(t, mgmtGet(t, s, "/usage-queue", map[string]string{"X-Real-IP": "10.9.8.7"}),
		403, `{"error":"remote management disabled"}`)
	expectHTTP(t, mgmtGet(t, s, "/usage-queue", map[string]string{"X-Forwarded-For": "10.9.8.7, 127.0.0.1"}),
		403, `{"error":"remote management disabled"}`)
	// An unparsable XFF falls through to X-Real-IP, then the peer.
	expectHTTP(t, mgmtGet(t, s, "/usage-queue", map[string]string{"X-Forwarded-For": "garbage", "X-Real-IP": "10.0.0.1"}),
		403, `{"error":"remote management disabled"}`)
	expectHTTP(t, mgmtGet(t, s, "/usage-queue", map[string]string{"X-Forwarded-For": "garbage"}), 200, `[]`)
	// Remote callers without a key are refused before they can fail.
	for range 6 {
		expectHTTP(t, doHTTP(t, http.MethodGet, url, map[string]string{"X-Forwarded-For": "10.9.8.7"}, ""),
			403, `{"error":"remote management disabled"}`)
	}

	remote := newTestServer(t, func(o *Options) { o.AllowRemote = true })
	expectHTTP(t, mgmtGet(t, remote, "/usage-queue", map[string]string{"X-Forwarded-For": "10.9.8.7"}), 200, `[]`)
}

func TestCORSAndPublicRoutes(t *testing.T) {
	s := newTestServer(t, nil)
	res := doHTTP(t, http.MethodOptions, s.URL()+"/v0/management/config", map[string]string{"Origin": "http://panel"}, "")
	expectHTTP(t, res, 204, "")
	if res.header.Get("Access-Control-Allow-Origin") != "*" || res.header.Get("Access-Control-Allow-Headers") != "*" {
		t.Fatalf("CORS preflight headers: %v", res.header)
	}
	expectHTTP(t, doHTTP(t, http.MethodGet, s.URL()+"/healthz", nil, ""), 200, `{"status":"ok"}`)
	expectHTTP(t, doHTTP(t, http.MethodHead, s.URL()+"/healthz", nil, ""), 200, "")
	expectHTTP(t, doHTTP(t, http.MethodGet, s.URL()+"/management.html", nil, ""), 404, "404 page not found")
	// oauth-callback needs no management key.
	if res := doHTTP(t, http.MethodGet, s.URL()+"/v0/management/oauth-callback?provider=x", nil, ""); res.status == 401 || res.header.Get("X-CPA-VERSION") != "" {
		t.Fatalf("oauth-callback went through key auth: %d %v", res.status, res.header)
	}
	// Unknown management paths: empty 404 after auth.
	expectHTTP(t, mgmtGet(t, s, "/no-such-route", nil), 404, "")
}

func TestPanelFileServedWithoutKey(t *testing.T) {
	file := filepath.Join(t.TempDir(), "management.html")
	if err := os.WriteFile(file, []byte("<!doctype html><title>v1</title>"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newTestServer(t, func(o *Options) { o.PanelFile = file })
	res := doHTTP(t, http.MethodGet, s.URL()+"/management.html", nil, "")
	expectHTTP(t, res, 200, "<!doctype html><title>v1</title>")
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("Content-Type %q", ct)
	}
	// Read on every request: a rebuilt panel shows without a restart.
	if err := os.WriteFile(file, []byte("<!doctype html><title>v2</title>"), 0o600); err != nil {
		t.Fatal(err)
	}
	expectHTTP(t, doHTTP(t, http.MethodGet, s.URL()+"/management.html", nil, ""), 200, "<!doctype html><title>v2</title>")
	expectHTTP(t, doHTTP(t, http.MethodPost, s.URL()+"/management.html", nil, ""), 404, "404 page not found")
}

func TestBanSharedBetweenHTTPAndRESP(t *testing.T) {
	clock := newFakeClock()
	s := newTestServer(t, func(o *Options) { o.Now = clock.Now })
	rc := dialRESP(t, s)
	for range 5 {
		rc.do("-NOAUTH Authentication required.\r\n", "LPOP", "usage")
	}
	banned := `{"error":"IP banned due to too many failed attempts. Try again in 30m0s"}`
	expectHTTP(t, mgmtGet(t, s, "/usage-queue", nil), 403, banned)

	clock.Advance(time.Second)
	rc.do("-ERR IP banned due to too many failed attempts. Try again in 29m59s\r\n", "AUTH", testKey)
	rc.do("-ERR IP banned due to too many failed attempts. Try again in 29m59s\r\n", "PING")
	clock.Advance(500 * time.Millisecond)
	expectHTTP(t, mgmtGet(t, s, "/usage-queue", nil), 403,
		`{"error":"IP banned due to too many failed attempts. Try again in 29m59s"}`)

	// XFF ::1 dodges the ban on 127.0.0.1: why a proxy must strip it.
	expectHTTP(t, mgmtGet(t, s, "/usage-queue", map[string]string{"X-Forwarded-For": "::1"}), 200, `[]`)

	// Expiry lifts the ban and resets the counter.
	clock.Advance(30 * time.Minute)
	expectHTTP(t, doHTTP(t, http.MethodGet, s.URL()+"/v0/management/usage-queue", nil, ""),
		401, `{"error":"missing management key"}`)
	rc.auth()
	expectHTTP(t, mgmtGet(t, s, "/usage-queue", nil), 200, `[]`)

	// HTTP failures ban RESP too.
	for range 5 {
		doHTTP(t, http.MethodGet, s.URL()+"/v0/management/usage-queue", map[string]string{"X-Management-Key": "x"}, "")
	}
	rc2 := dialRESP(t, s)
	rc2.do("-ERR IP banned due to too many failed attempts. Try again in 30m0s\r\n", "AUTH", testKey)
}

func TestGuardPurge(t *testing.T) {
	clock := newFakeClock()
	g := newGuard(clock.Now, 0, func() string { return "k" }, func() bool { return true })
	g.authorize(t.Context(), "10.0.0.1", "")
	if len(g.attempts) != 1 {
		t.Fatalf("attempts: %d", len(g.attempts))
	}
	clock.Advance(3 * time.Hour)
	g.authorize(t.Context(), "10.0.0.2", "k")
	if len(g.attempts) != 0 {
		t.Fatalf("idle entry not purged: %d", len(g.attempts))
	}
}

func TestManagementUnavailable(t *testing.T) {
	for name, mut := range map[string]func(*Options){
		"no secret": func(o *Options) { o.ManagementKey = "" },
		"home":      func(o *Options) { o.Home = true },
	} {
		t.Run(name, func(t *testing.T) {
			s := newTestServer(t, mut)
			for _, p := range []string{"/config", "/usage-queue", "/oauth-callback", ""} {
				res := mgmtGet(t, s, p, nil)
				expectHTTP(t, res, 404, "")
				if res.header.Get("X-CPA-VERSION") != "" {
					t.Errorf("%s: gate 404 carries version headers", p)
				}
			}
			if res := chat(t, s, chatBody, nil); res.status != 200 {
				t.Fatalf("chat: %d", res.status)
			}
			syncServer(t, s)
			if n := s.QueueLen(); n != 0 {
				t.Fatalf("records produced without management: %d", n)
			}
		})
	}
}

func TestAuthDelay(t *testing.T) {
	s := newTestServer(t, func(o *Options) { o.AuthDelay = 30 * time.Millisecond })
	start := time.Now()
	expectHTTP(t, mgmtGet(t, s, "/usage-queue", nil), 200, `[]`)
	if time.Since(start) < 30*time.Millisecond {
		t.Fatalf("auth delay not applied")
	}
}

// TestDefaults pins the reference defaults of §1, §4.2 and §7.2.
func TestDefaults(t *testing.T) {
	if DefaultSniffTimeout != 10*time.Second || DefaultAuthDelay != 70*time.Millisecond {
		t.Fatalf("defaults: sniff %v auth %v", DefaultSniffTimeout, DefaultAuthDelay)
	}
	s := newTestServer(t, func(o *Options) { o.SniffTimeout = 0; o.NoPluginSupport = true })
	if s.opts.SniffTimeout != DefaultSniffTimeout {
		t.Fatalf("sniff timeout %v", s.opts.SniffTimeout)
	}
	res := mgmtGet(t, s, "/usage-queue", nil)
	if res.header.Get("X-CPA-SUPPORT-PLUGIN") != "0" || res.header.Get("X-CPA-BUILD-DATE") != DefaultBuildDate {
		t.Fatalf("headers %v", res.header)
	}
}
