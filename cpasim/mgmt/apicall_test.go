package mgmt

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestAPICallLoopback(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "mock-req-1")
		w.WriteHeader(http.StatusTeapot)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"auth": r.Header.Get("Authorization"), "method": r.Method, "path": r.URL.Path,
			"body": string(body), "host": r.Host, "extra": r.Header.Get("X-Extra"),
		})
	}))
	defer upstream.Close()
	s, _ := newTestState(t, nil)

	rec := do(t, s, "POST", "/api-call", map[string]any{
		"authIndex": mockIndex, "method": "post", "url": upstream.URL + "/v1/models",
		"header": map[string]string{"Authorization": "Bearer $TOKEN$", "X-Extra": "k=$TOKEN$", "Host": "mock.internal"},
		"data":   `{"q":1}`,
	})
	m := decode(t, rec)
	if rec.Code != 200 || m["status_code"] != float64(http.StatusTeapot) {
		t.Fatalf("api-call = %d %s", rec.Code, rec.Body.String())
	}
	raw, ok := m["body"].(string)
	if !ok {
		t.Fatalf("body is not a string: %T", m["body"])
	}
	var echoed map[string]any
	if err := json.Unmarshal([]byte(raw), &echoed); err != nil {
		t.Fatal(err)
	}
	if echoed["auth"] != "Bearer sk-mock-upstream" || echoed["extra"] != "k=sk-mock-upstream" || echoed["method"] != "POST" ||
		echoed["body"] != `{"q":1}` || echoed["host"] != "mock.internal" || echoed["path"] != "/v1/models" {
		t.Fatalf("upstream saw %v", echoed)
	}
	if h := m["header"].(map[string]any)["X-Request-Id"].([]any); h[0] != "mock-req-1" {
		t.Fatalf("header = %v", m["header"])
	}

	// OAuth credential tokens substitute too.
	claudeIdx := AuthIndex("claude:/srv/cpa-sim/auths/claude-demo@example.com.json")
	rec = do(t, s, "POST", "/api-call", map[string]any{"auth_index": claudeIdx, "method": "GET", "url": upstream.URL,
		"header": map[string]string{"Authorization": "Bearer $TOKEN$"}})
	_ = json.Unmarshal([]byte(decode(t, rec)["body"].(string)), &echoed)
	if echoed["auth"] != "Bearer sk-ant-oat01-sim-demo-access-token" {
		t.Fatalf("oauth token = %v", echoed["auth"])
	}

	for _, tc := range []struct {
		body any
		want string
		code int
	}{
		{"nope", `{"error":"invalid body"}`, 400},
		{map[string]any{"url": upstream.URL}, `{"error":"missing method"}`, 400},
		{map[string]any{"method": "GET"}, `{"error":"missing url"}`, 400},
		{map[string]any{"method": "GET", "url": "/relative"}, `{"error":"invalid url"}`, 400},
		{map[string]any{"method": "GET", "url": "ftp://x/y"}, `{"error":"invalid url"}`, 400},
		{map[string]any{"method": "GET", "url": upstream.URL, "proxy_url": "::bad"}, `{"error":"invalid proxy_url"}`, 400},
		{map[string]any{"AuthIndex": "0000000000000000", "method": "GET", "url": upstream.URL}, `{"error":"auth token not found"}`, 400},
		{map[string]any{"method": "GET", "url": upstream.URL, "header": map[string]string{"Authorization": "Bearer $TOKEN$"}}, `{"error":"auth token not found"}`, 400},
		{map[string]any{"method": "GET", "url": "https://example.com/"}, `{"error":"request failed"}`, 502},
		{map[string]any{"method": "GET", "url": "http://127.0.0.1:1/"}, `{"error":"request failed"}`, 502},
	} {
		expect(t, do(t, s, "POST", "/api-call", tc.body), tc.code, tc.want)
	}
}

func TestAPICallQuotaSimulation(t *testing.T) {
	s, _ := newTestState(t, nil)
	codexIdx := AuthIndex("codex:/srv/cpa-sim/auths/codex-demo@example.com-plus.json")
	claudeIdx := AuthIndex("claude:/srv/cpa-sim/auths/claude-demo@example.com.json")
	gemIdx := AuthIndex("antigravity:/srv/cpa-sim/auths/antigravity-demo@example.com.json")
	call := func(idx, method, url string, hdr map[string]string) (int, map[string]any) {
		t.Helper()
		if hdr == nil {
			hdr = map[string]string{"Authorization": "Bearer $TOKEN$"}
		}
		rec := do(t, s, "POST", "/api-call", map[string]any{"auth_index": idx, "method": method, "url": url, "header": hdr})
		m := decode(t, rec)
		if rec.Code != 200 {
			t.Fatalf("%s = %d %s", url, rec.Code, rec.Body.String())
		}
		var body map[string]any
		if err := json.Unmarshal([]byte(m["body"].(string)), &body); err != nil {
			t.Fatalf("%s body: %v", url, err)
		}
		return int(m["status_code"].(float64)), body
	}
	code, body := call(codexIdx, "GET", "https://chatgpt.com/backend-api/wham/usage",
		map[string]string{"Authorization": "Bearer $TOKEN$", "Chatgpt-Account-Id": "acc-sim-5f0c1d2e"})
	rl := body["rate_limit"].(map[string]any)
	if code != 200 || body["plan_type"] != "plus" || rl["primary_window"].(map[string]any)["used_percent"] == nil || body["account_id"] != "acc-sim-5f0c1d2e" {
		t.Fatalf("wham/usage = %d %v", code, body)
	}
	code, body = call(claudeIdx, "GET", "https://api.anthropic.com/api/oauth/usage", nil)
	if code != 200 || body["five_hour"].(map[string]any)["utilization"] == nil || body["seven_day"] == nil {
		t.Fatalf("claude usage = %d %v", code, body)
	}
	code, body = call(gemIdx, "POST", "https://cloudcode-pa.googleapis.com/v1internal:retrieveUserQuotaSummary", nil)
	if code != 200 || len(body["buckets"].([]any)) == 0 {
		t.Fatalf("retrieveUserQuotaSummary = %d %v", code, body)
	}
	code, body = call(gemIdx, "POST", "https://cloudcode-pa.googleapis.com/v1internal:loadCodeAssist", nil)
	if code != 200 || body["cloudaicompanionProject"] != "demo-antigravity-project" {
		t.Fatalf("loadCodeAssist = %d %v", code, body)
	}
	code, body = call(mockIndex, "GET", "https://api.kimi.com/coding/v1/usages", nil)
	if code != 200 || body["usage"] == nil {
		t.Fatalf("kimi = %d %v", code, body)
	}
	code, body = call(mockIndex, "GET", "https://cli-chat-proxy.grok.com/v1/billing", nil)
	if code != 200 || body["usage"] == nil {
		t.Fatalf("xai billing = %d %v", code, body)
	}
	code, _ = call(mockIndex, "GET", "https://api.x.ai/v1/me", nil)
	if code != 200 {
		t.Fatalf("xai me = %d", code)
	}
	code, _ = call(codexIdx, "GET", "https://chatgpt.com/backend-api/unknown", nil)
	if code != 404 {
		t.Fatalf("unknown provider path = %d", code)
	}
	code, _ = call("", "GET", "https://api.anthropic.com/api/oauth/usage", map[string]string{})
	if code != 401 {
		t.Fatalf("missing token = %d", code)
	}
}
