package usage

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cpam-caddy/cpam/cpasim"
)

var testSecret = []byte("0123456789abcdef-test-secret-key")

// hmacHex computes the expected Secret.Hash independently.
func hmacHex(v string) string {
	m := hmac.New(sha256.New, testSecret)
	m.Write([]byte(v))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

type fakeAttributor map[string]Account

func (f fakeAttributor) Lookup(upstream, authIndex string) (Account, bool) {
	a, ok := f[upstream+"/"+authIndex]
	return a, ok
}

func newTestNormalizer(t testing.TB, book *PriceBook) *Normalizer {
	t.Helper()
	attr := fakeAttributor{
		"cpa1/3805471f4b0ffac9": {Label: "mock upstream", Provider: "openai-compatibility"},
	}
	n, err := NewNormalizer(testSecret, attr, book)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// successRecord is the §5.5 successful attempt, built with the simulator.
func successRecord() cpasim.Record {
	ts, _ := time.Parse(time.RFC3339Nano, "2026-11-27T01:07:08.613320096Z")
	tok := cpasim.DefaultUsage.Tokens()
	return cpasim.Record{
		Timestamp: ts, LatencyMs: 7, TTFTMs: 6,
		Source: "sk-mock-upstream", AuthIndex: "3805471f4b0ffac9",
		ClientIP: "127.0.0.1", UserAgent: "curl/7.88.1",
		Tokens: tok, Generate: true,
		Fail: cpasim.Fail{StatusCode: 200},
		ResponseHeaders: map[string][]string{
			"Content-Length": {"376"}, "Content-Type": {"application/json"},
			"Date":                           {"Fri, 27 Nov 2026 01:07:08 GMT"},
			"X-Ratelimit-Remaining-Requests": {"99"}, "X-Request-Id": {"mock-req-1"},
		},
		AccountingVersion: cpasim.AccountingVersion,
		TokenBreakdown:    cpasim.BuildBreakdown(cpasim.ProviderFamily("openai-compatible-mock"), tok),
		Provider:          "openai-compatible-mock", ExecutorType: "OpenAICompatExecutor",
		Model: "mock-gpt", Alias: "mock-gpt", Endpoint: "POST /v1/chat/completions",
		AuthType: "apikey", APIKey: "sk-cpa-test-1", RequestID: "f936c1b1", ServiceTier: "auto",
	}
}

// failedRecord is the §5.5 failed 429 attempt.
func failedRecord() cpasim.Record {
	r := successRecord()
	r.Failed = true
	r.Fail = cpasim.Fail{StatusCode: 429, Body: `{"error":{"message":"mock rate limit","type":"rate_limit_error","code":"rate_limited"}}`}
	r.LatencyMs, r.TTFTMs = 0, 0
	r.Model, r.Alias = "mock-fail", "mock-fail"
	r.RequestID = "f1c0ced8"
	r.Tokens = cpasim.Tokens{CacheReadTokensPresent: true}
	r.TokenBreakdown = cpasim.BuildBreakdown(cpasim.ProviderFamily(r.Provider), r.Tokens)
	r.ResponseHeaders = map[string][]string{"Retry-After": {"1"}, "Content-Type": {"application/json"}}
	return r
}

func marshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// legacyJSON marshals r in the pre-v7.2.97 shape (no accounting_version,
// token_breakdown, client fields or access_token_sha256).
func legacyJSON(t testing.TB, r cpasim.Record) []byte {
	return dropKeys(t, marshal(t, r), "accounting_version", "token_breakdown", "client_ip",
		"x_forwarded_for", "user_agent", "access_token_sha256")
}

// v610JSON marshals r the way CPA v6.10.x did: only the fields of v6.10.0.
func v610JSON(t testing.TB, r cpasim.Record) []byte {
	return dropKeys(t, legacyJSON(t, r), "fail", "generate", "response_headers", "ttft_ms",
		"reasoning_effort", "service_tier", "executor_type", "response_service_tier",
		"tokens.cache_read_tokens", "tokens.cache_read_tokens_present", "tokens.cache_creation_tokens")
}

func dropKeys(t testing.TB, b []byte, keys ...string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if sub, ok := strings.CutPrefix(k, "tokens."); ok {
			if tok, ok := m["tokens"].(map[string]any); ok {
				delete(tok, sub)
			}
			continue
		}
		delete(m, k)
	}
	return marshal(t, m)
}
