package mgmt

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestDefaultConfiguration(t *testing.T) {
	s, _ := newTestState(t, nil)

	rec := do(t, s, "GET", "/config", nil)
	cfg := decode(t, rec)
	for _, hidden := range []string{"host", "port", "remote-management", "auth-dir"} {
		if _, ok := cfg[hidden]; ok {
			t.Errorf("/config exposes %q", hidden)
		}
	}
	want := strings.Split("antigravity, api-keys, auth-auto-refresh-workers, claude-api-key, claude-code, claude-header-defaults, codex, codex-api-key, codex-header-defaults, commercial-mode, credential-concurrency, credential-in-flight, debug, disable-claude-cloak-mode, disable-cooling, disable-image-generation, error-logs-max-files, force-model-prefix, gemini-api-key, interactions-api-key, logging-to-file, logs-max-total-size-mb, max-retry-credentials, max-retry-interval, openai-compatibility, passthrough-headers, payload, plugins, pprof, proxy-url, quota-exceeded, redis-usage-queue-retention-seconds, request-log, request-retry, routing, save-cooldown-status, streaming, tls, transient-error-cooldown-seconds, usage-statistics-enabled, vertex-api-key, ws-auth, xai, xai-api-key", ", ")
	var got []string
	for k := range cfg {
		got = append(got, k)
	}
	sort.Strings(got)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("/config keys = %v\nwant %v", got, want)
	}
	if cfg["usage-statistics-enabled"] != true || cfg["redis-usage-queue-retention-seconds"] != float64(60) {
		t.Errorf("usage defaults = %v / %v", cfg["usage-statistics-enabled"], cfg["redis-usage-queue-retention-seconds"])
	}
	keys := cfg["api-keys"].([]any)
	if len(keys) != 2 || keys[0] != "sk-cpa-test-1" || keys[1] != "sk-cpa-test-2" {
		t.Errorf("api-keys = %v", keys)
	}

	rec = do(t, s, "GET", "/openai-compatibility", nil)
	compat := decode(t, rec)["openai-compatibility"].([]any)[0].(map[string]any)
	entry := compat["api-key-entries"].([]any)[0].(map[string]any)
	if entry["api-key"] != "sk-mock-upstream" || entry["auth-index"] != mockIndex {
		t.Fatalf("api-key-entries[0] = %v", entry)
	}
	if compat["name"] != "mock" || compat["base-url"] != "http://127.0.0.1:18080/v1" {
		t.Errorf("compat entry = %v", compat)
	}

	creds := s.Credentials("mock-gpt")
	if len(creds) != 1 {
		t.Fatalf("Credentials(mock-gpt) = %+v", creds)
	}
	c := creds[0]
	if c.AuthIndex != mockIndex || c.Provider != "openai-compatible-mock" || c.ExecutorType != "OpenAICompatExecutor" ||
		c.AuthType != "apikey" || c.Source != "sk-mock-upstream" || c.BaseURL != "http://127.0.0.1:18080/v1" || c.APIKey != "sk-mock-upstream" {
		t.Errorf("mock credential = %+v", c)
	}
	if !s.ClientKeyValid("sk-cpa-test-1") || s.ClientKeyValid("nope") {
		t.Error("ClientKeyValid wrong")
	}
	if s.Secret() != "test-mgmt-key" || s.AllowRemote() || !s.UsageStatisticsEnabled() || s.RetentionSeconds() != 60 || s.RequestRetry() != 0 {
		t.Error("accessor defaults wrong")
	}

	byProvider := map[string]Credential{}
	for _, c := range s.Credentials("claude-sonnet-4-5") {
		byProvider[c.ExecutorType+"/"+c.AuthType] = c
	}
	if c, ok := byProvider["ClaudeExecutor/apikey"]; !ok || c.Provider != "claude" {
		t.Errorf("claude api key credential missing: %+v", byProvider)
	}
	if c, ok := byProvider["ClaudeExecutor/oauth"]; !ok || c.Source != "demo@example.com" || c.AccessToken == "" {
		t.Errorf("claude oauth credential missing: %+v", byProvider)
	}
	for model, provider := range map[string]string{"gpt-5-codex": "codex", "gemini-2.5-pro": "gemini-cli", "gemini-3-pro-preview": "antigravity"} {
		found := false
		for _, c := range s.Credentials(model) {
			if c.Provider == provider && c.AuthType == "oauth" {
				found = true
			}
		}
		if !found {
			t.Errorf("no %s oauth credential for %s", provider, model)
		}
	}
	models := s.Models()
	for _, m := range []string{"mock-gpt", "mock-fail", "claude-sonnet-4-5", "gpt-5-codex", "gemini-2.5-pro"} {
		if !slices.Contains(models, m) {
			t.Errorf("Models() lacks %s", m)
		}
	}
	if c := s.Config(); c.Routing.Strategy != "round-robin" || len(c.OpenAICompatibility) != 1 || c.RemoteManagement.SecretKey != fakeBcrypt("test-mgmt-key") {
		t.Errorf("Config() = %+v", c)
	}
	if AuthIndex("openai-compatibility:http://127.0.0.1:18080/v1+sk-mock-upstream") != mockIndex {
		t.Error("AuthIndex seed mismatch")
	}
}

