package usage

import (
	"math"
	"testing"

	"github.com/cpam-caddy/cpam/cpasim"
)

func TestProviderFamily(t *testing.T) {
	tests := map[string]Family{
		"openai": FamilySubset, "codex": FamilySubset, "xai": FamilySubset, "kimi": FamilySubset,
		"qwen": FamilySubset, "deepseek": FamilySubset, "openrouter": FamilySubset,
		"openai-compatible-mock": FamilySubset, "OpenAI-Compatible-X": FamilySubset,
		"claude": FamilyIndependent, "anthropic": FamilyIndependent,
		"gemini": FamilySeparateReasoning, "gemini-cli": FamilySeparateReasoning, "aistudio": FamilySeparateReasoning,
		"antigravity": FamilySeparateReasoning, "vertex": FamilySeparateReasoning, "interactions": FamilySeparateReasoning,
		"unknown": FamilyUnknown, "": FamilyUnknown, "mystery": FamilyUnknown, "openaiish": FamilyUnknown,
	}
	for p, want := range tests {
		if got := ProviderFamily(p); got != want {
			t.Errorf("ProviderFamily(%q) = %v, want %v", p, got, want)
		}
	}
}

// The §5.5 worked example gives the same buckets from the breakdown and
// from the legacy counters.
func TestWorkedExample(t *testing.T) {
	want := Tokens{Uncached: 8, CacheRead: 4, CacheWrite: 0, Output: 5, Reasoning: 2}
	rec := successRecord()
	for name, payload := range map[string][]byte{
		"breakdown": marshal(t, rec),
		"legacy":    legacyJSON(t, rec),
		"v6.10":     v610JSON(t, rec),
	} {
		r, err := Parse(payload)
		if err != nil {
			t.Fatal(err)
		}
		got := TokensOf(&r)
		wantQ := QualityComplete
		if name != "breakdown" {
			wantQ = QualityDerived
		}
		w := want
		w.Quality = wantQ
		if got != w {
			t.Errorf("%s: %+v, want %+v", name, got, w)
		}
		if got.Total() != 19 || got.Input() != 12 || got.OutputTotal() != 7 {
			t.Errorf("%s: totals %d/%d/%d", name, got.Total(), got.Input(), got.OutputTotal())
		}
	}
}

