package mgmt

import (
	"testing"
)

func TestAPIKeysList(t *testing.T) {
	s, _ := newTestState(t, nil)
	expect(t, do(t, s, "GET", "/api-keys", nil), 200, `{"api-keys":["sk-cpa-test-1","sk-cpa-test-2"]}`)

	expect(t, do(t, s, "PUT", "/api-keys", []string{"a", "b"}), 200, `{"status":"ok"}`)
	expect(t, do(t, s, "GET", "/api-keys", nil), 200, `{"api-keys":["a","b"]}`)
	expect(t, do(t, s, "PUT", "/api-keys", map[string]any{"items": []string{"c", "d"}}), 200, `{"status":"ok"}`)
	expect(t, do(t, s, "PUT", "/api-keys", map[string]any{"items": []string{}}), 400, `{"error":"invalid body"}`)
	expect(t, do(t, s, "PUT", "/api-keys", map[string]any{"other": 1}), 400, `{"error":"invalid body"}`)
	expect(t, do(t, s, "GET", "/api-keys", nil), 200, `{"api-keys":["c","d"]}`)
	if !s.ClientKeyValid("c") || s.ClientKeyValid("sk-cpa-test-1") {
		t.Fatal("client keys not applied")
	}

	expect(t, do(t, s, "PATCH", "/api-keys", map[string]any{"index": 1, "value": "d2"}), 200, `{"status":"ok"}`)
	expect(t, do(t, s, "PATCH", "/api-keys", map[string]any{"old": "c", "new": "c2"}), 200, `{"status":"ok"}`)
	expect(t, do(t, s, "PATCH", "/api-keys", map[string]any{"old": "zz", "new": "e"}), 200, `{"status":"ok"}`)
	expect(t, do(t, s, "GET", "/api-keys", nil), 200, `{"api-keys":["c2","d2","e"]}`)
	expect(t, do(t, s, "PATCH", "/api-keys", map[string]any{"index": 7, "value": "x"}), 404, `{"error":"item not found"}`)
	expect(t, do(t, s, "PATCH", "/api-keys", map[string]any{"foo": 1}), 400, `{"error":"missing fields"}`)
	expect(t, do(t, s, "PATCH", "/api-keys", "nope"), 400, `{"error":"invalid body"}`)

	expect(t, do(t, s, "DELETE", "/api-keys?value=d2", nil), 200, `{"status":"ok"}`)
	expect(t, do(t, s, "DELETE", "/api-keys?index=0", nil), 200, `{"status":"ok"}`)
	expect(t, do(t, s, "GET", "/api-keys", nil), 200, `{"api-keys":["e"]}`)
	expect(t, do(t, s, "DELETE", "/api-keys", nil), 400, `{"error":"missing index or value"}`)
	expect(t, do(t, s, "DELETE", "/api-keys?index=5", nil), 404, `{"error":"item not found"}`)
}

