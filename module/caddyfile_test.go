package module

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
)

func TestUnmarshalCaddyfile(t *testing.T) {
	input := `cpam {
		cpa main http://127.0.0.1:8317 {
			management_key {env.CPA_MANAGEMENT_KEY}
			collector subscribe
			poll_interval 15s
		}
		cpa team https://cpa-team.internal:8317 {
			management_key {file./run/secrets/team}
			collector http
			tls_insecure_skip_verify
		}
		admin_key {env.CPAM_ADMIN_KEY}
		database /var/lib/caddy/cpam.db
		retention 180d
		cors_origins https://a.example.com http://localhost:5173
		session_ttl 30m
		query_limit 1000
		max_import_size 1GiB
		price_sources {
			models_dev off
			litellm http://127.0.0.1:9000/litellm.json
		}
	}`
	var app App
	if err := app.UnmarshalCaddyfile(caddyfile.NewTestDispenser(input)); err != nil {
		t.Fatalf("UnmarshalCaddyfile: %v", err)
	}
	want := App{
		CPA: []*Upstream{
			{Name: "main", URL: "http://127.0.0.1:8317", ManagementKey: "{env.CPA_MANAGEMENT_KEY}", Collector: "subscribe", PollInterval: caddy.Duration(15 * time.Second)},
			{Name: "team", URL: "https://cpa-team.internal:8317", ManagementKey: "{file./run/secrets/team}", Collector: "http", TLSInsecureSkipVerify: true},
		},
		AdminKey:      "{env.CPAM_ADMIN_KEY}",
		Database:      "/var/lib/caddy/cpam.db",
		Retention:     caddy.Duration(180 * 24 * time.Hour),
		CORSOrigins:   []string{"https://a.example.com", "http://localhost:5173"},
		SessionTTL:    caddy.Duration(30 * time.Minute),
		QueryLimit:    1000,
		MaxImportSize: 1 << 30,
		PriceSources:  &PriceSources{ModelsDev: "off", LiteLLM: "http://127.0.0.1:9000/litellm.json"},
	}
	got, _ := json.Marshal(app)
	exp, _ := json.Marshal(want)
	if string(got) != string(exp) {
		t.Errorf("got  %s\nwant %s", got, exp)
	}
}

func TestUnmarshalCaddyfileMinimal(t *testing.T) {
	var app App
	if err := app.UnmarshalCaddyfile(caddyfile.NewTestDispenser(`cpam`)); err != nil {
		t.Fatalf("empty cpam option: %v", err)
	}
	if len(app.CPA) != 0 || app.Database != "" || app.AdminKey != "" {
		t.Errorf("empty option set fields: %+v", app)
	}
	app = App{}
	if err := app.UnmarshalCaddyfile(caddyfile.NewTestDispenser(`cpam {
		cpa http://127.0.0.1:8317 {
			management_key {env.K}
		}
	}`)); err != nil {
		t.Fatalf("single unnamed cpa: %v", err)
	}
	if app.CPA[0].Name != "" || app.CPA[0].URL != "http://127.0.0.1:8317" {
		t.Errorf("unnamed upstream parsed as %+v", app.CPA[0])
	}
}

