package cpasim

import (
	"encoding/json"
	"strings"
	"time"
)

// AccountingVersion is the token-accounting contract version CPA v7.2
// writes into every record.
const AccountingVersion = 2

// BreakdownSchemaVersion is the schema_version of TokenBreakdown.
const BreakdownSchemaVersion = 2

// Breakdown quality values.
const (
	QualityComplete     = "complete"
	QualityUnclassified = "unclassified"
	QualityInconsistent = "inconsistent"
)

// Record is one CPA v7.2 usage record: one upstream attempt, with the JSON
// field names and order CPA uses.
type Record struct {
	Timestamp         time.Time           `json:"timestamp"`
	LatencyMs         int64               `json:"latency_ms"`
	TTFTMs            int64               `json:"ttft_ms"`
	Source            string              `json:"source"`
	AuthIndex         string              `json:"auth_index"`
	AccessTokenSHA256 string              `json:"access_token_sha256,omitempty"`
	ClientIP          string              `json:"client_ip"`
	XForwardedFor     string              `json:"x_forwarded_for"`
	UserAgent         string              `json:"user_agent"`
	Tokens            Tokens              `json:"tokens"`
	Failed            bool                `json:"failed"`
	Generate          bool                `json:"generate"`
	Fail              Fail                `json:"fail"`
	ResponseHeaders   map[string][]string `json:"response_headers,omitempty"`
	AccountingVersion int                 `json:"accounting_version"`
	TokenBreakdown    TokenBreakdown      `json:"token_breakdown"`
	Provider          string              `json:"provider"`
	ExecutorType      string              `json:"executor_type"`
	Model             string              `json:"model"`
	Alias             string              `json:"alias"`
	Endpoint          string              `json:"endpoint"`
	AuthType          string              `json:"auth_type"`
	APIKey            string              `json:"api_key"`
	RequestID         string              `json:"request_id"`
	ReasoningEffort   string              `json:"reasoning_effort"`
	ServiceTier       string              `json:"service_tier"`
	// ResponseServiceTier is the tier the upstream reports it used.
	ResponseServiceTier string `json:"response_service_tier,omitempty"`
}

// Tokens holds the legacy flat token counters of a record.
type Tokens struct {
	InputTokens            int64 `json:"input_tokens"`
	OutputTokens           int64 `json:"output_tokens"`
	ReasoningTokens        int64 `json:"reasoning_tokens"`
	CachedTokens           int64 `json:"cached_tokens"`
	CacheReadTokens        int64 `json:"cache_read_tokens"`
	CacheReadTokensPresent bool  `json:"cache_read_tokens_present"`
	CacheCreationTokens    int64 `json:"cache_creation_tokens"`
	TotalTokens            int64 `json:"total_tokens"`
}

// Fail is the status of an attempt: {200, ""} on success, the upstream
// status and error text on failure.
type Fail struct {
	StatusCode int    `json:"status_code"`
	Body       string `json:"body"`
}

// TokenBreakdown is the canonical, non-overlapping token accounting of a
// record (schema version 2).
type TokenBreakdown struct {
	SchemaVersion      int             `json:"schema_version"`
	Quality            string          `json:"quality"`
	TotalTokens        int64           `json:"total_tokens"`
	Input              InputBreakdown  `json:"input"`
	Output             OutputBreakdown `json:"output"`
	UnclassifiedTokens int64           `json:"unclassified_tokens"`
}

// InputBreakdown splits input tokens into uncached, cache-read and
// cache-write buckets.
type InputBreakdown struct {
	TotalTokens      int64 `json:"total_tokens"`
	UncachedTokens   int64 `json:"uncached_tokens"`
	CacheReadTokens  int64 `json:"cache_read_tokens"`
	CacheWriteTokens int64 `json:"cache_write_tokens"`
}

// OutputBreakdown splits output tokens into reasoning and non-reasoning
// buckets.
type OutputBreakdown struct {
	TotalTokens        int64 `json:"total_tokens"`
	NonReasoningTokens int64 `json:"non_reasoning_tokens"`
	ReasoningTokens    int64 `json:"reasoning_tokens"`
}

// Family is how a provider reports its raw token counters.
type Family int

