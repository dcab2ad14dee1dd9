package usage

import (
	"math"
	"strings"
)

// Family is how a provider reports its raw (legacy) token counters (§5.3).
type Family int

// Provider families.
const (
	// FamilyUnknown providers yield only an unclassified total.
	FamilyUnknown Family = iota
	// FamilySubset providers (OpenAI, Codex, xAI, Kimi, Qwen, DeepSeek,
	// OpenRouter, openai-compatible-*) count cache tokens inside input and
	// reasoning inside output.
	FamilySubset
	// FamilyIndependent providers (Claude) report every bucket separately.
	FamilyIndependent
	// FamilySeparateReasoning providers (Gemini, AI Studio, Antigravity,
	// Vertex, interactions) count cache inside input and reasoning apart
	// from output.
	FamilySeparateReasoning
)

// String returns the family name used in §5.3.
func (f Family) String() string {
	switch f {
	case FamilySubset:
		return "subset"
	case FamilyIndependent:
		return "independent"
	case FamilySeparateReasoning:
		return "separate-reasoning"
	}
	return "unknown"
}

// ProviderFamily maps a record's provider (CPA executor id) to its family.
func ProviderFamily(provider string) Family {
	p := strings.ToLower(strings.TrimSpace(provider))
	switch {
	case p == "claude" || p == "anthropic" || strings.HasPrefix(p, "claude-"):
		return FamilyIndependent
	case strings.HasPrefix(p, "gemini"), p == "aistudio", p == "antigravity",
		strings.HasPrefix(p, "vertex"), p == "interactions":
		return FamilySeparateReasoning
	case p == "openai", strings.HasPrefix(p, "openai-"), p == "codex", p == "xai",
		p == "kimi", p == "qwen", p == "deepseek", p == "openrouter", p == "iflow":
		return FamilySubset
	}
	return FamilyUnknown
}

// ModelFamily guesses the token semantics of a record from its model name,
// for records that name no provider (the details of CPA's old usage
// statistics). It answers FamilyUnknown when the name does not tell.
func ModelFamily(model string) Family {
	m := strings.ToLower(strings.TrimSpace(model))
	if i := strings.LastIndexByte(m, '/'); i >= 0 {
		m = m[i+1:]
	}
	switch {
	case strings.HasPrefix(m, "claude"):
		return FamilyIndependent
	case strings.HasPrefix(m, "gemini"):
		return FamilySeparateReasoning
	case strings.HasPrefix(m, "gpt-"), strings.HasPrefix(m, "codex"), strings.HasPrefix(m, "o1"),
		strings.HasPrefix(m, "o3"), strings.HasPrefix(m, "o4"), strings.HasPrefix(m, "grok"),
		strings.HasPrefix(m, "deepseek"), strings.HasPrefix(m, "qwen"), strings.HasPrefix(m, "kimi"):
		return FamilySubset
	}
	return FamilyUnknown
}

// TokensOf returns the canonical buckets of a record.
//
// When the record carries a schema-2 token_breakdown whose buckets are not
// all zero (or whose legacy counters are all zero too), its buckets are
// used as they are, with CPA's quality (empty quality becomes "complete",
// or "unclassified" when unclassified tokens exist). A stated total above
// the bucket sum adds the difference to Unclassified (quality
// "unclassified"); a negative bucket makes the whole attempt unclassified
// with quality "inconsistent".
//
// Otherwise (records before v7.2.97, or an unknown schema) the buckets are
// derived from the legacy counters by provider family; see DeriveTokens.
func TokensOf(r *Record) Tokens {
	if b := r.TokenBreakdown; b != nil && b.SchemaVersion == 2 {
		bucketsZero := b.Input.UncachedTokens == 0 && b.Input.CacheReadTokens == 0 &&
			b.Input.CacheWriteTokens == 0 && b.Output.NonReasoningTokens == 0 &&
			b.Output.ReasoningTokens == 0 && b.UnclassifiedTokens == 0 && b.TotalTokens == 0
		if !bucketsZero || legacyZero(r.Tokens) {
			return fromBreakdown(b)
		}
	}
	return DeriveTokens(ProviderFamily(r.Provider), r.Tokens)
}

func legacyZero(t LegacyTokens) bool {
	return t.InputTokens == 0 && t.OutputTokens == 0 && t.ReasoningTokens == 0 &&
		t.CachedTokens == 0 && t.CacheReadTokens == 0 && t.CacheCreationTokens == 0 &&
		t.TotalTokens == 0
}