func TestProviderKeyLists(t *testing.T) {
	s, _ := newTestState(t, nil)
	idxA := keyAuthIndex("claude-api-key", "https://a.example", "dup")
	idxB := keyAuthIndex("claude-api-key", "https://b.example", "dup")

	expect(t, do(t, s, "PUT", "/claude-api-key", map[string]any{"items": []map[string]any{
		{"api-key": "dup", "base-url": "https://a.example", "weight": 2},
		{"api-key": "dup", "base-url": "https://b.example", "models": []map[string]any{{"name": "claude-sonnet-4-5", "alias": "sonnet"}}},
		{"api-key": "solo"},
	}}), 200, `{"status":"ok"}`)
	expect(t, do(t, s, "GET", "/claude-api-key", nil), 200, `{"claude-api-key":[
		{"api-key":"dup","base-url":"https://a.example","weight":2,"auth-index":"`+idxA+`"},
		{"api-key":"dup","base-url":"https://b.example","models":[{"name":"claude-sonnet-4-5","alias":"sonnet"}],"auth-index":"`+idxB+`"},
		{"api-key":"solo","auth-index":"`+keyAuthIndex("claude-api-key", "", "solo")+`"}]}`)

	var sonnet *Credential
	for _, c := range s.Credentials("sonnet") {
		if c.AuthIndex == idxB {
			c := c
			sonnet = &c
		}
	}
	if sonnet == nil || sonnet.UpstreamModel("sonnet") != "claude-sonnet-4-5" || sonnet.Source != "dup" {
		t.Fatalf("alias credential = %+v", sonnet)
	}

	expect(t, do(t, s, "PATCH", "/claude-api-key", map[string]any{"match": "dup", "value": map[string]any{"prefix": "x"}}), 400,
		`{"error":"multiple items match; index is required"}`)
	expect(t, do(t, s, "PATCH", "/claude-api-key", map[string]any{"match": "none", "value": map[string]any{"prefix": "x"}}), 404,
		`{"error":"item not found"}`)
	expect(t, do(t, s, "PATCH", "/claude-api-key", map[string]any{"index": 9, "value": map[string]any{"prefix": "x"}}), 404,
		`{"error":"item not found"}`)
	expect(t, do(t, s, "PATCH", "/claude-api-key", map[string]any{"index": 0}), 400, `{"error":"invalid body"}`)
	expect(t, do(t, s, "PATCH", "/claude-api-key", map[string]any{"index": 0, "value": map[string]any{"weight": -1}}), 400,
		`{"error":"weight must be >= 0"}`)
	expect(t, do(t, s, "PATCH", "/claude-api-key", map[string]any{"match": "solo", "value": map[string]any{"prefix": "team"}}), 200, `{"status":"ok"}`)
	expect(t, do(t, s, "PATCH", "/claude-api-key", map[string]any{"index": 0, "value": map[string]any{"weight": 5}}), 200, `{"status":"ok"}`)

	rec := do(t, s, "GET", "/claude-api-key", nil)
	list := decode(t, rec)["claude-api-key"].([]any)
	if list[0].(map[string]any)["weight"] != float64(5) || list[2].(map[string]any)["prefix"] != "team" {
		t.Fatalf("patched list = %s", rec.Body.String())
	}
	// The prefixed credential serves "team/<model>".
	found := false
	for _, c := range s.Credentials("team/claude-haiku-4-5") {
		if c.Source == "solo" && c.UpstreamModel("team/claude-haiku-4-5") == "claude-haiku-4-5" {
			found = true
		}
	}
	if !found {
		t.Fatal("prefixed model did not select the prefixed credential")
	}

	expect(t, do(t, s, "DELETE", "/claude-api-key?api-key=dup", nil), 400, `{"error":"multiple items match api-key; base-url is required"}`)
	expect(t, do(t, s, "DELETE", "/claude-api-key?api-key=nope", nil), 404, `{"error":"item not found"}`)
	expect(t, do(t, s, "DELETE", "/claude-api-key", nil), 400, `{"error":"missing api-key or index"}`)
	expect(t, do(t, s, "DELETE", "/claude-api-key?api-key=dup&base-url=https://a.example", nil), 200, `{"status":"ok"}`)
	expect(t, do(t, s, "DELETE", "/claude-api-key?index=1", nil), 200, `{"status":"ok"}`)
	expect(t, do(t, s, "GET", "/claude-api-key", nil), 200, `{"claude-api-key":[
		{"api-key":"dup","base-url":"https://b.example","models":[{"name":"claude-sonnet-4-5","alias":"sonnet"}],"auth-index":"`+idxB+`"}]}`)

	// Every section answers under its own key; vertex requires api-key.
	for _, sec := range keySections {
		expect(t, do(t, s, "PUT", "/"+sec.name, []map[string]any{{"api-key": "k-" + sec.name}}), 200, `{"status":"ok"}`)
		m := decode(t, do(t, s, "GET", "/"+sec.name, nil))
		entries := m[sec.name].([]any)
		if len(entries) != 1 || entries[0].(map[string]any)["auth-index"] != keyAuthIndex(sec.name, "", "k-"+sec.name) {
			t.Errorf("%s = %v", sec.name, m)
		}
	}
	expect(t, do(t, s, "PUT", "/vertex-api-key", []map[string]any{{"base-url": "https://x"}}), 400, `{"error":"api-key is required"}`)
	expect(t, do(t, s, "PUT", "/gemini-api-key", map[string]any{"items": []any{}}), 400, `{"error":"invalid body"}`)
	expect(t, do(t, s, "PUT", "/gemini-api-key", []any{}), 200, `{"status":"ok"}`)
	expect(t, do(t, s, "GET", "/gemini-api-key", nil), 200, `{"gemini-api-key":[]}`)
}