const (
	// FamilyUnknown providers yield only an unclassified total.
	FamilyUnknown Family = iota
	// FamilySubset providers (OpenAI, Codex, xAI, openai-compat, ...) count
	// cache tokens inside input and reasoning inside output.
	FamilySubset
	// FamilyIndependent providers (Claude) report every bucket separately.
	FamilyIndependent
	// FamilySeparateReasoning providers (Gemini family) count cache inside
	// input and reasoning separately from output.
	FamilySeparateReasoning
)

// String returns the family name.
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

// ProviderFamily maps a record's provider (executor id) to its token family.
func ProviderFamily(provider string) Family {
	p := strings.ToLower(provider)
	switch {
	case p == "claude" || p == "anthropic" || strings.HasPrefix(p, "claude-"):
		return FamilyIndependent
	case strings.HasPrefix(p, "gemini"), p == "aistudio", p == "antigravity",
		strings.HasPrefix(p, "vertex"), p == "interactions":
		return FamilySeparateReasoning
	case strings.HasPrefix(p, "openai"), p == "codex", p == "xai", p == "kimi",
		p == "qwen", p == "deepseek", p == "openrouter", p == "iflow":
		return FamilySubset
	}
	return FamilyUnknown
}

// BuildBreakdown normalizes raw token counters of a provider family into a
// schema-2 TokenBreakdown, the way CPA v7.2 does.
func BuildBreakdown(f Family, t Tokens) TokenBreakdown {
	b := TokenBreakdown{SchemaVersion: BreakdownSchemaVersion, Quality: QualityComplete}
	cacheRead := t.CacheReadTokens
	if cacheRead == 0 && !t.CacheReadTokensPresent {
		cacheRead = t.CachedTokens
	}
	cacheWrite := t.CacheCreationTokens
	switch f {
	case FamilySubset:
		b.Input = InputBreakdown{
			TotalTokens:      t.InputTokens,
			UncachedTokens:   t.InputTokens - cacheRead - cacheWrite,
			CacheReadTokens:  cacheRead,
			CacheWriteTokens: cacheWrite,
		}
		b.Output = OutputBreakdown{
			TotalTokens:        t.OutputTokens,
			NonReasoningTokens: t.OutputTokens - t.ReasoningTokens,
			ReasoningTokens:    t.ReasoningTokens,
		}
	case FamilyIndependent:
		b.Input = InputBreakdown{
			TotalTokens:      t.InputTokens + cacheRead + cacheWrite,
			UncachedTokens:   t.InputTokens,
			CacheReadTokens:  cacheRead,
			CacheWriteTokens: cacheWrite,
		}
		b.Output = OutputBreakdown{
			TotalTokens:        t.OutputTokens + t.ReasoningTokens,
			NonReasoningTokens: t.OutputTokens,
			ReasoningTokens:    t.ReasoningTokens,
		}
	case FamilySeparateReasoning:
		b.Input = InputBreakdown{
			TotalTokens:      t.InputTokens,
			UncachedTokens:   t.InputTokens - cacheRead - cacheWrite,
			CacheReadTokens:  cacheRead,
			CacheWriteTokens: cacheWrite,
		}
		b.Output = OutputBreakdown{
			TotalTokens:        t.OutputTokens + t.ReasoningTokens,
			NonReasoningTokens: t.OutputTokens,
			ReasoningTokens:    t.ReasoningTokens,
		}
	default:
		total := t.TotalTokens
		if total == 0 {
			total = t.InputTokens + t.OutputTokens
		}
		b.TotalTokens = total
		b.UnclassifiedTokens = total
		if total > 0 {
			b.Quality = QualityUnclassified
		}
		return b
	}
	sum := b.Input.TotalTokens + b.Output.TotalTokens
	negative := b.Input.UncachedTokens < 0 || b.Output.NonReasoningTokens < 0 ||
		cacheRead < 0 || cacheWrite < 0 || t.ReasoningTokens < 0
	switch {
	case negative || (t.TotalTokens > 0 && t.TotalTokens < sum):
		total := t.TotalTokens
		if total < sum {
			total = sum
		}
		if total < 0 {
			total = 0
		}
		return TokenBreakdown{
			SchemaVersion:      BreakdownSchemaVersion,
			Quality:            QualityInconsistent,
			TotalTokens:        total,
			UnclassifiedTokens: total,
		}
	case t.TotalTokens > sum:
		b.TotalTokens = t.TotalTokens
		b.UnclassifiedTokens = t.TotalTokens - sum
		b.Quality = QualityUnclassified
	default:
		b.TotalTokens = sum
	}
	return b
}