func TestConfigYAML(t *testing.T) {
	s, _ := newTestState(t, nil)
	rec := do(t, s, "GET", "/config.yaml", nil)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/yaml" || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("GET config.yaml = %d %v", rec.Code, rec.Header())
	}
	body := rec.Body.String()
	if !strings.Contains(body, "$2a$10$") || strings.Contains(body, "test-mgmt-key") {
		t.Fatalf("config.yaml must hold a bcrypt-style hash, not the key:\n%s", body)
	}

	// Round trip with comments; the GET result can be PUT back unchanged.
	doc := strings.Replace(body, "request-retry: 0", "request-retry: 2 # retry twice", 1)
	doc = "# my header comment\n" + doc
	expect(t, do(t, s, "PUT", "/config.yaml", doc), 200, `{"ok":true,"changed":["config"]}`)
	if got := do(t, s, "GET", "/config.yaml", nil).Body.String(); got != doc {
		t.Fatalf("config.yaml not stored verbatim:\n%s", got)
	}
	if s.RequestRetry() != 2 {
		t.Fatalf("RequestRetry = %d", s.RequestRetry())
	}
	// A management write keeps the comments.
	expect(t, do(t, s, "PUT", "/debug", map[string]any{"value": true}), 200, `{"status":"ok"}`)
	got := do(t, s, "GET", "/config.yaml", nil).Body.String()
	for _, want := range []string{"# my header comment", "# retry twice", "debug: true", "# Client keys accepted on /v1."} {
		if !strings.Contains(got, want) {
			t.Errorf("after PUT /debug config.yaml lacks %q:\n%s", want, got)
		}
	}

	// A plaintext secret is hashed and becomes the management key.
	doc2 := strings.Replace(got, s.cfg.RemoteManagement.SecretKey, "new-secret", 1)
	expect(t, do(t, s, "PUT", "/config.yaml", doc2), 200, `{"ok":true,"changed":["config"]}`)
	if s.Secret() != "new-secret" {
		t.Fatalf("Secret = %q", s.Secret())
	}
	if y := do(t, s, "GET", "/config.yaml", nil).Body.String(); strings.Contains(y, "new-secret") || !strings.Contains(y, fakeBcrypt("new-secret")) {
		t.Fatalf("plaintext secret kept in file:\n%s", y)
	}

	rec = do(t, s, "PUT", "/config.yaml", "api-keys: [unclosed\n")
	if rec.Code != 400 || decode(t, rec)["error"] != "invalid_yaml" || decode(t, rec)["message"] == "" {
		t.Fatalf("invalid yaml = %d %s", rec.Code, rec.Body.String())
	}
	// The message is the YAML parser's, naming the line as CPA's does.
	if msg, _ := decode(t, rec)["message"].(string); !strings.HasPrefix(msg, "yaml: line 1: ") {
		t.Fatalf("invalid yaml message = %q, want the parser's \"yaml: line 1: ...\"", msg)
	}
	// A type error names its line too (CPA's strict load reports it as 422).
	rec = do(t, s, "PUT", "/config.yaml", "debug: false\nrequest-retry: abc\n")
	if msg, _ := decode(t, rec)["message"].(string); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(msg, "line 2:") {
		t.Fatalf("type error = %d %q, want 422 naming line 2", rec.Code, msg)
	}
	for _, bad := range []string{"routing:\n  strategy: bogus\n", "request-retry: abc\n", "api-keys: {a: b}\n", "- a\n- b\n"} {
		rec = do(t, s, "PUT", "/config.yaml", bad)
		if rec.Code != http.StatusUnprocessableEntity || decode(t, rec)["error"] != "invalid_config" {
			t.Errorf("PUT %q = %d %s, want 422 invalid_config", bad, rec.Code, rec.Body.String())
		}
	}

	// Retention comes from the document; the accessor clamps it.
	if err := s.LoadYAML([]byte("redis-usage-queue-retention-seconds: 99999\nusage-statistics-enabled: false\n")); err != nil {
		t.Fatal(err)
	}
	if s.RetentionSeconds() != 3600 || s.UsageStatisticsEnabled() {
		t.Fatalf("retention %d usage %v", s.RetentionSeconds(), s.UsageStatisticsEnabled())
	}
	if s.Secret() != "" {
		t.Fatalf("a document without secret-key disables management, got %q", s.Secret())
	}
}

