package usage

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cpam-caddy/cpam/cpasim"
)

// canary is a planted secret; canaryCore is the part that must never
// appear in any output (a mask may show its first and last 4 characters).
const (
	canary     = "sk-live-CANARYq7Xk29pLm4Zt8Wb3Nc6Vd"
	canaryCore = "CANARYq7Xk29pLm4Zt8Wb3"
)

func fuzzSeeds(f *testing.F) {
	succ := marshal(f, successRecord())
	f.Add(succ, "", "")
	f.Add(marshal(f, failedRecord()), "key ", ".")
	f.Add(legacyJSON(f, successRecord()), "Bearer ", "")
	f.Add(v610JSON(f, successRecord()), `"api_key":"`, `"`)
	f.Add(marshal(f, string(succ)), "x", "y")
	claude := successRecord()
	claude.Provider, claude.AuthType, claude.Source = "claude", "oauth", "dev@example.com"
	claude.Tokens = cpasim.Tokens{InputTokens: 3, OutputTokens: 50, CacheReadTokens: 1000, CacheReadTokensPresent: true, CacheCreationTokens: 200}
	claude.TokenBreakdown = cpasim.BuildBreakdown(cpasim.FamilyIndependent, claude.Tokens)
	f.Add(marshal(f, claude), "eyJ", "@example.com")
	f.Add([]byte(`{"support_refresh":true}`), "", "")
	f.Add([]byte(`{"timestamp":"2026-11-27T01:07:08Z","tokens":{"input_tokens":-5,"total_tokens":9223372036854775807}}`), "AKIA", "")
	f.Add([]byte(`not json at all`), "password=", "")
}

// plant puts the canary into every secret-bearing field of a payload that
// decodes as an object, with fuzzer-chosen text around it in fail.body.
func plant(payload []byte, pre, post string) ([]byte, bool) {
	var m map[string]any
	if json.Unmarshal(payload, &m) != nil || m == nil {
		return nil, false
	}
	m["api_key"] = canary
	m["source"] = canary
	m["fail"] = map[string]any{"status_code": 401, "body": pre + canary + post}
	m["response_headers"] = map[string]any{
		"Authorization":            []any{"Bearer " + canary},
		"X-Request-Id":             []any{canary},
		"X-Ratelimit-Reset-Tokens": []any{canary},
		"Set-Cookie":               []any{"s=" + canary},
	}
	b, err := json.Marshal(m)
	return b, err == nil
}

func checkEvent(t *testing.T, e Event) {
	t.Helper()
	tk := e.Tokens
	for _, v := range []int64{tk.Uncached, tk.CacheRead, tk.CacheWrite, tk.Output, tk.Reasoning, tk.Unclassified} {
		if v < 0 {
			t.Fatalf("negative bucket: %+v", tk)
		}
	}
	if e.Hash != EventHash(&e) {
		t.Fatal("hash mismatch")
	}
	if e.Cost.MicroUSD < 0 {
		t.Fatalf("negative cost %+v", e.Cost)
	}
	if len(e.FailBody) > MaxFailBody || len(e.Headers) > MaxHeaders {
		t.Fatalf("bounds: body %d headers %d", len(e.FailBody), len(e.Headers))
	}
	if e.Time.Location() != time.UTC {
		t.Fatal("time not UTC")
	}
}

func FuzzNormalize(f *testing.F) {
	fuzzSeeds(f)
	n := newTestNormalizer(f, DefaultPriceBook())
	f.Fuzz(func(t *testing.T, payload []byte, pre, post string) {
		if e, err := n.Normalize("cpa1", payload); err == nil {
			checkEvent(t, e)
			e2, _ := n.Normalize("cpa1", payload)
			if e2.Hash != e.Hash {
				t.Fatal("non-deterministic hash")
			}
		}
		planted, ok := plant(payload, pre, post)
		if !ok {
			return
		}
		e, err := n.Normalize("cpa1", planted)
		if err == nil {
			checkEvent(t, e)
			out := fmt.Sprintf("%+v", e) + string(marshal(t, e))
			if strings.Contains(out, canaryCore) {
				t.Fatalf("canary leaked into event: %s", out)
			}
		}
		if out := RedactPayload(planted); strings.Contains(string(out), canaryCore) {
			t.Fatalf("canary leaked into dead letter: %s", out)
		}
	})
}

func FuzzRedactPayload(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, payload []byte, pre, post string) {
		out := RedactPayload(payload)
		if len(out) > maxScan && len(out) > len(payload)+1024 {
			t.Fatalf("dead letter grew: %d → %d", len(payload), len(out))
		}
		// Text carrying the canary anywhere, with fuzzer-chosen context.
		text := []byte(string(payload) + pre + canary + post)
		if out := RedactPayload(text); strings.Contains(string(out), canaryCore) {
			t.Fatalf("canary leaked from text: %q", out)
		}
		if planted, ok := plant(payload, pre, post); ok {
			if out := RedactPayload(planted); strings.Contains(string(out), canaryCore) {
				t.Fatalf("canary leaked from record: %s", out)
			}
		}
		if out := RedactFailBody(pre + canary + post); strings.Contains(out, canaryCore) {
			t.Fatalf("canary leaked from body: %q", out)
		}
	})
}
