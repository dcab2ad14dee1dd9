package cpasim

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// startLogin starts a PKCE login through the management API and returns
// its state.
func startLogin(t *testing.T, s *Server, provider string) string {
	t.Helper()
	res := mgmtGet(t, s, "/"+provider+"-auth-url", nil)
	var m struct {
		Status, URL, State string
	}
	if err := json.Unmarshal([]byte(res.body), &m); err != nil || res.status != 200 || m.Status != "ok" || m.State == "" {
		t.Fatalf("%s-auth-url: %d %s", provider, res.status, res.body)
	}
	return m.State
}

// TestOAuthRedirectRoutes covers §3.9: /anthropic/callback,
// /codex/callback and /antigravity/callback take the provider redirect
// without a management key and answer an HTML page.
func TestOAuthRedirectRoutes(t *testing.T) {
	s := newTestServer(t, nil)
	sub := dialRESP(t, s)
	sub.auth()
	sub.subscribe(ChannelUsage)
	sub.message(ChannelUsage)

	state := startLogin(t, s, "anthropic")
	expectHTTP(t, mgmtGet(t, s, "/get-auth-status?state="+state, nil), 200, `{"status":"wait"}`)
	res := doHTTP(t, http.MethodGet, s.URL()+"/anthropic/callback?code=abc&state="+state, nil, "")
	if res.status != 200 || res.header.Get("Content-Type") != "text/html; charset=utf-8" ||
		!strings.Contains(res.body, "<h1>Authentication successful!</h1>") || res.header.Get("X-CPA-VERSION") != "" {
		t.Fatalf("anthropic callback: %d %v %s", res.status, res.header, res.body)
	}
	expectHTTP(t, mgmtGet(t, s, "/get-auth-status?state="+state, nil), 200, `{"status":"ok"}`)
	// The new auth file is announced to subscribers (§7.4) and listed.
	if got := sub.message(ChannelUsage); got != `{"refresh":true}` {
		t.Fatalf("want refresh after the login, got %q", got)
	}
	if body := mgmtGet(t, s, "/auth-files?name=claude-oauth-user-1@example.com.json", nil).body; !strings.Contains(body, `"provider":"claude"`) {
		t.Fatalf("new auth file: %s", body)
	}

	// A provider error ends the flow with that error.
	state = startLogin(t, s, "codex")
	res = doHTTP(t, http.MethodGet, s.URL()+"/codex/callback?error=access_denied&state="+state, nil, "")
	if res.status != 200 || !strings.Contains(res.body, "<h1>Authentication failed</h1><p>access_denied</p>") {
		t.Fatalf("codex callback error: %d %s", res.status, res.body)
	}
	expectHTTP(t, mgmtGet(t, s, "/get-auth-status?state="+state, nil), 200, `{"error":"access_denied","status":"error"}`)

	// Redirects the simulator cannot match are reported.
	res = doHTTP(t, http.MethodGet, s.URL()+"/antigravity/callback?code=x&state=nosuchstate", nil, "")
	if res.status != 400 || !strings.Contains(res.body, "<p>unknown or expired state</p>") {
		t.Fatalf("unknown state: %d %s", res.status, res.body)
	}
	state = startLogin(t, s, "antigravity")
	res = doHTTP(t, http.MethodGet, s.URL()+"/codex/callback?code=x&state="+state, nil, "")
	if res.status != 400 || !strings.Contains(res.body, "provider does not match state") {
		t.Fatalf("wrong provider: %d %s", res.status, res.body)
	}
	res = doHTTP(t, http.MethodGet, s.URL()+"/antigravity/callback?code=x&state="+state, nil, "")
	if res.status != 200 || !strings.Contains(res.body, "successful") {
		t.Fatalf("antigravity callback: %d %s", res.status, res.body)
	}
	expectHTTP(t, doHTTP(t, http.MethodPost, s.URL()+"/codex/callback", nil, ""), 404, "404 page not found")
}

// TestRefreshOnAuthFileChanges: adding, changing and removing an auth file
// each publish {"refresh":true} (§7.4).
func TestRefreshOnAuthFileChanges(t *testing.T) {
	s := newTestServer(t, nil)
	sub := dialRESP(t, s)
	sub.auth()
	sub.subscribe(ChannelUsage)
	sub.message(ChannelUsage)
	auth := map[string]string{"Authorization": "Bearer " + testKey, "Content-Type": "application/json"}
	base := s.URL() + "/v0/management/auth-files"

	expectHTTP(t, doHTTP(t, http.MethodPost, base+"?name=claude-x@example.com.json", auth,
		`{"type":"claude","email":"x@example.com","access_token":"t"}`), 200, `{"status":"ok"}`)
	if got := sub.message(ChannelUsage); got != `{"refresh":true}` {
		t.Fatalf("after upload: %q", got)
	}
	expectHTTP(t, doHTTP(t, http.MethodPatch, base+"/status", auth, `{"name":"claude-x@example.com.json","disabled":true}`),
		200, `{"disabled":true,"status":"ok"}`)
	if got := sub.message(ChannelUsage); got != `{"refresh":true}` {
		t.Fatalf("after status change: %q", got)
	}
	expectHTTP(t, doHTTP(t, http.MethodDelete, base+"?name=claude-x@example.com.json", auth, ""),
		200, `{"deleted":1,"files":["claude-x@example.com.json"],"status":"ok"}`)
	if got := sub.message(ChannelUsage); got != `{"refresh":true}` {
		t.Fatalf("after delete: %q", got)
	}
	syncServer(t, s)
	if s.QueueLen() != 0 {
		t.Fatalf("refresh messages were queued")
	}
}
