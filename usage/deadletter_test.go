package usage

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRedactPayloadJSON(t *testing.T) {
	r := successRecord()
	r.Source = "weirdkey" // apikey auth: a key whatever its shape
	r.APIKey = "short"    // too short for any text rule
	r.Fail.Body = "bad key sk-live-ABCDEFGH12345678"
	r.ResponseHeaders["Set-Cookie"] = []string{"a=b"}
	out := RedactPayload(marshal(t, r))
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	checks := map[string]any{
		"api_key":      "****",
		"source":       "****",
		"request_id":   "f936c1b1",
		"auth_index":   "3805471f4b0ffac9",
		"model":        "mock-gpt",
		"timestamp":    "2026-11-27T01:07:08.613320096Z",
		"user_agent":   "curl/7.88.1",
		"latency_ms":   float64(7),
		"failed":       false,
		"provider":     "openai-compatible-mock",
		"service_tier": "auto",
	}
	for k, want := range checks {
		if m[k] != want {
			t.Errorf("%s = %v, want %v", k, m[k], want)
		}
	}
	if body := m["fail"].(map[string]any)["body"]; body != "bad key [REDACTED]" {
		t.Errorf("body %v", body)
	}
	h := m["response_headers"].(map[string]any)
	if len(h) != 2 || h["X-Request-Id"].([]any)[0] != "mock-req-1" {
		t.Errorf("headers %v", h)
	}
	if tb := m["token_breakdown"].(map[string]any); tb["total_tokens"] != float64(19) {
		t.Errorf("breakdown lost: %v", tb)
	}
	// Email sources are attribution and stay; key-shaped ones are masked.
	r.AuthType, r.Source = "oauth", "dev@example.com"
	if out := RedactPayload(marshal(t, r)); !strings.Contains(string(out), `"source":"dev@example.com"`) {
		t.Errorf("email source lost: %s", out)
	}
	// Upper-case keys are handled like Parse would (encoding/json folds case).
	out = RedactPayload([]byte(`{"API_KEY":"topsecret","Password":123,"nested":[{"authorization":"Basic Zm9v"}]}`))
	if strings.Contains(string(out), "topsecret") || strings.Contains(string(out), "123") || strings.Contains(string(out), "Zm9v") {
		t.Errorf("case-folded keys leaked: %s", out)
	}
	// Secret-looking object keys are renamed.
	out = RedactPayload([]byte(`{"sk-live-ABCDEFGH12345678":1}`))
	if strings.Contains(string(out), "ABCDEFGH") {
		t.Errorf("key leaked: %s", out)
	}
}

func TestRedactPayloadText(t *testing.T) {
	tests := []struct{ in, want string }{
		{`not json api_key=abc123 and sk-live-ABCDEFGH12345678`, `not json api_key=[REDACTED] and [REDACTED]`},
		{`{"api_key":"shortkey","source":"weird","timestamp":`, `{"api_key":"[REDACTED]","source":"[REDACTED]","timestamp":`},
		{`"just a string with Bearer abcdefghijklmnop"`, `just a string with Bearer [REDACTED]`},
		{"", ""},
	}
	for _, tc := range tests {
		if got := string(RedactPayload([]byte(tc.in))); got != tc.want {
			t.Errorf("RedactPayload(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
	big := strings.Repeat("é", 100_000) + "\xff"
	out := RedactPayload([]byte(big))
	if len(out) > MaxDeadLetter || !utf8.Valid(out) {
		t.Errorf("text dead letter: %d bytes, valid %v", len(out), utf8.Valid(out))
	}
	// A string-encoded record is redacted as a record.
	out = RedactPayload(marshal(t, string(marshal(t, successRecord()))))
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil || m["api_key"] != "sk-c…st-1" {
		t.Errorf("string record: %v %s", err, out)
	}
}
