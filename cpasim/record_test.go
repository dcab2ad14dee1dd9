package cpasim

import (
	"encoding/json"
	"testing"
	"time"
)

func TestBuildBreakdownWorkedExample(t *testing.T) {
	b := BuildBreakdown(ProviderFamily("openai-compatible-mock"), DefaultUsage.Tokens())
	got, _ := json.Marshal(b)
	want := `{"schema_version":2,"quality":"complete","total_tokens":19,"input":{"total_tokens":12,"uncached_tokens":8,"cache_read_tokens":4,"cache_write_tokens":0},"output":{"total_tokens":7,"non_reasoning_tokens":5,"reasoning_tokens":2},"unclassified_tokens":0}`
	if string(got) != want {
		t.Fatalf("breakdown\n got %s\nwant %s", got, want)
	}
}

func TestBuildBreakdownFamilies(t *testing.T) {
	cases := []struct {
		provider string
		family   Family
		tokens   Tokens
		want     TokenBreakdown
	}{
		{"claude", FamilyIndependent,
			Tokens{InputTokens: 10, OutputTokens: 5, CacheReadTokens: 100, CacheReadTokensPresent: true, CacheCreationTokens: 20, TotalTokens: 135},
			TokenBreakdown{2, QualityComplete, 135, InputBreakdown{130, 10, 100, 20}, OutputBreakdown{5, 5, 0}, 0}},
		{"gemini-cli", FamilySeparateReasoning,
			Tokens{InputTokens: 12, OutputTokens: 5, ReasoningTokens: 3, CachedTokens: 4, TotalTokens: 20},
			TokenBreakdown{2, QualityComplete, 20, InputBreakdown{12, 8, 4, 0}, OutputBreakdown{8, 5, 3}, 0}},
		{"codex", FamilySubset,
			Tokens{InputTokens: 12, OutputTokens: 7, ReasoningTokens: 2, TotalTokens: 25},
			TokenBreakdown{2, QualityUnclassified, 25, InputBreakdown{12, 12, 0, 0}, OutputBreakdown{7, 5, 2}, 6}},
		{"xai", FamilySubset,
			Tokens{InputTokens: 3, OutputTokens: 7, CacheReadTokens: 5, CacheReadTokensPresent: true, TotalTokens: 10},
			TokenBreakdown{2, QualityInconsistent, 10, InputBreakdown{}, OutputBreakdown{}, 10}},
		{"mystery", FamilyUnknown,
			Tokens{InputTokens: 3, OutputTokens: 4, TotalTokens: 7},
			TokenBreakdown{2, QualityUnclassified, 7, InputBreakdown{}, OutputBreakdown{}, 7}},
		{"openai-compatible-x", FamilySubset,
			Tokens{CacheReadTokensPresent: true},
			TokenBreakdown{2, QualityComplete, 0, InputBreakdown{}, OutputBreakdown{}, 0}},
	}
	for _, c := range cases {
		f := ProviderFamily(c.provider)
		if f != c.family {
			t.Errorf("%s: family %v, want %v", c.provider, f, c.family)
		}
		got := BuildBreakdown(f, c.tokens)
		if got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.provider, got, c.want)
		}
		// Invariants.
		if got.TotalTokens != got.Input.TotalTokens+got.Output.TotalTokens+got.UnclassifiedTokens ||
			got.Input.TotalTokens != got.Input.UncachedTokens+got.Input.CacheReadTokens+got.Input.CacheWriteTokens ||
			got.Output.TotalTokens != got.Output.NonReasoningTokens+got.Output.ReasoningTokens ||
			(got.Quality == QualityComplete && got.UnclassifiedTokens != 0) {
			t.Errorf("%s: invariants broken: %+v", c.provider, got)
		}
	}
}

func TestUsageVariesWithPrompt(t *testing.T) {
	if got := usageFor(len("hi")); got != DefaultUsage {
		t.Fatalf("default request usage %+v", got)
	}
	long := usageFor(200)
	if long.PromptTokens <= 12 || long.TotalTokens != long.PromptTokens+long.CompletionTokens {
		t.Fatalf("long prompt usage %+v", long)
	}
}

func TestRecordTimestampFormat(t *testing.T) {
	loc := time.FixedZone("X", 2*3600)
	r := Record{Timestamp: time.Date(2026, 11, 27, 1, 7, 8, 613320096, loc)}
	b, _ := encodeRecord(&r, false)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if m["timestamp"] != "2026-11-27T01:07:08.613320096+02:00" {
		t.Fatalf("timestamp %v", m["timestamp"])
	}
	if _, ok := m["response_headers"]; ok {
		t.Fatalf("nil response_headers must be omitted")
	}
	if _, ok := m["access_token_sha256"]; ok {
		t.Fatalf("empty access_token_sha256 must be omitted")
	}
}

// TestRecordsAreConsistentForEveryFamily: whatever provider serves a
// request, its record's breakdown is complete and holds the same buckets.
func TestRecordsAreConsistentForEveryFamily(t *testing.T) {
	u := DefaultUsage
	for _, provider := range []string{"openai-compatible-mock", "codex", "claude", "gemini-cli", "antigravity"} {
		b := BuildBreakdown(ProviderFamily(provider), u.TokensFor(ProviderFamily(provider)))
		if b.Quality != QualityComplete || b.TotalTokens != 19 || b.Input.UncachedTokens != 8 || b.Input.CacheReadTokens != 4 ||
			b.Output.NonReasoningTokens != 5 || b.Output.ReasoningTokens != 2 || b.UnclassifiedTokens != 0 {
			t.Errorf("%s: breakdown %+v", provider, b)
		}
	}
}
