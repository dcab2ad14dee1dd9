package module

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
)

func TestResolveAppliesDefaultsAndSecrets(t *testing.T) {
	t.Setenv("CPAM_TEST_MGMT", "mgmt-secret")
	t.Setenv("CPAM_TEST_ADMIN", "admin-secret-0123456789")
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte("file-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	app := App{
		CPA: []*Upstream{
			{Name: "main", URL: "http://127.0.0.1:8317", ManagementKey: "{env.CPAM_TEST_MGMT}"},
			{Name: "team", URL: "https://cpa.internal", ManagementKey: "{file." + keyFile + "}", Collector: "http", PollInterval: caddy.Duration(5 * time.Second)},
		},
		AdminKey: "{env.CPAM_TEST_ADMIN}",
	}
	s, err := app.resolve(resolvePlaceholders, "/data/cpam.db")
	if err != nil {
		t.Fatalf("resolve: %v", err)
	}
	if s.Database != "/data/cpam.db" || s.Retention != DefaultRetention || s.AdminKey != "admin-secret-0123456789" ||
		s.SessionTTL != DefaultSessionTTL || s.QueryLimit != DefaultQueryLimit || s.MaxImportSize != DefaultMaxImportSize {
		t.Errorf("app settings = %+v", s)
	}
	wantSources := []PriceSource{{"models.dev", DefaultModelsDevURL}, {"litellm", DefaultLiteLLMURL}, {"openrouter", DefaultOpenRouterURL}}
	if !slices.Equal(s.PriceSources, wantSources) {
		t.Errorf("price sources = %v, want %v", s.PriceSources, wantSources)
	}
	main, ok := s.Upstream("")
	if !ok || main.Name != "main" {
		t.Fatalf(`Upstream("") = %+v, %v; want the first upstream`, main, ok)
	}
	if main.ManagementKey != "mgmt-secret" || main.Collector != CollectorAuto || main.PollInterval != DefaultPollInterval || main.URL.String() != "http://127.0.0.1:8317" {
		t.Errorf("main = %+v", main)
	}
	team, ok := s.Upstream("team")
	if !ok || team.ManagementKey != "file-secret" || team.Collector != CollectorHTTP || team.PollInterval != 5*time.Second {
		t.Errorf("team = %+v (file placeholder must drop the trailing newline)", team)
	}
	if _, ok := s.Upstream("nope"); ok {
		t.Error(`Upstream("nope") found an upstream`)
	}
	// The app's JSON fields keep the placeholders: secrets never land in the config.
	if app.CPA[0].ManagementKey != "{env.CPAM_TEST_MGMT}" || app.AdminKey != "{env.CPAM_TEST_ADMIN}" {
		t.Error("resolve rewrote the configured placeholders")
	}
}

func TestResolveDefaultName(t *testing.T) {
	app := App{CPA: []*Upstream{{URL: "http://127.0.0.1:8317", ManagementKey: "k"}}}
	s, err := app.resolve(resolvePlaceholders, "db")
	if err != nil {
		t.Fatal(err)
	}
	if s.Upstreams[0].Name != DefaultUpstreamName {
		t.Errorf("name = %q, want %q", s.Upstreams[0].Name, DefaultUpstreamName)
	}
}