func TestOpenAICompatibilityFailoverSetup(t *testing.T) {
	s, _ := newTestState(t, nil)
	body := []map[string]any{{
		"name": "mock", "base-url": "http://127.0.0.1:18080/v1",
		"api-key-entries": []map[string]any{{"api-key": "sk-mock-busy"}, {"api-key": "sk-mock-upstream"}},
		"models":          []map[string]any{{"name": "mock-gpt", "alias": "mock-gpt"}, {"name": "mock-fail", "alias": "mock-fail"}},
	}}
	expect(t, do(t, s, "PUT", "/openai-compatibility", body), 200, `{"status":"ok"}`)
	expect(t, do(t, s, "PUT", "/request-retry", map[string]any{"value": 1}), 200, `{"status":"ok"}`)
	creds := s.Credentials("mock-gpt")
	if len(creds) != 2 || creds[0].Source != "sk-mock-busy" || creds[1].Source != "sk-mock-upstream" || creds[1].AuthIndex != mockIndex {
		t.Fatalf("credentials = %+v", creds)
	}
	if s.RequestRetry() != 1 {
		t.Fatal("request-retry not applied")
	}
	rec := do(t, s, "GET", "/openai-compatibility", nil)
	entry := decode(t, rec)["openai-compatibility"].([]any)[0].(map[string]any)
	keys := entry["api-key-entries"].([]any)
	if keys[1].(map[string]any)["auth-index"] != mockIndex || keys[0].(map[string]any)["auth-index"] != keyAuthIndex("openai-compatibility", "http://127.0.0.1:18080/v1", "sk-mock-busy") {
		t.Fatalf("entries = %v", keys)
	}

	expect(t, do(t, s, "PATCH", "/openai-compatibility", map[string]any{"name": "mock", "value": map[string]any{"disabled": true}}), 200, `{"status":"ok"}`)
	if len(s.Credentials("mock-gpt")) != 0 {
		t.Fatal("disabled provider still routed")
	}
	expect(t, do(t, s, "PATCH", "/openai-compatibility", map[string]any{"index": 0, "value": map[string]any{"disabled": false}}), 200, `{"status":"ok"}`)
	expect(t, do(t, s, "PATCH", "/openai-compatibility", map[string]any{"name": "nope", "value": map[string]any{}}), 404, `{"error":"item not found"}`)
	expect(t, do(t, s, "PUT", "/openai-compatibility", map[string]any{"items": []any{}}), 400, `{"error":"invalid body"}`)
	expect(t, do(t, s, "DELETE", "/openai-compatibility", nil), 400, `{"error":"missing name or index"}`)
	expect(t, do(t, s, "DELETE", "/openai-compatibility?name=nope", nil), 404, `{"error":"item not found"}`)
	expect(t, do(t, s, "DELETE", "/openai-compatibility?name=mock", nil), 200, `{"status":"ok"}`)
	expect(t, do(t, s, "GET", "/openai-compatibility", nil), 200, `{"openai-compatibility":[]}`)
}

func TestOAuthMaps(t *testing.T) {
	s, _ := newTestState(t, nil)
	expect(t, do(t, s, "GET", "/oauth-excluded-models", nil), 200, `{"oauth-excluded-models":{}}`)
	expect(t, do(t, s, "PATCH", "/oauth-excluded-models", map[string]any{"provider": "claude", "models": []string{"claude-opus-*"}}), 200, `{"status":"ok"}`)
	expect(t, do(t, s, "GET", "/oauth-excluded-models", nil), 200, `{"oauth-excluded-models":{"claude":["claude-opus-*"]}}`)
	for _, c := range s.Credentials("claude-opus-4-1") {
		if c.AuthType == "oauth" {
			t.Fatalf("excluded model still served by %+v", c)
		}
	}
	expect(t, do(t, s, "PUT", "/oauth-excluded-models", map[string]any{"codex": []string{"gpt-5"}}), 200, `{"status":"ok"}`)
	expect(t, do(t, s, "GET", "/oauth-excluded-models", nil), 200, `{"oauth-excluded-models":{"codex":["gpt-5"]}}`)
	expect(t, do(t, s, "DELETE", "/oauth-excluded-models?provider=nope", nil), 404, `{"error":"provider not found"}`)
	expect(t, do(t, s, "DELETE", "/oauth-excluded-models", nil), 400, `{"error":"missing provider"}`)
	expect(t, do(t, s, "DELETE", "/oauth-excluded-models?provider=codex", nil), 200, `{"status":"ok"}`)
	expect(t, do(t, s, "PATCH", "/oauth-excluded-models", map[string]any{"models": []string{"x"}}), 400, `{"error":"invalid body"}`)

	expect(t, do(t, s, "PATCH", "/oauth-model-alias", map[string]any{"channel": "claude",
		"aliases": []map[string]any{{"name": "claude-sonnet-4-5", "alias": "sonnet-latest", "fork": true}}}), 200, `{"status":"ok"}`)
	expect(t, do(t, s, "GET", "/oauth-model-alias", nil), 200,
		`{"oauth-model-alias":{"claude":[{"name":"claude-sonnet-4-5","alias":"sonnet-latest","fork":true}]}}`)
	var via *Credential
	for _, c := range s.Credentials("sonnet-latest") {
		if c.AuthType == "oauth" {
			c := c
			via = &c
		}
	}
	if via == nil || via.UpstreamModel("sonnet-latest") != "claude-sonnet-4-5" {
		t.Fatalf("alias not routed: %+v", via)
	}
	expect(t, do(t, s, "DELETE", "/oauth-model-alias?channel=claude", nil), 200, `{"status":"ok"}`)
	expect(t, do(t, s, "GET", "/oauth-model-alias", nil), 200, `{"oauth-model-alias":{}}`)

	expect(t, do(t, s, "PUT", "/oauth-request-scoped-errors", map[string]any{"codex": []map[string]any{{"status": 429, "match": "quota", "action": "retry"}}}), 200, `{"status":"ok"}`)
	expect(t, do(t, s, "GET", "/oauth-request-scoped-errors", nil), 200,
		`{"oauth-request-scoped-errors":{"codex":[{"status":429,"match":"quota","action":"retry"}]}}`)
	if _, ok := decode(t, do(t, s, "GET", "/config", nil))["oauth-request-scoped-errors"]; !ok {
		t.Fatal("/config lacks oauth-request-scoped-errors once set")
	}
}