func TestInitialYAMLOption(t *testing.T) {
	doc := `remote-management:
  secret-key: "from-yaml"
  allow-remote: true
api-keys: ["k1"]
redis-usage-queue-retention-seconds: 600
openai-compatibility:
  - name: "mock"
    base-url: "http://127.0.0.1:18080/v1"
    api-key-entries: [{api-key: "sk-mock-busy"}, {api-key: "sk-mock-upstream"}]
    models: [{name: "mock-gpt", alias: "mock-gpt"}]
request-retry: 1
`
	s, _ := newTestState(t, func(o *Options) {
		o.SecretKey = ""
		o.ConfigYAML = []byte(doc)
		o.AuthFiles = map[string][]byte{}
	})
	if s.Secret() != "from-yaml" || !s.AllowRemote() || s.RetentionSeconds() != 600 || s.RequestRetry() != 1 {
		t.Fatalf("secret %q remote %v retention %d retry %d", s.Secret(), s.AllowRemote(), s.RetentionSeconds(), s.RequestRetry())
	}
	creds := s.Credentials("mock-gpt")
	if len(creds) != 2 || creds[0].Source != "sk-mock-busy" || creds[1].AuthIndex != mockIndex {
		t.Fatalf("failover credentials = %+v", creds)
	}
	if strings.Contains(string(s.ConfigYAML()), "from-yaml") {
		t.Fatal("plaintext secret kept")
	}
	if _, err := LoadState(Options{ConfigYAML: []byte("routing: {strategy: nope}\n")}); err == nil {
		t.Fatal("LoadState accepted an invalid config")
	}
}

func TestScalarSettings(t *testing.T) {
	s, _ := newTestState(t, nil)
	for _, tc := range []struct {
		path, key string
		initial   any
		put, want any
	}{
		{"/debug", "debug", false, true, true},
		{"/logging-to-file", "logging-to-file", true, false, false},
		{"/logs-max-total-size-mb", "logs-max-total-size-mb", 0, -5, 0},
		{"/logs-max-total-size-mb", "logs-max-total-size-mb", 0, 200, 200},
		{"/error-logs-max-files", "error-logs-max-files", 10, -1, 10},
		{"/error-logs-max-files", "error-logs-max-files", 10, 3, 3},
		{"/usage-statistics-enabled", "usage-statistics-enabled", true, false, false},
		{"/proxy-url", "proxy-url", "", "socks5://127.0.0.1:1080", "socks5://127.0.0.1:1080"},
		{"/request-log", "request-log", false, true, true},
		{"/ws-auth", "ws-auth", false, true, true},
		{"/request-retry", "request-retry", 0, 3, 3},
		{"/max-retry-credentials", "max-retry-credentials", 0, 2, 2},
		{"/max-retry-interval", "max-retry-interval", 0, 30, 30},
		{"/force-model-prefix", "force-model-prefix", false, true, true},
		{"/quota-exceeded/switch-project", "switch-project", true, false, false},
		{"/quota-exceeded/switch-preview-model", "switch-preview-model", true, false, false},
	} {
		t.Run(tc.path, func(t *testing.T) {
			s, _ := newTestState(t, nil)
			expect(t, do(t, s, "GET", tc.path, nil), 200, jsonOf(t, map[string]any{tc.key: tc.initial}))
			expect(t, do(t, s, "PUT", tc.path, map[string]any{"value": tc.put}), 200, `{"status":"ok"}`)
			expect(t, do(t, s, "GET", tc.path, nil), 200, jsonOf(t, map[string]any{tc.key: tc.want}))
			expect(t, do(t, s, "PATCH", tc.path, map[string]any{"value": tc.put}), 200, `{"status":"ok"}`)
			expect(t, do(t, s, "PUT", tc.path, map[string]any{"nothing": 1}), 400, `{"error":"invalid body"}`)
			expect(t, do(t, s, "PUT", tc.path, map[string]any{"value": []int{1}}), 400, `{"error":"invalid body"}`)
			expect(t, do(t, s, "PUT", tc.path, "not json"), 400, `{"error":"invalid body"}`)
		})
	}
	expect(t, do(t, s, "PUT", "/proxy-url", map[string]any{"value": "http://127.0.0.1:3128"}), 200, `{"status":"ok"}`)
	expect(t, do(t, s, "DELETE", "/proxy-url", nil), 200, `{"status":"ok"}`)
	expect(t, do(t, s, "GET", "/proxy-url", nil), 200, `{"proxy-url":""}`)

	expect(t, do(t, s, "GET", "/routing/strategy", nil), 200, `{"strategy":"round-robin"}`)
	for _, tc := range [][2]string{{"wrr", "weighted-round-robin"}, {"rr", "round-robin"}, {"fill-first", "fill-first"}, {"ff", "fill-first"}} {
		in, want := tc[0], tc[1]
		expect(t, do(t, s, "PUT", "/routing/strategy", map[string]any{"value": in}), 200, `{"status":"ok"}`)
		expect(t, do(t, s, "GET", "/routing/strategy", nil), 200, `{"strategy":"`+want+`"}`)
	}
	expect(t, do(t, s, "PATCH", "/routing/strategy", map[string]any{"value": "random"}), 400, `{"error":"invalid strategy"}`)
	expect(t, do(t, s, "PUT", "/routing/strategy", map[string]any{}), 400, `{"error":"invalid body"}`)
	if r := decode(t, do(t, s, "GET", "/config", nil))["routing"].(map[string]any); r["strategy"] != "fill-first" {
		t.Errorf("/config routing = %v", r)
	}
}