// TestResolveErrors covers what a JSON config can get wrong; the Caddyfile
// parser catches most of it earlier, but JSON configs arrive here directly.
func TestResolveErrors(t *testing.T) {
	t.Setenv("CPAM_TEST_EMPTY", "")
	up := func(mod func(*Upstream)) *Upstream {
		u := &Upstream{Name: "main", URL: "http://127.0.0.1:8317", ManagementKey: "k"}
		mod(u)
		return u
	}
	tests := []struct {
		name    string
		app     App
		wantErr string
	}{
		{"unset env secret", App{CPA: []*Upstream{up(func(u *Upstream) { u.ManagementKey = "{env.CPAM_TEST_UNSET_VARIABLE}" })}},
			"cpa main: management_key: "},
		{"empty env secret", App{CPA: []*Upstream{up(func(u *Upstream) { u.ManagementKey = "{env.CPAM_TEST_EMPTY}" })}},
			"check that the environment variable or file it names is set"},
		{"missing file secret", App{AdminKey: "{file./nonexistent/cpam-admin-key}"}, "admin_key: "},
		{"short admin key", App{AdminKey: "short"}, "admin_key must be at least 16 characters; generate one with: openssl rand -hex 24"},
		{"short retention", App{Retention: caddy.Duration(time.Minute)}, "retention 1m0s is too short"},
		{"wildcard origin", App{CORSOrigins: []string{"*"}}, `cors_origins: "*" is not allowed`},
		{"nil upstream", App{CPA: []*Upstream{nil}}, "cpa #1: empty upstream"},
		{"missing key", App{CPA: []*Upstream{up(func(u *Upstream) { u.ManagementKey = "" })}}, "cpa main: management_key is required"},
		{"bad name", App{CPA: []*Upstream{up(func(u *Upstream) { u.Name = "Main Instance" })}}, `cpa "Main Instance": invalid name`},
		{"bad url", App{CPA: []*Upstream{up(func(u *Upstream) { u.URL = "127.0.0.1:8317" })}}, "must start with http:// or https://"},
		{"bad collector", App{CPA: []*Upstream{up(func(u *Upstream) { u.Collector = "pull" })}}, `cpa main: unknown collector "pull"`},
		{"bad interval", App{CPA: []*Upstream{up(func(u *Upstream) { u.PollInterval = caddy.Duration(2 * time.Hour) })}}, "cpa main: poll_interval 2h0m0s is out of range"},
		{"unnamed among several", App{CPA: []*Upstream{up(func(u *Upstream) { u.Name = "" }), up(func(u *Upstream) {})}},
			"a name is required when several CPA upstreams are configured"},
		{"duplicate name", App{CPA: []*Upstream{up(func(u *Upstream) {}), up(func(u *Upstream) {})}}, "cpa main: name used twice"},
		{"short session", App{SessionTTL: caddy.Duration(time.Second)}, "session_ttl 1s is out of range"},
		{"query limit", App{QueryLimit: -1}, "query_limit -1 is out of range"},
		{"import size", App{MaxImportSize: 10}, "max_import_size 10 is too small"},
		{"price source", App{PriceSources: &PriceSources{OpenRouter: "openrouter.ai"}}, `price_sources: openrouter: "openrouter.ai" is not an http(s) URL`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.app.resolve(resolvePlaceholders, "db")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("resolve error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestResolvedURLPlaceholder(t *testing.T) {
	t.Setenv("CPAM_TEST_URL", "http://127.0.0.1:9999")
	app := App{CPA: []*Upstream{{URL: "{env.CPAM_TEST_URL}", ManagementKey: "k"}}}
	s, err := app.resolve(resolvePlaceholders, "db")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Upstreams[0].URL.Host; got != "127.0.0.1:9999" {
		t.Errorf("url host = %q", got)
	}
}

func TestValidateRejectsOneCPATwice(t *testing.T) {
	app := &App{CPA: []*Upstream{
		{Name: "a", URL: "http://127.0.0.1:8317", ManagementKey: "k"},
		{Name: "b", URL: "http://127.0.0.1:8318", ManagementKey: "k"},
	}}
	var err error
	if app.settings, err = app.resolve(resolvePlaceholders, "db"); err != nil {
		t.Fatal(err)
	}
	if err := app.Validate(); err != nil {
		t.Errorf("two different CPAs: %v", err)
	}
	app.CPA[1].URL = "http://127.0.0.1:8317/"
	if app.settings, err = app.resolve(resolvePlaceholders, "db"); err != nil {
		t.Fatal(err)
	}
	err = app.Validate()
	if err == nil || !strings.Contains(err.Error(), "cpa a and cpa b both point at http://127.0.0.1:8317; collecting one CPA twice would split its usage queue") {
		t.Errorf("one CPA twice: %v", err)
	}
}