// Usage is what a simulated upstream reports for one successful attempt.
type Usage struct {
	PromptTokens     int64
	CachedTokens     int64
	CompletionTokens int64
	ReasoningTokens  int64
	TotalTokens      int64
}

// DefaultUsage is what the reference mock upstream reports: prompt 12 with
// 4 cached, completion 7 with 2 reasoning, total 19.
var DefaultUsage = Usage{PromptTokens: 12, CachedTokens: 4, CompletionTokens: 7, ReasoningTokens: 2, TotalTokens: 19}

// Tokens converts an OpenAI-style usage block into a record's flat
// counters, filling total_tokens from the breakdown when it is missing.
func (u Usage) Tokens() Tokens {
	return u.TokensFor(FamilySubset)
}

// TokensFor converts the upstream usage into the legacy counters the way a
// provider of family f reports them: OpenAI-style providers count cache
// reads inside input and reasoning inside output; Claude reports every
// bucket apart; the Gemini family counts cache inside input but reasoning
// apart from output. BuildBreakdown of the result is always consistent.
func (u Usage) TokensFor(f Family) Tokens {
	t := u.subsetTokens()
	switch f {
	case FamilyIndependent:
		t.InputTokens = u.PromptTokens - u.CachedTokens
		t.OutputTokens = u.CompletionTokens - u.ReasoningTokens
	case FamilySeparateReasoning:
		t.OutputTokens = u.CompletionTokens - u.ReasoningTokens
	}
	return t
}

func (u Usage) subsetTokens() Tokens {
	t := Tokens{
		InputTokens:            u.PromptTokens,
		OutputTokens:           u.CompletionTokens,
		ReasoningTokens:        u.ReasoningTokens,
		CachedTokens:           u.CachedTokens,
		CacheReadTokens:        u.CachedTokens,
		CacheReadTokensPresent: true,
		TotalTokens:            u.TotalTokens,
	}
	if t.TotalTokens == 0 {
		t.TotalTokens = u.PromptTokens + u.CompletionTokens
	}
	return t
}

// legacyRecord is a record as CPA wrote it before v7.2.97: no accounting
// version, token breakdown or client fields.
type legacyRecord struct {
	Timestamp           time.Time           `json:"timestamp"`
	LatencyMs           int64               `json:"latency_ms"`
	TTFTMs              int64               `json:"ttft_ms"`
	Source              string              `json:"source"`
	AuthIndex           string              `json:"auth_index"`
	Tokens              Tokens              `json:"tokens"`
	Failed              bool                `json:"failed"`
	Generate            bool                `json:"generate"`
	Fail                Fail                `json:"fail"`
	ResponseHeaders     map[string][]string `json:"response_headers,omitempty"`
	Provider            string              `json:"provider"`
	ExecutorType        string              `json:"executor_type"`
	Model               string              `json:"model"`
	Alias               string              `json:"alias"`
	Endpoint            string              `json:"endpoint"`
	AuthType            string              `json:"auth_type"`
	APIKey              string              `json:"api_key"`
	RequestID           string              `json:"request_id"`
	ReasoningEffort     string              `json:"reasoning_effort"`
	ServiceTier         string              `json:"service_tier"`
	ResponseServiceTier string              `json:"response_service_tier,omitempty"`
}

// encodeRecord marshals r as CPA v7.2 does, or in the pre-v7.2.97 shape
// when old is set.
func encodeRecord(r *Record, old bool) ([]byte, error) {
	if !old {
		return json.Marshal(r)
	}
	return json.Marshal(legacyRecord{
		Timestamp:           r.Timestamp,
		LatencyMs:           r.LatencyMs,
		TTFTMs:              r.TTFTMs,
		Source:              r.Source,
		AuthIndex:           r.AuthIndex,
		Tokens:              r.Tokens,
		Failed:              r.Failed,
		Generate:            r.Generate,
		Fail:                r.Fail,
		ResponseHeaders:     r.ResponseHeaders,
		Provider:            r.Provider,
		ExecutorType:        r.ExecutorType,
		Model:               r.Model,
		Alias:               r.Alias,
		Endpoint:            r.Endpoint,
		AuthType:            r.AuthType,
		APIKey:              r.APIKey,
		RequestID:           r.RequestID,
		ReasoningEffort:     r.ReasoningEffort,
		ServiceTier:         r.ServiceTier,
		ResponseServiceTier: r.ResponseServiceTier,
	})
}
