package mgmt

import (
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func startFlow(t *testing.T, s *State, path string) (string, map[string]any) {
	t.Helper()
	rec := do(t, s, "GET", path, nil)
	m := decode(t, rec)
	if rec.Code != 200 || m["status"] != "ok" || m["url"] == "" || m["state"] == "" {
		t.Fatalf("%s = %d %s", path, rec.Code, rec.Body.String())
	}
	return m["state"].(string), m
}

func TestOAuthPKCEFlow(t *testing.T) {
	s, _ := newTestState(t, func(o *Options) { o.AuthFiles = map[string][]byte{} })
	var reloads atomic.Int32
	s.OnReload(func() { reloads.Add(1) })

	state, m := startFlow(t, s, "/anthropic-auth-url")
	u, err := url.Parse(m["url"].(string))
	if err != nil || u.Query().Get("state") != state || u.Query().Get("code_challenge_method") != "S256" {
		t.Fatalf("auth url = %v", m["url"])
	}
	expect(t, do(t, s, "GET", "/get-auth-status?state="+state, nil), 200, `{"status":"wait"}`)

	expect(t, do(t, s, "POST", "/oauth-callback", map[string]any{"provider": "claude",
		"redirect_url": "http://localhost:54545/callback?code=abc&state=" + state}), 200, `{"status":"ok"}`)
	expect(t, do(t, s, "GET", "/get-auth-status?state="+state, nil), 200, `{"status":"ok"}`)
	if reloads.Load() != 1 {
		t.Fatalf("reloads = %d", reloads.Load())
	}
	names := fileNames(t, s)
	if len(names) != 1 || !strings.HasPrefix(names[0], "claude-oauth-user-1@example.com") {
		t.Fatalf("files = %v", names)
	}
	found := false
	for _, c := range s.Credentials("claude-sonnet-4-5") {
		found = found || c.Source == "oauth-user-1@example.com"
	}
	if !found {
		t.Fatal("new account not routed")
	}
	// A second callback for the same state conflicts.
	expect(t, do(t, s, "POST", "/oauth-callback", map[string]any{"provider": "anthropic", "code": "x", "state": state}), 409,
		`{"status":"error","error":"oauth flow is not pending"}`)

	// Codex via GET with query parameters.
	state, _ = startFlow(t, s, "/codex-auth-url")
	expect(t, do(t, s, "POST", "/oauth-callback", map[string]any{"provider": "claude", "code": "x", "state": state}), 400,
		`{"status":"error","error":"provider does not match state"}`)
	expect(t, do(t, s, "GET", "/oauth-callback?provider=openai&code=xyz&state="+state, nil), 200, `{"status":"ok"}`)
	expect(t, do(t, s, "GET", "/get-auth-status?state="+state, nil), 200, `{"status":"ok"}`)
	e := decode(t, do(t, s, "GET", "/auth-files?name=codex-oauth-user-2@example.com-plus.json", nil))["files"].([]any)
	if len(e) != 1 || e[0].(map[string]any)["id_token"].(map[string]any)["plan_type"] != "plus" {
		t.Fatalf("codex file = %v", e)
	}

	// A provider error finishes the flow with that error.
	state, _ = startFlow(t, s, "/antigravity-auth-url")
	expect(t, do(t, s, "POST", "/oauth-callback", map[string]any{"provider": "antigravity", "error": "access_denied", "state": state}), 200, `{"status":"ok"}`)
	expect(t, do(t, s, "GET", "/get-auth-status?state="+state, nil), 200, `{"status":"error","error":"access_denied"}`)

	expect(t, do(t, s, "POST", "/oauth-callback", map[string]any{"provider": "nope", "code": "x", "state": state}), 400,
		`{"status":"error","error":"unsupported provider"}`)
	expect(t, do(t, s, "POST", "/oauth-callback", map[string]any{"provider": "claude", "code": "x", "state": "unknownstate"}), 404,
		`{"status":"error","error":"unknown or expired state"}`)
	expect(t, do(t, s, "POST", "/oauth-callback", "{"), 400, `{"status":"error","error":"invalid body"}`)
}

func TestOAuthStatusAndSessions(t *testing.T) {
	s, clock := newTestState(t, nil)
	expect(t, do(t, s, "GET", "/get-auth-status?state=doesnotexist", nil), 200, `{"status":"error","error":"unknown or expired state"}`)
	expect(t, do(t, s, "GET", "/get-auth-status?state=bad%20state!", nil), 400, `{"status":"error","error":"invalid state"}`)
	expect(t, do(t, s, "GET", "/get-auth-status", nil), 400, `{"status":"error","error":"invalid state"}`)

	state, _ := startFlow(t, s, "/anthropic-auth-url")
	clock.Advance(31 * time.Minute)
	expect(t, do(t, s, "GET", "/get-auth-status?state="+state, nil), 200, `{"status":"error","error":"unknown or expired state"}`)

	state, _ = startFlow(t, s, "/codex-auth-url")
	expect(t, do(t, s, "DELETE", "/oauth-session?state="+state, nil), 200, `{"status":"ok","cancelled":true}`)
	expect(t, do(t, s, "DELETE", "/oauth-session?state="+state, nil), 200, `{"status":"ok","cancelled":false}`)
	expect(t, do(t, s, "GET", "/get-auth-status?state="+state, nil), 200, `{"status":"error","error":"unknown or expired state"}`)

	// ResetRuntime (a restart) forgets pending flows.
	state, _ = startFlow(t, s, "/codex-auth-url")
	s.ResetRuntime()
	expect(t, do(t, s, "GET", "/get-auth-status?state="+state, nil), 200, `{"status":"error","error":"unknown or expired state"}`)
}

func TestOAuthDeviceFlow(t *testing.T) {
	s, clock := newTestState(t, func(o *Options) { o.DeviceAutoApprove = 5 * time.Second })
	for _, p := range []string{"/kimi-auth-url", "/xai-auth-url"} {
		state, m := startFlow(t, s, p)
		if m["flow"] != "device" || m["user_code"] == "" || m["expires_in"] != float64(1800) {
			t.Fatalf("%s = %v", p, m)
		}
		expect(t, do(t, s, "GET", "/get-auth-status?state="+state, nil), 200, `{"status":"wait"}`)
		clock.Advance(6 * time.Second)
		expect(t, do(t, s, "GET", "/get-auth-status?state="+state, nil), 200, `{"status":"ok"}`)
	}
	var kinds []string
	for _, n := range fileNames(t, s) {
		if strings.HasPrefix(n, "kimi-") || strings.HasPrefix(n, "xai-") {
			kinds = append(kinds, n)
		}
	}
	if len(kinds) != 2 {
		t.Fatalf("device flow files = %v", kinds)
	}
	// Without auto-approve a device flow completes through oauth-callback.
	s2, _ := newTestState(t, nil)
	state, _ := startFlow(t, s2, "/xai-auth-url")
	expect(t, do(t, s2, "POST", "/oauth-callback", map[string]any{"provider": "grok", "state": state}), 200, `{"status":"ok"}`)
	expect(t, do(t, s2, "GET", "/get-auth-status?state="+state, nil), 200, `{"status":"ok"}`)
}