func TestUnmarshalCaddyfileErrors(t *testing.T) {
	const key = "management_key {env.K}"
	tests := []struct {
		name, input, wantErr string
	}{
		{"argument on cpam", `cpam foo`, "wrong argument count"},
		{"unknown option", `cpam {
colour blue
}`, `unknown cpam option "colour"; expected cpa, admin_key, database, retention, cors_origins, session_ttl`},
		{"admin_key twice", `cpam {
admin_key a
			admin_key b
}`, "admin_key is given twice"},
		{"admin_key no value", `cpam {
admin_key
}`, "wrong argument count"},
		{"admin_key two values", `cpam {
admin_key a b
}`, "wrong argument count"},
		{"database twice", `cpam {
database a
			database b
}`, "database is given twice"},
		{"database no value", `cpam {
database
}`, "wrong argument count"},
		{"retention bad", `cpam {
retention forever
}`, `retention "forever": `},
		{"retention short", `cpam {
retention 30m
}`, "retention 30m is too short: raw events must be kept at least 1h"},
		{"retention twice", `cpam {
retention 90d
			retention 30d
}`, "retention is given twice"},
		{"cors empty", `cpam {
cors_origins
}`, "wrong argument count"},
		{"cors wildcard", `cpam {
cors_origins *
}`, `cors_origins: "*" is not allowed: list each origin that may call the API, like https://panel.example.com`},
		{"cors not origin", `cpam {
cors_origins https://a.example.com/path
}`, `cors_origins: "https://a.example.com/path" is not an origin; write scheme://host[:port], like https://panel.example.com`},
		{"cors no scheme", `cpam {
cors_origins a.example.com
}`, `"a.example.com" is not an origin`},
		{"cpa no args", `cpam {
cpa {
` + key + `
}
}`, "cpa takes a URL and an optional name before it: cpa [<name>] <url>"},
		{"cpa three args", `cpam {
cpa a b c {
` + key + `
}
}`, "cpa takes a URL and an optional name before it"},
		{"cpa bad name", `cpam {
cpa Main http://127.0.0.1:8317 {
` + key + `
}
}`, `cpa name "Main" is invalid; use lowercase letters, digits, '-' and '_'`},
		{"cpa bad scheme", `cpam {
cpa ftp://127.0.0.1 {
` + key + `
}
}`, `cpa: url "ftp://127.0.0.1" must start with http:// or https://`},
		{"cpa no host", `cpam {
cpa http:// {
` + key + `
}
}`, `cpa: url "http://" has no host`},
		{"cpa with path", `cpam {
cpa http://127.0.0.1:8317/v0 {
` + key + `
}
}`, `must be CPA's base URL without a path, like http://127.0.0.1:8317`},
		{"cpa with credentials", `cpam {
cpa http://u:p@127.0.0.1:8317 {
` + key + `
}
}`, `must not carry credentials; use management_key`},
		{"cpa without key", `cpam {
cpa http://127.0.0.1:8317
}`, "cpa http://127.0.0.1:8317: management_key is required; add: management_key {env.CPA_MANAGEMENT_KEY}"},
		{"cpa key twice", `cpam {
cpa http://127.0.0.1:8317 {
` + key + `
			` + key + `
}
}`, "management_key is given twice in this cpa block"},
		{"cpa key no value", `cpam {
cpa http://127.0.0.1:8317 {
management_key
}
}`, "wrong argument count"},
		{"cpa unknown option", `cpam {
cpa http://127.0.0.1:8317 {
` + key + `
			queue usage
}
}`, `unknown cpa option "queue"; expected management_key, collector, poll_interval or tls_insecure_skip_verify`},
		{"collector unknown", `cpam {
cpa http://127.0.0.1:8317 {
` + key + `
			collector websocket
}
}`, `unknown collector "websocket"; use auto, subscribe, http or resp`},
		{"poll interval bad", `cpam {
cpa http://127.0.0.1:8317 {
` + key + `
			poll_interval often
}
}`, `poll_interval "often": `},
		{"poll interval too short", `cpam {
cpa http://127.0.0.1:8317 {
` + key + `
			poll_interval 100ms
}
}`, "poll_interval 100ms is out of range: use 1s to 30m0s, and keep it well below CPA's redis-usage-queue-retention-seconds"},
		{"poll interval too long", `cpam {
cpa http://127.0.0.1:8317 {
` + key + `
			poll_interval 1h
}
}`, "poll_interval 1h0m0s is out of range"},
		{"tls flag with value", `cpam {
cpa https://127.0.0.1:8317 {
` + key + `
			tls_insecure_skip_verify yes
}
}`, "wrong argument count"},
		{"two unnamed", `cpam {
cpa http://127.0.0.1:8317 {
` + key + `
}
			cpa http://127.0.0.1:8318 {
` + key + `
}
}`, "cpa http://127.0.0.1:8317 needs a name when several CPA upstreams are configured: cpa <name> <url>"},
		{"duplicate names", `cpam {
cpa a http://127.0.0.1:8317 {
` + key + `
}
			cpa a http://127.0.0.1:8318 {
` + key + `
}
}`, `cpa name "a" is used twice`},
		{"session ttl bad", "cpam {\nsession_ttl forever\n}", `session_ttl "forever": `},
		{"query limit bad", "cpam {\nquery_limit -4\n}", `query_limit "-4" must be a positive number of events`},
		{"import size bad", "cpam {\nmax_import_size huge\n}", `max_import_size "huge" must be a size`},
		{"price source unknown", "cpam {\nprice_sources {\nhuggingface https://x.example\n}\n}", `unknown price source "huggingface"`},
		{"price source not a url", "cpam {\nprice_sources {\nlitellm ftp://x.example/p.json\n}\n}", `price_sources litellm: "ftp://x.example/p.json" is not an http(s) URL`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var app App
			err := app.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tt.input))
			if err == nil {
				t.Fatalf("want error containing %q, got none", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestGlobalOptionGivenTwice(t *testing.T) {
	d := caddyfile.NewTestDispenser(`cpam`)
	first, err := parseGlobalOption(d, nil)
	if err != nil {
		t.Fatalf("first cpam block: %v", err)
	}
	if app, ok := first.(httpcaddyfile.App); !ok || app.Name != "cpam" {
		t.Fatalf("global option returned %#v, want an httpcaddyfile.App named cpam", first)
	}
	_, err = parseGlobalOption(caddyfile.NewTestDispenser(`cpam`), first)
	if err == nil || !strings.Contains(err.Error(), "the cpam global option is given twice") {
		t.Errorf("second cpam block: got %v", err)
	}
}
