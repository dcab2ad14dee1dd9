package usage

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMask(t *testing.T) {
	tests := map[string]string{
		"":                 "",
		"sk-cpa-test-1":    "sk-c…st-1",
		"sk-mock-upstream": "sk-m…ream",
		"123456789":        "1234…6789",
		"12345678":         "****",
		"abc":              "****",
		"ключ-секрет-абв":  "ключ…-абв",
	}
	for in, want := range tests {
		if got := Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMaskEmail(t *testing.T) {
	tests := map[string]string{
		"dev@example.com":    "d***@example.com",
		"d@example.com":      "d***@example.com",
		"élise@example.org":  "é***@example.org",
		"@example.com":       "***@example.com",
		"not-an-email":       "***",
		"":                   "",
		"a.b@c@example.com":  "a***@example.com",
		"user+tag@gmail.com": "u***@gmail.com",
	}
	for in, want := range tests {
		if got := MaskEmail(in); got != want {
			t.Errorf("MaskEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRedactText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain error: model not found", "plain error: model not found"},
		{"Incorrect API key provided: sk-proj-abcdefgh12345678.", "Incorrect API key provided: [REDACTED]."},
		{"key sk-ant-api03-AbCdEf_123-xyz used", "key [REDACTED] used"},
		{"or sk-or-v1-0123456789abcdef", "or [REDACTED]"},
		{"google AIzaSyA1234567890abcdefghijklmno fails", "google [REDACTED] fails"},
		{"xai-0123456789abcdef is bad", "[REDACTED] is bad"},
		{"oauth ya29.a0AfH6SMBxyz0123456789", "oauth [REDACTED]"},
		{"Authorization: Bearer abc.def-ghi_jkl", "Authorization: Bearer [REDACTED]"},
		{"authorization=Basic", "authorization=Basic"},
		{"header Bearer abcdefghijkl", "header Bearer [REDACTED]"},
		{"basic dXNlcjpwYXNzd29yZA==", "basic [REDACTED]"},
		{"jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_nature-x end", "jwt [REDACTED] end"},
		{`{"api_key":"abc"}`, `{"api_key":"[REDACTED]"}`},
		{`{"x-api-key": "short1"}`, `{"x-api-key": "[REDACTED]"}`},
		{"url?key=AIzaSyA1234567890abcdefghijklmno&alt=json", "url?key=[REDACTED]&alt=json"},
		{"url?api_key=hunter2&alt=json", "url?api_key=[REDACTED]&alt=json"},
		{"password=hunter2; path=/", "password=[REDACTED]; path=/"},
		{"access_token: 'tok123'", "access_token: '[REDACTED]'"},
		{`{"max_tokens": 5, "total_tokens": 7}`, `{"max_tokens": 5, "total_tokens": 7}`},
		{"opaque Zx9Qw8Er7Ty6Ui5Op4As3 token", "opaque [REDACTED] token"},
		{"hex 0123456789abcdef0123456789abcdef here", "hex [REDACTED] here"},
		{"uuid 123e4567-e89b-12d3-a456-426614174000 kept", "uuid 123e4567-e89b-12d3-a456-426614174000 kept"},
		{"req_0123456789abcdef0123456789abcdef kept", "req_0123456789abcdef0123456789abcdef kept"},
		{"model gemini-2.5-pro-preview-06-05 kept", "model gemini-2.5-pro-preview-06-05 kept"},
		{"path projects/my-project-123/locations/us-central1 kept", "path projects/my-project-123/locations/us-central1 kept"},
		{"contact dev@example.com now", "contact d***@example.com now"},
		{"task-manager and risk-assessment", "task-manager and risk-assessment"},
		{"bad\xffutf8 sk-live-0123456789", "bad\uFFFDutf8 [REDACTED]"},
	}
	for _, tc := range tests {
		if got := RedactText(tc.in); got != tc.want {
			t.Errorf("RedactText(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

func TestRedactFailBody(t *testing.T) {
	body := `{"error":{"message":"mock rate limit","type":"rate_limit_error","code":"rate_limited"}}`
	if got := RedactFailBody(body); got != body {
		t.Errorf("harmless body changed: %q", got)
	}
	long := strings.Repeat("é", 3000) // 6000 bytes
	got := RedactFailBody(long)
	if len(got) > MaxFailBody || !utf8.ValidString(got) || len(got) < MaxFailBody-1 {
		t.Errorf("truncation: %d bytes valid=%v", len(got), utf8.ValidString(got))
	}
	// A secret straddling the 2 KiB limit is redacted before the cut.
	secret := "sk-live-ABCDEFGH12345678"
	s := strings.Repeat("x ", 1020) + secret + " tail"
	if got := RedactFailBody(s); strings.Contains(got, "ABCDEFGH") {
		t.Errorf("secret fragment survived: %q", got[len(got)-40:])
	}
	// A secret straddling the 64 KiB pre-cut loses its fragment.
	s = strings.Repeat("a ", maxScan/2-4) + "Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1"
	if got := redactBounded(s, maxScan, false); strings.Contains(got, "Zx9Q") {
		t.Errorf("split token kept: %q", got[len(got)-20:])
	}
}

func TestHeaderAllowlist(t *testing.T) {
	allowed := []string{
		"X-Ratelimit-Remaining-Requests", "x-ratelimit-limit-tokens", "X-RateLimit-Reset-Requests",
		"anthropic-ratelimit-requests-remaining", "Anthropic-Ratelimit-Tokens-Reset",
		"retry-after", "Retry-After-Ms", "x-should-retry", "X-Request-Id", "request-id",
		"x-goog-request-id", "ratelimit", "RateLimit-Policy", "x-codex-primary-used-percent",
		"x-codex-secondary-window-minutes", "x-codex-credits-balance", "x-codex-plan-type", "cf-ray",
	}
	denied := []string{
		"Set-Cookie", "Cookie", "Authorization", "openai-organization", "openai-project",
		"anthropic-organization-id", "Server", "Content-Type", "Date", "x-ratelimit-", "X-Codex-Account-Id",
		"www-authenticate", "x-api-key", "Via",
	}
	for _, h := range allowed {
		if !HeaderAllowed(h) {
			t.Errorf("%s should be allowed", h)
		}
	}
	for _, h := range denied {
		if HeaderAllowed(h) {
			t.Errorf("%s should be dropped", h)
		}
	}
}

func TestFilterHeaders(t *testing.T) {
	in := map[string][]string{
		"Content-Type":                         {"application/json"},
		"Set-Cookie":                           {"session=sk-secret-abcdefgh1234"},
		"Openai-Organization":                  {"org-123"},
		"x-ratelimit-remaining-requests":       {" 99 ", "98"},
		"X-Request-Id":                         {"req_0123456789abcdef0123456789abcdef"},
		"request-id":                           {"req_011CSHoEeqs5C35K2UUqR7Fy"},
		"Retry-After":                          {"1\r\nInjected: yes"},
		"X-Ratelimit-Reset-Tokens":             {"sk-live-ABCDEFGH12345678"},
		"X-Ratelimit-Limit-Requests":           {},
		"x-ratelimit-sk-live-abcdefgh123":      {"1"},
		"X-Ratelimit-Zx9Qw8Er7Ty6Ui5Op4As3Df2": {"1"},
		"anthropic-ratelimit-tokens-reset":     {strings.Repeat("9", 400)},
	}
	want := map[string]string{
		"X-Ratelimit-Remaining-Requests":   "99",
		"X-Request-Id":                     "req_0123456789abcdef0123456789abcdef",
		"Request-Id":                       "req_011CSHoEeqs5C35K2UUqR7Fy",
		"Retry-After":                      "1Injected: yes",
		"X-Ratelimit-Reset-Tokens":         Redacted,
		"Anthropic-Ratelimit-Tokens-Reset": strings.Repeat("9", MaxHeaderValue),
	}
	got := FilterHeaders(in)
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if FilterHeaders(map[string][]string{"Date": {"x"}}) != nil || FilterHeaders(nil) != nil {
		t.Error("nothing kept should be nil")
	}
	many := map[string][]string{}
	for i := range 100 {
		many["x-ratelimit-n"+strings.Repeat("a", i%10)+string(rune('a'+i%26))+string(rune('a'+i/26))] = []string{"1"}
	}
	if got := FilterHeaders(many); len(got) != MaxHeaders {
		t.Errorf("kept %d headers, want %d", len(got), MaxHeaders)
	}
}
