package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/cpam-caddy/cpam/api"
	"github.com/cpam-caddy/cpam/store"
)

func TestBasePathOf(t *testing.T) {
	tests := []struct {
		matcher, want string
		ok            bool
	}{
		{"/cpam/*", "/cpam", true},
		{"/cpam*", "/cpam", true},
		{"/cpam/", "/cpam", true},
		{"/cpam", "/cpam", true},
		{"/a/b/*", "/a/b", true},
		{"/*", "/", true},
		{"/a/*/b", "", false},
		{"/a?", "", false},
	}
	for _, tt := range tests {
		got, ok := basePathOf(tt.matcher)
		if got != tt.want || ok != tt.ok {
			t.Errorf("basePathOf(%q) = %q, %v; want %q, %v", tt.matcher, got, ok, tt.want, tt.ok)
		}
	}
}

func TestStripBase(t *testing.T) {
	tests := []struct {
		path, base, want string
		ok               bool
	}{
		{"/cpam/health", "/cpam", "/health", true},
		{"/cpam", "/cpam", "/", true},
		{"/cpam/", "/cpam", "/", true},
		{"/cpamx/health", "/cpam", "", false},
		{"/other", "/cpam", "", false},
		{"/health", "/", "/health", true},
	}
	for _, tt := range tests {
		got, ok := stripBase(tt.path, tt.base)
		if got != tt.want || ok != tt.ok {
			t.Errorf("stripBase(%q, %q) = %q, %v; want %q, %v", tt.path, tt.base, got, ok, tt.want, tt.ok)
		}
	}
}

func TestInjectMeta(t *testing.T) {
	const tag = `<meta name="x">`
	if got := string(injectMeta([]byte("<html><HEAD><title>t</title></HEAD></html>"), tag)); got != `<html><HEAD><title>t</title><meta name="x"></HEAD></html>` {
		t.Errorf("with a head: %s", got)
	}
	if got := string(injectMeta([]byte("<p>no head</p>"), tag)); got != `<meta name="x"><p>no head</p>` {
		t.Errorf("without a head: %s", got)
	}
}

func TestPanelServesFileWithEscapedConfig(t *testing.T) {
	file := filepath.Join(t.TempDir(), "panel.html")
	if err := os.WriteFile(file, []byte("<html><head></head><body>custom</body></html>"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &Panel{File: file, APIBase: `/a"><script>`}
	if err := p.Provision(caddy.Context{}); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	if err := p.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/management.html", nil), nil); err != nil {
		t.Fatal(err)
	}
	body := rec.Body.String()
	if !strings.Contains(body, "custom") || strings.Contains(body, `"><script>`) {
		t.Errorf("page = %s; want the file with the config HTML-escaped", body)
	}
	if !strings.Contains(body, `&#34;managementBase&#34;:&#34;/v0/management&#34;`) {
		t.Errorf("default management base missing: %s", body)
	}
	if rec.Header().Get("ETag") == "" || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers = %v", rec.Header())
	}

	missing := &Panel{File: filepath.Join(t.TempDir(), "absent.html")}
	if err := missing.Provision(caddy.Context{}); err == nil || !strings.Contains(err.Error(), "cpam_panel: reading file") {
		t.Errorf("missing file: %v", err)
	}
}

func TestPanelRejectsOtherMethods(t *testing.T) {
	p := new(Panel)
	if err := p.Provision(caddy.Context{}); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	err := p.ServeHTTP(rec, httptest.NewRequest(http.MethodDelete, "/management.html", nil), nil)
	var herr caddyhttp.HandlerError
	if !errors.As(err, &herr) || herr.StatusCode != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("DELETE: err %v, Allow %q", err, rec.Header().Get("Allow"))
	}
}

func TestEscapePlaceholders(t *testing.T) {
	const key = `k{env.HOME}\{x}`
	if got := caddy.NewReplacer().ReplaceKnown(escapePlaceholders(key), ""); got != key {
		t.Errorf("key after Caddy's header expansion = %q, want %q", got, key)
	}
}

