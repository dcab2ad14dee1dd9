package usage

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cpam-caddy/cpam/cpasim"
)

func mockBook(t testing.TB) *PriceBook {
	b, err := NewPriceBook(map[string]Price{"mock-gpt": {Input: 1, Output: 2, CacheRead: 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNewNormalizer(t *testing.T) {
	if _, err := NewNormalizer([]byte("short"), nil, nil); err == nil {
		t.Error("short secret accepted")
	}
	var zero Normalizer
	if _, err := zero.Normalize("u", marshal(t, successRecord())); err == nil {
		t.Error("zero Normalizer worked")
	}
}

// The §5.5 successful attempt gives exactly this event, whether CPA wrote
// it as v7.2 (breakdown) or as an older version (legacy tokens only).
func TestNormalizeSuccessExample(t *testing.T) {
	n := newTestNormalizer(t, mockBook(t))
	want := Event{
		Upstream:     "cpa1",
		Time:         time.Date(2026, 11, 27, 1, 7, 8, 613320096, time.UTC),
		RequestID:    "f936c1b1",
		AuthIndex:    "3805471f4b0ffac9",
		AuthType:     "apikey",
		Provider:     "openai-compatible-mock",
		ExecutorType: "OpenAICompatExecutor",
		Model:        "mock-gpt",
		Alias:        "mock-gpt",
		Endpoint:     "POST /v1/chat/completions",
		APIKey:       Secret{Hash: hmacHex("sk-cpa-test-1"), Mask: "sk-c…st-1"},
		Source:       Source{Kind: SourceAPIKey, Key: Secret{Hash: hmacHex("sk-mock-upstream"), Mask: "sk-m…ream"}},
		ClientIP:     "127.0.0.1",
		UserAgent:    "curl/7.88.1",
		StatusCode:   200,
		LatencyMS:    7,
		TTFTMS:       6,
		Generate:     true,
		ServiceTier:  "auto",
		Tokens:       Tokens{Uncached: 8, CacheRead: 4, Output: 5, Reasoning: 2, Quality: QualityComplete},
		Headers:      map[string]string{"X-Ratelimit-Remaining-Requests": "99", "X-Request-Id": "mock-req-1"},
		Account:      Account{Label: "mock upstream", Provider: "openai-compatibility"},
		// 8×$1 + 4×$0.5 + (5+2)×$2 per 1M tokens = 24 micro-USD.
		Cost: Cost{MicroUSD: 24, Priced: true},
	}
	got, err := n.Normalize("cpa1", marshal(t, successRecord()))
	if err != nil {
		t.Fatal(err)
	}
	want.Hash = got.Hash
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("event\n got %+v\nwant %+v", got, want)
	}
	// Pinned: changing the hash breaks idempotency of existing databases.
	if h := hex.EncodeToString(got.Hash[:]); h != goldenSuccessHash {
		t.Errorf("hash changed: %s", h)
	}

	legacy, err := n.Normalize("cpa1", legacyJSON(t, successRecord()))
	if err != nil {
		t.Fatal(err)
	}
	want.ClientIP, want.UserAgent = "", ""
	want.Tokens.Quality = QualityDerived
	if !reflect.DeepEqual(legacy, want) {
		t.Fatalf("legacy event\n got %+v\nwant %+v", legacy, want)
	}

	old, err := n.Normalize("cpa1", v610JSON(t, successRecord()))
	if err != nil {
		t.Fatal(err)
	}
	want.ExecutorType, want.ServiceTier, want.TTFTMS, want.Headers = "", "", 0, nil
	if !reflect.DeepEqual(old, want) {
		t.Fatalf("v6.10 event\n got %+v\nwant %+v", old, want)
	}
}

const goldenSuccessHash = "621ee370f0bf72802faf935d5019c13f"

func TestNormalizeFailedExample(t *testing.T) {
	n := newTestNormalizer(t, DefaultPriceBook())
	got, err := n.Normalize("cpa1", marshal(t, failedRecord()))
	if err != nil {
		t.Fatal(err)
	}
	want := Event{
		Hash:         got.Hash,
		Upstream:     "cpa1",
		Time:         time.Date(2026, 11, 27, 1, 7, 8, 613320096, time.UTC),
		RequestID:    "f1c0ced8",
		AuthIndex:    "3805471f4b0ffac9",
		AuthType:     "apikey",
		Provider:     "openai-compatible-mock",
		ExecutorType: "OpenAICompatExecutor",
		Model:        "mock-fail",
		Alias:        "mock-fail",
		Endpoint:     "POST /v1/chat/completions",
		APIKey:       Secret{Hash: hmacHex("sk-cpa-test-1"), Mask: "sk-c…st-1"},
		Source:       Source{Kind: SourceAPIKey, Key: Secret{Hash: hmacHex("sk-mock-upstream"), Mask: "sk-m…ream"}},
		ClientIP:     "127.0.0.1",
		UserAgent:    "curl/7.88.1",
		Failed:       true,
		StatusCode:   429,
		FailBody:     `{"error":{"message":"mock rate limit","type":"rate_limit_error","code":"rate_limited"}}`,
		Generate:     true,
		ServiceTier:  "auto",
		Tokens:       Tokens{Quality: QualityComplete},
		Headers:      map[string]string{"Retry-After": "1"},
		Account:      Account{Label: "mock upstream", Provider: "openai-compatibility"},
		Cost:         Cost{}, // mock-fail has no price: unpriced, not free
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("event\n got %+v\nwant %+v", got, want)
	}
}

// The §5.5 failover pair: one request_id, two attempts, two events.
func TestNormalizeFailover(t *testing.T) {
	n := newTestNormalizer(t, nil)
	ts := time.Date(2026, 11, 27, 1, 8, 0, 0, time.UTC)
	busy := successRecord()
	busy.Timestamp, busy.RequestID, busy.Source, busy.AuthIndex = ts, "f92032d8", "sk-mock-busy", "aaaaaaaaaaaaaaaa"
	busy.Failed, busy.Fail = true, cpasim.Fail{StatusCode: 503, Body: "upstream busy"}
	busy.Tokens = cpasim.Tokens{CacheReadTokensPresent: true}
	busy.TokenBreakdown = cpasim.BuildBreakdown(cpasim.FamilySubset, busy.Tokens)
	ok := successRecord()
	ok.Timestamp, ok.RequestID = ts.Add(3*time.Millisecond), "f92032d8"

	e1, err := n.Normalize("cpa1", marshal(t, busy))
	if err != nil {
		t.Fatal(err)
	}
	e2, err := n.Normalize("cpa1", marshal(t, ok))
	if err != nil {
		t.Fatal(err)
	}
	if e1.RequestID != e2.RequestID || e1.Hash == e2.Hash {
		t.Fatalf("failover attempts must share request_id and differ in hash")
	}
	if !e1.Failed || e1.StatusCode != 503 || e1.Tokens.Total() != 0 || e1.Source.Key.Mask != "sk-m…busy" {
		t.Errorf("busy attempt: %+v", e1)
	}
	if e2.Failed || e2.StatusCode != 200 || e2.Tokens.Total() != 19 {
		t.Errorf("ok attempt: %+v", e2)
	}
	if e1.Cost.Priced || e2.Cost.Priced {
		t.Error("nil price book must leave events unpriced")
	}
	// Even with identical timestamps, the attempts differ (auth_index,
	// failed, tokens).
	busy.Timestamp = ok.Timestamp
	e3, _ := n.Normalize("cpa1", marshal(t, busy))
	if e3.Hash == e2.Hash {
		t.Error("same-time failover attempts collide")
	}
}

func TestEventHash(t *testing.T) {
	n := newTestNormalizer(t, nil)
	base := successRecord()
	h := func(upstream string, r cpasim.Record) [16]byte {
		e, err := n.Normalize(upstream, marshal(t, r))
		if err != nil {
			t.Fatal(err)
		}
		if e.Hash != EventHash(&e) {
			t.Fatal("Hash != EventHash")
		}
		return e.Hash
	}
	ref := h("cpa1", base)
	if h("cpa1", base) != ref {
		t.Error("same payload, different hash")
	}
	// Same instant in another offset and as a JSON string: same hash.
	off := base
	off.Timestamp = base.Timestamp.In(time.FixedZone("x", 5*3600+1800))
	if h("cpa1", off) != ref {
		t.Error("timestamp offset changed the hash")
	}
	str, _ := n.Normalize("cpa1", marshal(t, string(marshal(t, base))))
	if str.Hash != ref {
		t.Error("string-encoded record changed the hash")
	}
	// Fields outside the key do not change it.
	other := base
	other.UserAgent, other.ClientIP, other.ResponseHeaders, other.APIKey = "x", "y", nil, "sk-other-key-1"
	if h("cpa1", other) != ref {
		t.Error("non-key fields changed the hash")
	}
	mods := map[string]func(r *cpasim.Record){
		"request_id": func(r *cpasim.Record) { r.RequestID = "00000000" },
		"timestamp":  func(r *cpasim.Record) { r.Timestamp = r.Timestamp.Add(time.Nanosecond) },
		"auth_index": func(r *cpasim.Record) { r.AuthIndex = "0000000000000000" },
		"model":      func(r *cpasim.Record) { r.Model = "other" },
		"endpoint":   func(r *cpasim.Record) { r.Endpoint = "POST /v1/messages" },
		"failed":     func(r *cpasim.Record) { r.Failed = true },
		"tokens": func(r *cpasim.Record) {
			r.TokenBreakdown.Output.ReasoningTokens = 3
			r.TokenBreakdown.Output.TotalTokens = 8
		},
		"latency": func(r *cpasim.Record) { r.LatencyMs = 8 },
	}
	for name, mod := range mods {
		r := base
		r.TokenBreakdown.Output = base.TokenBreakdown.Output
		mod(&r)
		if h("cpa1", r) == ref {
			t.Errorf("changing %s kept the hash", name)
		}
	}
	if h("cpa2", base) == ref {
		t.Error("two upstreams, same hash")
	}
	// Length prefixes: moving bytes between fields changes the hash.
	a, b := base, base
	a.RequestID, a.AuthIndex = "ab", "c"
	b.RequestID, b.AuthIndex = "a", "bc"
	if h("cpa1", a) == h("cpa1", b) {
		t.Error("field boundaries not encoded")
	}
}

func TestClassifySource(t *testing.T) {
	tests := []struct {
		v, authType, provider, apiKey string
		want                          string
	}{
		{"", "apikey", "codex", "", ""},
		{"sk-mock-upstream", "apikey", "openai-compatible-mock", "sk-cpa-test-1", SourceAPIKey},
		{"dev@example.com", "oauth", "codex", "sk-cpa-test-1", SourceEmail},
		{"dev@example.com", "apikey", "codex", "", SourceEmail},
		{"my-gcp-project", "oauth", "vertex", "", SourceProject},
		{"my-gcp-project", "apikey", "vertex", "", SourceAPIKey},
		{"my-gcp-project", "oauth", "gemini", "", SourceOther},
		{"AIzaSyA1234567890abcdefghijklmno", "oauth", "vertex", "", SourceAPIKey},
		{"client-key", "unknown", "codex", "client-key", SourceAPIKey},
		{"weirdkey", "apikey", "kimi", "", SourceAPIKey},
		{"xai-abcdefgh", "oauth", "xai", "", SourceAPIKey},
		{"Zx9Qw8Er7Ty6Ui5Op4As3Df2", "unknown", "x", "", SourceAPIKey},
		{"0123456789abcdef0123456789abcdef", "unknown", "x", "", SourceAPIKey},
		{"local account", "oauth", "claude", "", SourceOther},
		{"eyJhbGciOiJIUzI1NiJ9.e30.x", "oauth", "claude", "", SourceAPIKey},
	}
	for _, tc := range tests {
		if got := ClassifySource(tc.v, tc.authType, tc.provider, tc.apiKey); got != tc.want {
			t.Errorf("ClassifySource(%q, %q, %q) = %q, want %q", tc.v, tc.authType, tc.provider, got, tc.want)
		}
	}
}

func TestNormalizeSources(t *testing.T) {
	n := newTestNormalizer(t, nil)
	tests := []struct {
		source, authType, provider string
		want                       Source
	}{
		{"dev@example.com", "oauth", "codex", Source{Kind: SourceEmail, Value: "dev@example.com"}},
		{"my-gcp-project", "oauth", "vertex", Source{Kind: SourceProject, Value: "my-gcp-project"}},
		{"sk-ant-api03-secretvalue", "apikey", "claude", Source{Kind: SourceAPIKey, Key: Secret{Hash: hmacHex("sk-ant-api03-secretvalue"), Mask: "sk-a…alue"}}},
		{"", "unknown", "codex", Source{}},
		{"local account (Bearer abcdefghijk)", "oauth", "claude", Source{Kind: SourceOther, Value: "local account (Bearer [REDACTED])"}},
	}
	for _, tc := range tests {
		r := successRecord()
		r.Source, r.AuthType, r.Provider = tc.source, tc.authType, tc.provider
		e, err := n.Normalize("cpa1", marshal(t, r))
		if err != nil {
			t.Fatal(err)
		}
		if e.Source != tc.want {
			t.Errorf("source %q: %+v, want %+v", tc.source, e.Source, tc.want)
		}
	}
}

func TestNormalizeDefaults(t *testing.T) {
	n := newTestNormalizer(t, nil)
	e, err := n.Normalize("cpa1", []byte(`{"timestamp":"2026-11-27T01:07:08+01:00","failed":true}`))
	if err != nil {
		t.Fatal(err)
	}
	if !e.Generate || e.StatusCode != 0 || !e.APIKey.IsZero() || e.Source.Kind != "" || e.Headers != nil ||
		e.Time != time.Date(2026, 11, 27, 0, 7, 8, 0, time.UTC) || e.Time.Location() != time.UTC {
		t.Errorf("defaults: %+v", e)
	}
	e, _ = n.Normalize("cpa1", []byte(`{"timestamp":"2026-11-27T01:07:08Z","generate":false}`))
	if e.Generate || e.StatusCode != 200 {
		t.Errorf("generate false / success status: %+v", e)
	}
	long := strings.Repeat("m", 5000)
	e, _ = n.Normalize("cpa1", []byte(`{"timestamp":"2026-11-27T01:07:08Z","model":"`+long+`","user_agent":"`+long+`"}`))
	if len(e.Model) != maxField || len(e.UserAgent) != maxLongField {
		t.Errorf("fields not bounded: %d %d", len(e.Model), len(e.UserAgent))
	}
	if _, err := n.Normalize("cpa1", []byte(`{"refresh":true}`)); !errors.Is(err, ErrControl) {
		t.Errorf("control: %v", err)
	}
}

func TestNormalizerSecret(t *testing.T) {
	n := newTestNormalizer(t, nil)
	s := n.Secret("sk-cpa-test-1")
	if s.Hash != hmacHex("sk-cpa-test-1") || len(s.Hash) != 32 || s.Mask != "sk-c…st-1" {
		t.Errorf("%+v", s)
	}
	if !n.Secret("").IsZero() {
		t.Error("empty secret not zero")
	}
	other, _ := NewNormalizer([]byte("another-secret-of-32-bytes-long!"), nil, nil)
	if other.Secret("sk-cpa-test-1").Hash == s.Hash {
		t.Error("hash does not depend on the database secret")
	}
}

// Secrets planted everywhere a record can carry them never reach the
// event, in any rendering.
func TestNormalizePrivacy(t *testing.T) {
	secrets := []string{
		"sk-cpa-client-SECRET1a2b3c",    // client key
		"sk-proj-UPSTREAMSECRET9z8y7x",  // provider key in source
		"AIzaSyBODYSECRET0123456789abc", // key echoed in fail.body
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2R5In0.c2lnbmF0dXJl",
		"Zx9Qw8Er7Ty6Ui5Op4As3HEADER",  // authorization header
		"ck-session-COOKIE-4f5e6d",     // cookie
		"tok_HeaderRateSecret9Q8W7E6R", // smuggled in an allowed header
		"hunter2-pw",
	}
	r := successRecord()
	r.Failed = true
	r.APIKey = secrets[0]
	r.Source = secrets[1]
	r.AuthType = "apikey"
	r.Fail = cpasim.Fail{StatusCode: 401, Body: fmt.Sprintf(
		`{"error":{"message":"Incorrect API key provided: %s. Token %s","password":"%s"}}`, secrets[2], secrets[3], secrets[7])}
	r.ResponseHeaders = map[string][]string{
		"Authorization":            {"Bearer " + secrets[4]},
		"Set-Cookie":               {"session=" + secrets[5]},
		"X-Ratelimit-Reset-Tokens": {secrets[6]},
		"X-Request-Id":             {"req-1"},
	}
	n := newTestNormalizer(t, DefaultPriceBook())
	payload := marshal(t, r)
	e, err := n.Normalize("cpa1", payload)
	if err != nil {
		t.Fatal(err)
	}
	renderings := map[string]string{
		"%+v":         fmt.Sprintf("%+v", e),
		"%#v":         fmt.Sprintf("%#v", e),
		"json":        string(marshal(t, e)),
		"dead":        string(RedactPayload(payload)),
		"dead string": string(RedactPayload(marshal(t, string(payload)))),
		"dead broken": string(RedactPayload(payload[:len(payload)-1])),
	}
	for name, out := range renderings {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s rendering leaks %q:\n%s", name, s, out)
			}
		}
	}
	if e.APIKey.Mask != "sk-c…3c" && e.APIKey.Mask != Mask(secrets[0]) {
		t.Errorf("mask %q", e.APIKey.Mask)
	}
	var dl map[string]any
	if err := json.Unmarshal(RedactPayload(payload), &dl); err != nil {
		t.Fatalf("dead letter of a JSON record is not JSON: %v", err)
	}
}

func TestNormalizeConcurrent(t *testing.T) {
	n := newTestNormalizer(t, DefaultPriceBook())
	payload := marshal(t, successRecord())
	want, _ := n.Normalize("cpa1", payload)
	done := make(chan Event)
	for i := range 4 {
		go func() {
			var e Event
			for range 50 {
				if i == 0 {
					n.SetPrices(mockBook(t))
				}
				e, _ = n.Normalize("cpa1", payload)
			}
			done <- e
		}()
	}
	for range 4 {
		if e := <-done; e.Hash != want.Hash || e.APIKey != want.APIKey {
			t.Error("concurrent normalisation differs")
		}
	}
}