func TestDeriveTokens(t *testing.T) {
	tests := []struct {
		name string
		f    Family
		in   LegacyTokens
		want Tokens
	}{
		{"subset", FamilySubset,
			LegacyTokens{InputTokens: 12, OutputTokens: 7, ReasoningTokens: 2, CachedTokens: 4, CacheReadTokens: 4, CacheReadTokensPresent: true, TotalTokens: 19},
			Tokens{Uncached: 8, CacheRead: 4, Output: 5, Reasoning: 2, Quality: QualityDerived}},
		{"subset cache write", FamilySubset,
			LegacyTokens{InputTokens: 100, OutputTokens: 10, CacheReadTokens: 30, CacheReadTokensPresent: true, CacheCreationTokens: 20, TotalTokens: 110},
			Tokens{Uncached: 50, CacheRead: 30, CacheWrite: 20, Output: 10, Quality: QualityDerived}},
		{"present flag wins over cached_tokens", FamilySubset,
			LegacyTokens{InputTokens: 10, CachedTokens: 6, CacheReadTokens: 2, CacheReadTokensPresent: true},
			Tokens{Uncached: 8, CacheRead: 2, Quality: QualityDerived}},
		{"no flag: cached_tokens", FamilySubset,
			LegacyTokens{InputTokens: 10, CachedTokens: 6, CacheReadTokens: 2},
			Tokens{Uncached: 4, CacheRead: 6, Quality: QualityDerived}},
		{"no flag, no cached_tokens: cache_read_tokens", FamilySubset,
			LegacyTokens{InputTokens: 10, CacheReadTokens: 2},
			Tokens{Uncached: 8, CacheRead: 2, Quality: QualityDerived}},
		{"claude independent", FamilyIndependent,
			LegacyTokens{InputTokens: 3, OutputTokens: 50, ReasoningTokens: 20, CacheReadTokens: 1000, CacheReadTokensPresent: true, CacheCreationTokens: 200, TotalTokens: 1273},
			Tokens{Uncached: 3, CacheRead: 1000, CacheWrite: 200, Output: 50, Reasoning: 20, Quality: QualityDerived}},
		{"claude without total", FamilyIndependent,
			LegacyTokens{InputTokens: 3, OutputTokens: 5, CacheReadTokens: 10, CacheReadTokensPresent: true},
			Tokens{Uncached: 3, CacheRead: 10, Output: 5, Quality: QualityDerived}},
		{"gemini separate reasoning", FamilySeparateReasoning,
			LegacyTokens{InputTokens: 100, OutputTokens: 20, ReasoningTokens: 30, CachedTokens: 40, TotalTokens: 150},
			Tokens{Uncached: 60, CacheRead: 40, Output: 20, Reasoning: 30, Quality: QualityDerived}},
		{"unknown family", FamilyUnknown,
			LegacyTokens{InputTokens: 5, OutputTokens: 6, TotalTokens: 11},
			Tokens{Unclassified: 11, Quality: QualityUnclassified}},
		{"unknown family without total", FamilyUnknown,
			LegacyTokens{InputTokens: 5, OutputTokens: 6},
			Tokens{Unclassified: 11, Quality: QualityUnclassified}},
		{"unknown family zero", FamilyUnknown, LegacyTokens{}, Tokens{Quality: QualityDerived}},
		{"zero", FamilySubset, LegacyTokens{CacheReadTokensPresent: true}, Tokens{Quality: QualityDerived}},
		{"total above sum", FamilySubset,
			LegacyTokens{InputTokens: 10, OutputTokens: 5, TotalTokens: 20},
			Tokens{Uncached: 10, Output: 5, Unclassified: 5, Quality: QualityDerived}},
		{"total below sum", FamilySubset,
			LegacyTokens{InputTokens: 10, OutputTokens: 5, TotalTokens: 12},
			Tokens{Unclassified: 15, Quality: QualityInconsistent}},
		{"cache above input", FamilySubset,
			LegacyTokens{InputTokens: 4, CacheReadTokens: 10, CacheReadTokensPresent: true, OutputTokens: 1},
			Tokens{Unclassified: 5, Quality: QualityInconsistent}},
		{"reasoning above output", FamilySubset,
			LegacyTokens{InputTokens: 4, OutputTokens: 1, ReasoningTokens: 3, TotalTokens: 5},
			Tokens{Unclassified: 5, Quality: QualityInconsistent}},
		{"negative counter", FamilyIndependent,
			LegacyTokens{InputTokens: -4, OutputTokens: 6},
			Tokens{Unclassified: 6, Quality: QualityInconsistent}},
		{"negative total unknown", FamilyUnknown,
			LegacyTokens{InputTokens: 2, TotalTokens: -1},
			Tokens{Unclassified: 2, Quality: QualityInconsistent}},
		{"overflow saturates", FamilyIndependent,
			LegacyTokens{InputTokens: math.MaxInt64, OutputTokens: math.MaxInt64},
			Tokens{Uncached: math.MaxInt64, Output: math.MaxInt64, Quality: QualityDerived}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := DeriveTokens(tc.f, tc.in)
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// Derivation agrees with the simulator's CPA-style breakdown for every
// family on consistent inputs.
func TestDeriveMatchesSimulator(t *testing.T) {
	inputs := []cpasim.Tokens{
		cpasim.DefaultUsage.Tokens(),
		{InputTokens: 3, OutputTokens: 50, ReasoningTokens: 20, CacheReadTokens: 1000, CacheReadTokensPresent: true, CacheCreationTokens: 200},
		{InputTokens: 100, OutputTokens: 20, ReasoningTokens: 10, CachedTokens: 40, TotalTokens: 500},
	}
	for _, p := range []string{"codex", "claude", "gemini", "openai-compatible-x", "weird"} {
		for _, in := range inputs {
			if p == "codex" || p == "openai-compatible-x" {
				if in.ReasoningTokens > in.OutputTokens || in.CacheReadTokens > in.InputTokens {
					continue
				}
			}
			b := cpasim.BuildBreakdown(cpasim.ProviderFamily(p), in)
			rec := successRecord()
			rec.Provider, rec.Tokens, rec.TokenBreakdown = p, in, b
			r, err := Parse(marshal(t, rec))
			if err != nil {
				t.Fatal(err)
			}
			fromB := TokensOf(&r)
			l, err := Parse(legacyJSON(t, rec))
			if err != nil {
				t.Fatal(err)
			}
			derived := TokensOf(&l)
			fromB.Quality, derived.Quality = "", ""
			if fromB != derived {
				t.Errorf("%s %+v: breakdown %+v, derived %+v", p, in, fromB, derived)
			}
		}
	}
}

func TestTokensFromBreakdown(t *testing.T) {
	tests := []struct {
		name   string
		b      TokenBreakdown
		legacy LegacyTokens
		want   Tokens
	}{
		{"complete", TokenBreakdown{SchemaVersion: 2, Quality: "complete", TotalTokens: 19,
			Input:  InputBreakdown{12, 8, 4, 0},
			Output: OutputBreakdown{7, 5, 2}},
			LegacyTokens{}, Tokens{Uncached: 8, CacheRead: 4, Output: 5, Reasoning: 2, Quality: QualityComplete}},
		{"unclassified kept", TokenBreakdown{SchemaVersion: 2, Quality: "unclassified", TotalTokens: 30,
			Input: InputBreakdown{10, 10, 0, 0}, UnclassifiedTokens: 20},
			LegacyTokens{}, Tokens{Uncached: 10, Unclassified: 20, Quality: QualityUnclassified}},
		{"inconsistent kept", TokenBreakdown{SchemaVersion: 2, Quality: "inconsistent", TotalTokens: 9, UnclassifiedTokens: 9},
			LegacyTokens{InputTokens: 9}, Tokens{Unclassified: 9, Quality: QualityInconsistent}},
		{"missing quality", TokenBreakdown{SchemaVersion: 2, Input: InputBreakdown{3, 3, 0, 0}},
			LegacyTokens{}, Tokens{Uncached: 3, Quality: QualityComplete}},
		{"total above buckets", TokenBreakdown{SchemaVersion: 2, Quality: "complete", TotalTokens: 10, Input: InputBreakdown{3, 3, 0, 0}},
			LegacyTokens{}, Tokens{Uncached: 3, Unclassified: 7, Quality: QualityUnclassified}},
		{"negative bucket", TokenBreakdown{SchemaVersion: 2, Quality: "complete", TotalTokens: 5,
			Input: InputBreakdown{5, -3, 8, 0}},
			LegacyTokens{}, Tokens{Unclassified: 8, Quality: QualityInconsistent}},
		{"unknown schema falls back to legacy", TokenBreakdown{SchemaVersion: 3, Quality: "complete", TotalTokens: 99,
			Input: InputBreakdown{99, 99, 0, 0}},
			LegacyTokens{InputTokens: 12, CachedTokens: 4, OutputTokens: 7, ReasoningTokens: 2, TotalTokens: 19},
			Tokens{Uncached: 8, CacheRead: 4, Output: 5, Reasoning: 2, Quality: QualityDerived}},
		{"empty breakdown with legacy tokens", TokenBreakdown{SchemaVersion: 2, Quality: "complete"},
			LegacyTokens{InputTokens: 12, CachedTokens: 4, OutputTokens: 7, ReasoningTokens: 2, TotalTokens: 19},
			Tokens{Uncached: 8, CacheRead: 4, Output: 5, Reasoning: 2, Quality: QualityDerived}},
		{"zero breakdown zero legacy", TokenBreakdown{SchemaVersion: 2, Quality: "complete"},
			LegacyTokens{CacheReadTokensPresent: true}, Tokens{Quality: QualityComplete}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.b
			r := Record{Provider: "openai-compatible-x", Tokens: tc.legacy, TokenBreakdown: &b}
			if got := TokensOf(&r); got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestModelFamily(t *testing.T) {
	for model, want := range map[string]Family{
		"claude-sonnet-4-5":        FamilyIndependent,
		"anthropic/claude-opus-4":  FamilyIndependent,
		"gemini-2.5-pro":           FamilySeparateReasoning,
		"gpt-5":                    FamilySubset,
		"GPT-5.1-Codex":            FamilySubset,
		"o3-mini":                  FamilySubset,
		"grok-4":                   FamilySubset,
		"openai/gpt-4o":            FamilySubset,
		"llama-3.1-70b":            FamilyUnknown,
		"":                         FamilyUnknown,
		"some-custom-upstream-mod": FamilyUnknown,
	} {
		if got := ModelFamily(model); got != want {
			t.Errorf("ModelFamily(%q) = %v, want %v", model, got, want)
		}
	}
}