func TestManagementRejectsBeforeProxying(t *testing.T) {
	locked := &Management{}
	rec := httptest.NewRecorder()
	if err := locked.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v0/management/config", nil), nil); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("without auth: %d %s", rec.Code, rec.Body)
	}

	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "cpam.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	auth := api.NewAuth(api.AuthOptions{Store: st})
	const adminKey, cpaKey = "admin-key-0123456789", "cpa-management-key-0123"
	auth.SetConfig(api.AuthConfig{AdminKey: adminKey, CPAKeys: []string{cpaKey}})
	m := &Management{auth: auth}
	serve := func(auth, ip string) *httptest.ResponseRecorder {
		t.Helper()
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/v0/management/config", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if ip != "" {
			req = req.WithContext(context.WithValue(req.Context(), caddyhttp.VarsCtxKey, map[string]any{caddyhttp.ClientIPVarKey: ip}))
		}
		if err := m.ServeHTTP(rec, req, nil); err != nil {
			t.Fatal(err)
		}
		return rec
	}
	// A CPA key is not accepted by the proxy (only by the API in panel mode).
	for _, a := range []string{"", "Bearer wrong", "Basic " + adminKey, adminKey, "Bearer " + cpaKey} {
		if rec := serve(a, ""); rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("Authorization %q: %d", a, rec.Code)
		}
	}
	// Failures count per Caddy client IP: 10 from one address block it,
	// even for the right key; another address is unaffected.
	for range 10 {
		serve("Bearer wrong", "203.0.113.9")
	}
	if rec := serve("Bearer "+adminKey, "203.0.113.9"); rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Errorf("after 10 failures: %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}

	rec = httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/v0/management/usage-queue/", nil)
	req.Header.Set("Authorization", "bearer "+adminKey)
	if err := m.ServeHTTP(rec, req, nil); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusForbidden {
		t.Errorf("usage-queue: %d", rec.Code)
	}

	var nextCalled bool
	next := caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { nextCalled = true; return nil })
	if err := m.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/v1/models", nil), next); err != nil || !nextCalled {
		t.Errorf("a path outside /v0/management/ was not passed on: %v", err)
	}
}

func TestHandlerUnmarshal(t *testing.T) {
	var p Panel
	if err := p.UnmarshalCaddyfile(caddyfile.NewTestDispenser("cpam_panel {\n api_base /x\n management_base /y\n file f.html\n}")); err != nil {
		t.Fatal(err)
	}
	if p.APIBase != "/x" || p.ManagementBase != "/y" || p.File != "f.html" {
		t.Errorf("panel = %+v", p)
	}
	var a API
	if err := a.UnmarshalCaddyfile(caddyfile.NewTestDispenser("cpam_api {\n base_path /stats\n}")); err != nil || a.BasePath != "/stats" {
		t.Errorf("api = %+v, %v", a, err)
	}
	var m Management
	if err := m.UnmarshalCaddyfile(caddyfile.NewTestDispenser("cpam_management {\n upstream team\n}")); err != nil || m.Upstream != "team" {
		t.Errorf("management = %+v, %v", m, err)
	}
	for _, in := range []string{"cpam_panel extra", "cpam_panel {\n api_base\n}", "cpam_panel {\n management_base rel\n}"} {
		var p Panel
		if err := p.UnmarshalCaddyfile(caddyfile.NewTestDispenser(in)); err == nil {
			t.Errorf("panel accepted %q", in)
		}
	}
	for _, in := range []string{"cpam_management extra", "cpam_management {\n upstream\n}", "cpam_management {\n upstream a b\n}"} {
		var m Management
		if err := m.UnmarshalCaddyfile(caddyfile.NewTestDispenser(in)); err == nil {
			t.Errorf("management accepted %q", in)
		}
	}
}