// fromBreakdown converts a schema-2 breakdown, enforcing non-negative buckets.
func fromBreakdown(b *TokenBreakdown) Tokens {
	t := Tokens{
		Uncached:     b.Input.UncachedTokens,
		CacheRead:    b.Input.CacheReadTokens,
		CacheWrite:   b.Input.CacheWriteTokens,
		Output:       b.Output.NonReasoningTokens,
		Reasoning:    b.Output.ReasoningTokens,
		Unclassified: b.UnclassifiedTokens,
		Quality:      b.Quality,
	}
	if t.Uncached < 0 || t.CacheRead < 0 || t.CacheWrite < 0 || t.Output < 0 ||
		t.Reasoning < 0 || t.Unclassified < 0 {
		total := satSum(pos(t.Uncached), pos(t.CacheRead), pos(t.CacheWrite),
			pos(t.Output), pos(t.Reasoning), pos(t.Unclassified))
		return Tokens{Unclassified: max(total, pos(b.TotalTokens)), Quality: QualityInconsistent}
	}
	sum := satSum(t.Uncached, t.CacheRead, t.CacheWrite, t.Output, t.Reasoning, t.Unclassified)
	if b.TotalTokens > sum {
		t.Unclassified = satSum(t.Unclassified, b.TotalTokens-sum)
		if t.Quality == "" || t.Quality == QualityComplete {
			t.Quality = QualityUnclassified
		}
	}
	if t.Quality == "" {
		t.Quality = QualityComplete
		if t.Unclassified > 0 {
			t.Quality = QualityUnclassified
		}
	}
	return t
}

// DeriveTokens computes canonical buckets from legacy counters using the
// family's semantics (§5.3):
//
//	subset:             uncached = input - cache_read - cache_write; output = output - reasoning
//	independent:        uncached = input; output = output; reasoning separate
//	separate-reasoning: uncached = input - cache_read - cache_write; output = output
//	unknown:            everything (total_tokens, else input+output) is unclassified
//
// cache_read is cache_read_tokens when cache_read_tokens_present is set,
// otherwise cached_tokens (or cache_read_tokens when cached_tokens is 0).
// A total_tokens above the bucket sum adds the difference to Unclassified.
// Quality is "derived"; "unclassified" for an unknown family with tokens;
// "inconsistent" (everything unclassified) when counters are negative or
// contradict each other (a derived bucket would be negative, or
// total_tokens is below the bucket sum). No bucket is ever negative.
func DeriveTokens(f Family, lt LegacyTokens) Tokens {
	in, out, reasoning := lt.InputTokens, lt.OutputTokens, lt.ReasoningTokens
	cacheRead := lt.CacheReadTokens
	if !lt.CacheReadTokensPresent && lt.CachedTokens != 0 {
		cacheRead = lt.CachedTokens
	}
	cacheWrite := lt.CacheCreationTokens
	total := lt.TotalTokens
	negative := in < 0 || out < 0 || reasoning < 0 || cacheRead < 0 || cacheWrite < 0 || total < 0
	in, out, reasoning, cacheRead, cacheWrite, total =
		pos(in), pos(out), pos(reasoning), pos(cacheRead), pos(cacheWrite), pos(total)

	var t Tokens
	switch f {
	case FamilySubset:
		t = Tokens{Uncached: in - cacheRead - cacheWrite, CacheRead: cacheRead, CacheWrite: cacheWrite,
			Output: out - reasoning, Reasoning: reasoning}
	case FamilyIndependent:
		t = Tokens{Uncached: in, CacheRead: cacheRead, CacheWrite: cacheWrite, Output: out, Reasoning: reasoning}
	case FamilySeparateReasoning:
		t = Tokens{Uncached: in - cacheRead - cacheWrite, CacheRead: cacheRead, CacheWrite: cacheWrite,
			Output: out, Reasoning: reasoning}
	default:
		if total == 0 {
			total = satSum(in, out)
		}
		q := QualityDerived
		if total > 0 {
			q = QualityUnclassified
		}
		if negative {
			q = QualityInconsistent
		}
		return Tokens{Unclassified: total, Quality: q}
	}
	sum := satSum(t.Uncached, t.CacheRead, t.CacheWrite, t.Output, t.Reasoning)
	if negative || t.Uncached < 0 || t.Output < 0 || (total > 0 && total < sum) {
		// Raw grand total as the family counts it, whatever the overlap.
		raw := satSum(in, out)
		if f != FamilySubset {
			raw = satSum(raw, reasoning)
		}
		if f == FamilyIndependent {
			raw = satSum(raw, cacheRead, cacheWrite)
		}
		return Tokens{Unclassified: max(total, raw), Quality: QualityInconsistent}
	}
	t.Quality = QualityDerived
	if total > sum {
		t.Unclassified = total - sum
	}
	return t
}

// pos clamps v at 0.
func pos(v int64) int64 { return max(v, 0) }

// satSum adds non-negative values, saturating at math.MaxInt64.
func satSum(vs ...int64) int64 {
	var s int64
	for _, v := range vs {
		if v > math.MaxInt64-s {
			return math.MaxInt64
		}
		s += v
	}
	return s
}