func TestAsyncApplyAndReloadHooks(t *testing.T) {
	// A long delay: the management view changes at once, the runtime
	// view only after the reload, and Close cancels the pending reload.
	slow, _ := newTestState(t, func(o *Options) { o.ReloadDelay = time.Hour })
	var slowHooks atomic.Int32
	slow.OnReload(func() { slowHooks.Add(1) })
	expect(t, do(t, slow, "PUT", "/usage-statistics-enabled", map[string]any{"value": false}), 200, `{"status":"ok"}`)
	expect(t, do(t, slow, "GET", "/usage-statistics-enabled", nil), 200, `{"usage-statistics-enabled":false}`)
	if !slow.UsageStatisticsEnabled() {
		t.Fatal("runtime view changed before the reload")
	}
	slow.Close()
	if slowHooks.Load() != 0 {
		t.Fatal("hook ran after Close")
	}

	// A short delay: the hook fires once the write is applied.
	fast, _ := newTestState(t, func(o *Options) { o.ReloadDelay = 5 * time.Millisecond })
	fired := make(chan bool, 10)
	fast.OnReload(func() { fired <- fast.UsageStatisticsEnabled() })
	expect(t, do(t, fast, "PUT", "/usage-statistics-enabled", map[string]any{"value": false}), 200, `{"status":"ok"}`)
	select {
	case usage := <-fired:
		if usage {
			t.Fatal("hook ran before the change was applied")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("OnReload hook did not fire")
	}

	// Auth file changes fire the hook too.
	expect(t, do(t, fast, "DELETE", "/auth-files?name=claude-demo@example.com.json", nil), 200, "")
	select {
	case <-fired:
	case <-time.After(10 * time.Second):
		t.Fatal("OnReload hook did not fire after an auth file change")
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRetentionClamp follows §7.7: values <= 0 mean 60, values above 3600
// are clamped to 3600.
func TestRetentionClamp(t *testing.T) {
	s, _ := newTestState(t, nil)
	for in, want := range map[string]int{"0": 60, "-5": 60, "1": 1, "3600": 3600, "3601": 3600} {
		doc := "remote-management:\n  secret-key: test-mgmt-key\nredis-usage-queue-retention-seconds: " + in + "\n"
		if err := s.LoadYAML([]byte(doc)); err != nil {
			t.Fatal(err)
		}
		if got := s.RetentionSeconds(); got != want {
			t.Errorf("retention %s → %d, want %d", in, got, want)
		}
	}
	// A document without the key takes the default.
	if err := s.LoadYAML([]byte("usage-statistics-enabled: true\n")); err != nil {
		t.Fatal(err)
	}
	if got := s.RetentionSeconds(); got != 60 {
		t.Errorf("default retention %d", got)
	}
}
