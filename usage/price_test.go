package usage

import (
	"math"
	"testing"
)

func TestNormalizeModel(t *testing.T) {
	tests := map[string]string{
		"gpt-5":                                "gpt-5",
		"GPT-5":                                "gpt-5",
		" gpt-5 ":                              "gpt-5",
		"openai/gpt-5":                         "gpt-5",
		"openrouter/anthropic/claude-opus-4.5": "claude-opus-4-5",
		"models/gemini-2.5-pro":                "gemini-2-5-pro",
		"gpt-5(high)":                          "gpt-5",
		"gemini-2.5-pro(8192)":                 "gemini-2-5-pro",
		"gpt-5-high":                           "gpt-5",
		"gpt-5-codex-low":                      "gpt-5-codex",
		"gpt-5.1-codex-max-xhigh":              "gpt-5-1-codex-max",
		"o4-mini-high":                         "o4-mini",
		"gpt-5-minimal":                        "gpt-5",
		"gpt-5-medium":                         "gpt-5",
		"claude-sonnet-4-5-thinking":           "claude-sonnet-4-5",
		"claude-opus-4-1-20250805":             "claude-opus-4-1",
		"claude-opus-4-1-20250805-thinking":    "claude-opus-4-1",
		"claude-sonnet-4-5@20250929":           "claude-sonnet-4-5",
		"claude-3-5-haiku-latest":              "claude-3-5-haiku",
		"gpt-4.1-2025-04-14":                   "gpt-4-1",
		"gpt-4-0613":                           "gpt-4",
		"gemini-2.5-flash-preview-09-2025":     "gemini-2-5-flash",
		"gemini-2.5-flash-lite":                "gemini-2-5-flash-lite",
		"gemini-3-pro-preview":                 "gemini-3-pro",
		"deepseek/deepseek-r1:thinking":        "deepseek-r1",
		"meta-llama/llama-3-8b:free":           "llama-3-8b:free",
		"gpt-5-mini":                           "gpt-5-mini",
		"grok-code-fast-1":                     "grok-code-fast-1",
		"gpt-4o":                               "gpt-4o",
		"x-flow":                               "x-flow",
		"-high":                                "-high",
		"":                                     "",
	}
	for in, want := range tests {
		if got := NormalizeModel(in); got != want {
			t.Errorf("NormalizeModel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPriceBookLookup(t *testing.T) {
	b := DefaultPriceBook()
	tests := []struct {
		model, alias, wantName string
		ok                     bool
	}{
		{"gpt-5", "", "gpt-5", true},
		{"gpt-5-codex", "gpt-5-codex-high", "gpt-5-codex", true},
		{"GPT-5-Codex", "", "gpt-5-codex", true},
		{"openai/gpt-5-mini", "", "gpt-5-mini", true},
		{"gpt-5(high)", "", "gpt-5", true},
		{"claude-sonnet-4-5-20250929", "", "claude-sonnet-4-5", true},
		{"claude-sonnet-4.5", "", "claude-sonnet-4-5", true},
		{"claude-opus-4-5-thinking", "", "claude-opus-4-5", true},
		{"models/gemini-2.5-pro", "", "gemini-2.5-pro", true},
		{"gemini-2.5-flash-lite", "", "gemini-2.5-flash-lite", true},
		{"grok-4-0709", "", "grok-4", true},
		{"private-model", "gpt-4.1", "gpt-4.1", true}, // alias exact
		{"private-model", "my-alias", "", false},
		{"", "", "", false},
		{"gpt-4.1", "gpt-5", "gpt-4.1", true}, // model before alias
	}
	for _, tc := range tests {
		_, name, ok := b.Lookup(tc.model, tc.alias)
		if name != tc.wantName || ok != tc.ok {
			t.Errorf("Lookup(%q, %q) = %q,%v want %q,%v", tc.model, tc.alias, name, ok, tc.wantName, tc.ok)
		}
	}
	var nilBook *PriceBook
	if _, _, ok := nilBook.Lookup("gpt-5", ""); ok {
		t.Error("nil book found a price")
	}
	if c, _ := nilBook.Cost("gpt-5", "", Tokens{Uncached: 1}); c.Priced {
		t.Error("nil book priced")
	}
	// Exact names win over normalised matches.
	b2, err := NewPriceBook(map[string]Price{"gpt-5": {Input: 1}, "gpt-5-high": {Input: 9}})
	if err != nil {
		t.Fatal(err)
	}
	if p, name, _ := b2.Lookup("gpt-5-high", ""); name != "gpt-5-high" || p.Input != 9 {
		t.Errorf("exact name lost: %s", name)
	}
	if _, name, _ := b2.Lookup("gpt-5-low", ""); name != "gpt-5" {
		t.Errorf("normalised match: %s", name)
	}
}

func TestNewPriceBookValidation(t *testing.T) {
	bad := []map[string]Price{
		{"x": {Input: -1}},
		{"x": {Output: math.NaN()}},
		{"x": {Input: math.Inf(1)}},
		{"x": {Tiers: []PriceTier{{AboveInputTokens: -5}}}},
		{"x": {Tiers: []PriceTier{{AboveInputTokens: 5, Output: -1}}}},
		{"": {Input: 1}},
	}
	for _, m := range bad {
		if _, err := NewPriceBook(m); err == nil {
			t.Errorf("accepted %v", m)
		}
	}
	for name, p := range DefaultPriceBook().Prices() {
		if p.Input <= 0 || p.Output <= 0 || p.CacheRead <= 0 || p.CacheWrite <= 0 {
			t.Errorf("default price of %s incomplete: %+v", name, p)
		}
	}
	if len(DefaultPriceBook().Names()) != len(defaultPrices) {
		t.Error("Names incomplete")
	}
}

func TestCostOf(t *testing.T) {
	sonnet := Price{Input: 3, Output: 15, CacheRead: 0.30, CacheWrite: 3.75,
		Tiers: []PriceTier{{AboveInputTokens: 200_000, Input: 6, Output: 22.50, CacheRead: 0.60, CacheWrite: 7.50}}}
	tests := []struct {
		name string
		p    Price
		t    Tokens
		want int64
	}{
		{"worked example gpt-5", Price{Input: 1.25, Output: 10, CacheRead: 0.125},
			Tokens{Uncached: 8, CacheRead: 4, Output: 5, Reasoning: 2}, 81}, // 10 + 0.5 + 70 = 80.5 → 81
		{"million uncached", Price{Input: 1.25, Output: 10}, Tokens{Uncached: 1_000_000}, 1_250_000},
		{"reasoning as output", Price{Input: 1, Output: 10}, Tokens{Reasoning: 1000}, 10_000},
		{"cache read default input", Price{Input: 2, Output: 8}, Tokens{CacheRead: 1000}, 2000},
		{"cache write default input", Price{Input: 2, Output: 8, CacheRead: 0.5}, Tokens{CacheWrite: 1000}, 2000},
		{"claude cache write", sonnet, Tokens{Uncached: 3, CacheRead: 1000, CacheWrite: 200, Output: 50},
			9 + 300 + 750 + 750},
		{"unclassified at input", Price{Input: 2, Output: 8}, Tokens{Unclassified: 500}, 1000},
		{"tier boundary stays base", sonnet, Tokens{Uncached: 200_000}, 600_000},
		{"above tier", sonnet, Tokens{Uncached: 200_001, Output: 1000}, 1_200_006 + 22_500},
		{"tier counts cached input", sonnet, Tokens{Uncached: 1, CacheRead: 200_000}, 6 + 120_000},
		{"zero", sonnet, Tokens{}, 0},
		{"rounding half up", Price{Input: 0.5}, Tokens{Uncached: 1}, 1},
		{"rounding down", Price{Input: 0.4}, Tokens{Uncached: 1}, 0},
		{"saturates", Price{Input: 1e6}, Tokens{Uncached: math.MaxInt64}, math.MaxInt64},
	}
	for _, tc := range tests {
		got := CostOf(tc.p, tc.t)
		if got.MicroUSD != tc.want || !got.Priced {
			t.Errorf("%s: %+v, want %d", tc.name, got, tc.want)
		}
	}
	// Highest applicable tier wins, whatever the order.
	p := Price{Input: 1, Tiers: []PriceTier{{AboveInputTokens: 1000, Input: 3}, {AboveInputTokens: 10, Input: 2}}}
	if r := p.At(2000); r.Input != 3 {
		t.Errorf("tier: %+v", r)
	}
	if r := p.At(500); r.Input != 2 || r.CacheRead != 2 || r.CacheWrite != 2 {
		t.Errorf("tier: %+v", r)
	}
	// Gemini 2.5 Pro long-context tier from the default book.
	c, name := DefaultPriceBook().Cost("gemini-2.5-pro", "", Tokens{Uncached: 250_000, Output: 1000})
	if name != "gemini-2.5-pro" || c.MicroUSD != 250_000*2.5+1000*15 {
		t.Errorf("gemini tier: %v %+v", name, c)
	}
}
