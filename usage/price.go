package usage

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Price is a model's list price in US dollars per million tokens.
// Reasoning tokens are billed as output. A zero CacheRead or CacheWrite
// means "not priced apart": such tokens are billed at the input price.
type Price struct {
	Input      float64
	Output     float64
	CacheRead  float64
	CacheWrite float64
	// Tiers are context-length tiers: when the attempt's input tokens
	// exceed a tier's AboveInputTokens, its prices apply instead (the
	// highest such tier wins).
	Tiers []PriceTier
}

// PriceTier overrides a Price above an input-token threshold. Zero fields
// inherit the base price.
type PriceTier struct {
	AboveInputTokens int64
	Input            float64
	Output           float64
	CacheRead        float64
	CacheWrite       float64
}

// At returns the flat prices that apply to an attempt with inputTokens
// input tokens (the tier resolved, zero cache prices filled with the input
// price, no Tiers).
func (p Price) At(inputTokens int64) Price {
	r := Price{Input: p.Input, Output: p.Output, CacheRead: p.CacheRead, CacheWrite: p.CacheWrite}
	var best *PriceTier
	for i := range p.Tiers {
		t := &p.Tiers[i]
		if inputTokens > t.AboveInputTokens && (best == nil || t.AboveInputTokens > best.AboveInputTokens) {
			best = t
		}
	}
	if best != nil {
		if best.Input != 0 {
			r.Input = best.Input
		}
		if best.Output != 0 {
			r.Output = best.Output
		}
		if best.CacheRead != 0 {
			r.CacheRead = best.CacheRead
		}
		if best.CacheWrite != 0 {
			r.CacheWrite = best.CacheWrite
		}
	}
	if r.CacheRead == 0 {
		r.CacheRead = r.Input
	}
	if r.CacheWrite == 0 {
		r.CacheWrite = r.Input
	}
	return r
}

// validate rejects negative and non-finite prices.
func (p Price) validate() error {
	vals := []float64{p.Input, p.Output, p.CacheRead, p.CacheWrite}
	for _, t := range p.Tiers {
		if t.AboveInputTokens < 0 {
			return fmt.Errorf("negative tier threshold %d", t.AboveInputTokens)
		}
		vals = append(vals, t.Input, t.Output, t.CacheRead, t.CacheWrite)
	}
	for _, v := range vals {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("invalid price %v", v)
		}
	}
	return nil
}

// CostOf prices an attempt in micro-USD, rounded to the nearest integer.
// The tier is chosen by the input tokens (Tokens.Input). Uncached input and
// unclassified tokens are billed at the input price, cache reads and
// writes at their prices, output and reasoning at the output price. The
// result is always priced; see PriceBook.Cost for unpriced models.
func CostOf(p Price, t Tokens) Cost {
	r := p.At(t.Input())
	// USD per 1M tokens × tokens = micro-USD.
	v := float64(t.Uncached)*r.Input +
		float64(t.CacheRead)*r.CacheRead +
		float64(t.CacheWrite)*r.CacheWrite +
		float64(t.Output)*r.Output +
		float64(t.Reasoning)*r.Output +
		float64(t.Unclassified)*r.Input
	v = math.Round(v)
	switch {
	case math.IsNaN(v) || v <= 0:
		v = 0
	case v >= math.MaxInt64:
		return Cost{MicroUSD: math.MaxInt64, Priced: true}
	}
	return Cost{MicroUSD: int64(v), Priced: true}
}

// PriceBook maps model names to prices. It is immutable once built and
// safe for concurrent use; build a new one to change prices.
type PriceBook struct {
	prices map[string]Price
	norm   map[string]string // NormalizeModel(name) → name
}

// NewPriceBook builds a price book from model name → price. Names are
// matched exactly first, then in normalised form (see NormalizeModel).
// Negative or non-finite prices are rejected.
func NewPriceBook(prices map[string]Price) (*PriceBook, error) {
	b := &PriceBook{prices: make(map[string]Price, len(prices)), norm: make(map[string]string, len(prices))}
	names := make([]string, 0, len(prices))
	for name := range prices {
		names = append(names, name)
	}
	slices.Sort(names) // deterministic winner when two names normalise alike
	for _, name := range names {
		p := prices[name]
		if name == "" {
			return nil, fmt.Errorf("usage: price book: empty model name")
		}
		if err := p.validate(); err != nil {
			return nil, fmt.Errorf("usage: price book: model %q: %w", name, err)
		}
		p.Tiers = slices.Clone(p.Tiers)
		b.prices[name] = p
		if k := NormalizeModel(name); k != "" {
			if _, taken := b.norm[k]; !taken {
				b.norm[k] = name
			}
		}
	}
	return b, nil
}

// Lookup finds the price of an attempt: the upstream model by exact name,
// then the alias by exact name, then the model and the alias in normalised
// form. It returns the price-book name that matched.
func (b *PriceBook) Lookup(model, alias string) (Price, string, bool) {
	if b == nil {
		return Price{}, "", false
	}
	for _, n := range [...]string{model, alias} {
		if p, ok := b.prices[n]; ok && n != "" {
			return p, n, true
		}
	}
	for _, n := range [...]string{model, alias} {
		if n == "" {
			continue
		}
		if name, ok := b.norm[NormalizeModel(n)]; ok {
			return b.prices[name], name, true
		}
	}
	return Price{}, "", false
}

// Cost prices an attempt with Lookup and CostOf. It returns an unpriced
// Cost (and no name) when the book has no price for the model.
func (b *PriceBook) Cost(model, alias string, t Tokens) (Cost, string) {
	p, name, ok := b.Lookup(model, alias)
	if !ok {
		return Cost{}, ""
	}
	return CostOf(p, t), name
}

// Names returns the model names of the book, sorted.
func (b *PriceBook) Names() []string {
	if b == nil {
		return nil
	}
	names := make([]string, 0, len(b.prices))
	for n := range b.prices {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Prices returns a copy of the book's name → price table.
func (b *PriceBook) Prices() map[string]Price {
	out := make(map[string]Price)
	if b == nil {
		return out
	}
	for n, p := range b.prices {
		p.Tiers = slices.Clone(p.Tiers)
		out[n] = p
	}
	return out
}

// effortSuffixes are reasoning/effort/variant suffixes removed by
// NormalizeModel.
var effortSuffixes = []string{
	"-thinking", "-nothinking", "-non-thinking", "-minimal", "-low", "-medium", "-high", "-xhigh",
	"-latest", "-preview", "-exp",
}

// NormalizeModel reduces a model name to the form used for fuzzy price
// lookup. Rules, in order:
//
//  1. trim spaces and lower-case;
//  2. keep what follows the last "/" (provider prefixes such as "openai/",
//     "anthropic/", "models/", "openrouter/x-ai/");
//  3. drop a Vertex "@version" suffix ("claude-sonnet-4-5@20250929");
//  4. drop a trailing parenthesised suffix, CPA's thinking syntax
//     ("gpt-5(high)", "gemini-2.5-pro(8192)"), and a ":thinking" variant
//     (other ":variants" such as ":free" are kept: they change the price);
//  5. repeatedly drop effort and release suffixes: -thinking, -nothinking,
//     -non-thinking, -minimal, -low, -medium, -high, -xhigh, -latest,
//     -preview, -exp, and dates -YYYYMMDD, -YYYY-MM-DD, -MM-YYYY, -MMDD;
//  6. write "." between digits as "-" ("claude-sonnet-4.5" and
//     "claude-sonnet-4-5" are the same model).
func NormalizeModel(name string) string {
	s := strings.ToLower(strings.TrimSpace(name))
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.IndexByte(s, '@'); i >= 0 {
		s = s[:i]
	}
	if strings.HasSuffix(s, ")") {
		if i := strings.LastIndexByte(s, '('); i > 0 {
			s = s[:i]
		}
	}
	s = strings.TrimSuffix(s, ":thinking")
	for changed := true; changed; {
		changed = false
		for _, suf := range effortSuffixes {
			if len(s) > len(suf) && strings.HasSuffix(s, suf) {
				s, changed = s[:len(s)-len(suf)], true
			}
		}
		if t, ok := trimDate(s); ok {
			s, changed = t, true
		}
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '.' && i > 0 && i+1 < len(s) && isDigit(s[i-1]) && isDigit(s[i+1]) {
			c = '-'
		}
		b.WriteByte(c)
	}
	return strings.TrimSpace(b.String())
}

// trimDate removes a trailing release date: -YYYYMMDD, -YYYY-MM-DD,
// -MM-YYYY (Gemini previews) or -MMDD (e.g. "o1-preview-0912" style ids).
func trimDate(s string) (string, bool) {
	digits := func(t string) bool {
		for i := 0; i < len(t); i++ {
			if !isDigit(t[i]) {
				return false
			}
		}
		return t != ""
	}
	year := func(t string) bool { return len(t) == 4 && digits(t) && t[:2] == "20" }
	month := func(t string) bool { return len(t) == 2 && digits(t) && t >= "01" && t <= "12" }
	n := len(s)
	// -YYYYMMDD
	if n > 9 && s[n-9] == '-' && digits(s[n-8:]) && year(s[n-8:n-4]) && month(s[n-4:n-2]) {
		return s[:n-9], true
	}
	// -YYYY-MM-DD
	if n > 11 && s[n-11] == '-' && year(s[n-10:n-6]) && s[n-6] == '-' && month(s[n-5:n-3]) &&
		s[n-3] == '-' && len(s[n-2:]) == 2 && digits(s[n-2:]) {
		return s[:n-11], true
	}
	// -MM-YYYY
	if n > 8 && s[n-8] == '-' && month(s[n-7:n-5]) && s[n-5] == '-' && year(s[n-4:]) {
		return s[:n-8], true
	}
	// -MMDD
	if n > 5 && s[n-5] == '-' && digits(s[n-4:]) && month(s[n-4:n-2]) && s[n-2:] >= "01" && s[n-2:] <= "31" {
		return s[:n-5], true
	}
	return s, false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// defaultPrices are public list prices (USD per 1M tokens, standard tier,
// text) of the main current models. Cache write is the provider's cache
// write price where one exists (Anthropic: 5-minute cache, 1.25× input),
// else the input price.
var defaultPrices = map[string]Price{
	// OpenAI. Cache writes are not billed apart.
	"gpt-5":              {Input: 1.25, Output: 10, CacheRead: 0.125, CacheWrite: 1.25},
	"gpt-5-codex":        {Input: 1.25, Output: 10, CacheRead: 0.125, CacheWrite: 1.25},
	"gpt-5-mini":         {Input: 0.25, Output: 2, CacheRead: 0.025, CacheWrite: 0.25},
	"gpt-5-nano":         {Input: 0.05, Output: 0.40, CacheRead: 0.005, CacheWrite: 0.05},
	"gpt-5-pro":          {Input: 15, Output: 120, CacheRead: 15, CacheWrite: 15},
	"gpt-5.1":            {Input: 1.25, Output: 10, CacheRead: 0.125, CacheWrite: 1.25},
	"gpt-5.1-codex":      {Input: 1.25, Output: 10, CacheRead: 0.125, CacheWrite: 1.25},
	"gpt-5.1-codex-max":  {Input: 1.25, Output: 10, CacheRead: 0.125, CacheWrite: 1.25},
	"gpt-5.1-codex-mini": {Input: 0.25, Output: 2, CacheRead: 0.025, CacheWrite: 0.25},
	"gpt-5.2":            {Input: 1.75, Output: 14, CacheRead: 0.175, CacheWrite: 1.75},
	"gpt-4.1":            {Input: 2, Output: 8, CacheRead: 0.50, CacheWrite: 2},
	"gpt-4.1-mini":       {Input: 0.40, Output: 1.60, CacheRead: 0.10, CacheWrite: 0.40},
	"gpt-4.1-nano":       {Input: 0.10, Output: 0.40, CacheRead: 0.025, CacheWrite: 0.10},
	"gpt-4o":             {Input: 2.50, Output: 10, CacheRead: 1.25, CacheWrite: 2.50},
	"gpt-4o-mini":        {Input: 0.15, Output: 0.60, CacheRead: 0.075, CacheWrite: 0.15},
	"o1":                 {Input: 15, Output: 60, CacheRead: 7.50, CacheWrite: 15},
	"o3":                 {Input: 2, Output: 8, CacheRead: 0.50, CacheWrite: 2},
	"o3-pro":             {Input: 20, Output: 80, CacheRead: 20, CacheWrite: 20},
	"o3-mini":            {Input: 1.10, Output: 4.40, CacheRead: 0.55, CacheWrite: 1.10},
	"o4-mini":            {Input: 1.10, Output: 4.40, CacheRead: 0.275, CacheWrite: 1.10},

	// Anthropic. Cache read 0.1× input, 5-minute cache write 1.25× input.
	"claude-opus-4-5": {Input: 5, Output: 25, CacheRead: 0.50, CacheWrite: 6.25},
	"claude-opus-4-1": {Input: 15, Output: 75, CacheRead: 1.50, CacheWrite: 18.75},
	"claude-opus-4":   {Input: 15, Output: 75, CacheRead: 1.50, CacheWrite: 18.75},
	"claude-sonnet-4-5": {Input: 3, Output: 15, CacheRead: 0.30, CacheWrite: 3.75,
		Tiers: []PriceTier{{AboveInputTokens: 200_000, Input: 6, Output: 22.50, CacheRead: 0.60, CacheWrite: 7.50}}},
	"claude-sonnet-4": {Input: 3, Output: 15, CacheRead: 0.30, CacheWrite: 3.75,
		Tiers: []PriceTier{{AboveInputTokens: 200_000, Input: 6, Output: 22.50, CacheRead: 0.60, CacheWrite: 7.50}}},
	"claude-3-7-sonnet": {Input: 3, Output: 15, CacheRead: 0.30, CacheWrite: 3.75},
	"claude-haiku-4-5":  {Input: 1, Output: 5, CacheRead: 0.10, CacheWrite: 1.25},
	"claude-3-5-haiku":  {Input: 0.80, Output: 4, CacheRead: 0.08, CacheWrite: 1},

	// Google. Context caching storage is billed per hour, not per token:
	// cache writes count as input.
	"gemini-3-pro-preview": {Input: 2, Output: 12, CacheRead: 0.20, CacheWrite: 2,
		Tiers: []PriceTier{{AboveInputTokens: 200_000, Input: 4, Output: 18, CacheRead: 0.40, CacheWrite: 4}}},
	"gemini-2.5-pro": {Input: 1.25, Output: 10, CacheRead: 0.125, CacheWrite: 1.25,
		Tiers: []PriceTier{{AboveInputTokens: 200_000, Input: 2.50, Output: 15, CacheRead: 0.25, CacheWrite: 2.50}}},
	"gemini-2.5-flash":      {Input: 0.30, Output: 2.50, CacheRead: 0.03, CacheWrite: 0.30},
	"gemini-2.5-flash-lite": {Input: 0.10, Output: 0.40, CacheRead: 0.01, CacheWrite: 0.10},
	"gemini-2.0-flash":      {Input: 0.10, Output: 0.40, CacheRead: 0.025, CacheWrite: 0.10},

	// xAI.
	"grok-4":                    {Input: 3, Output: 15, CacheRead: 0.75, CacheWrite: 3},
	"grok-4-fast":               {Input: 0.20, Output: 0.50, CacheRead: 0.05, CacheWrite: 0.20},
	"grok-4-fast-reasoning":     {Input: 0.20, Output: 0.50, CacheRead: 0.05, CacheWrite: 0.20},
	"grok-4-fast-non-reasoning": {Input: 0.20, Output: 0.50, CacheRead: 0.05, CacheWrite: 0.20},
	"grok-code-fast-1":          {Input: 0.20, Output: 1.50, CacheRead: 0.02, CacheWrite: 0.20},
	"grok-3":                    {Input: 3, Output: 15, CacheRead: 0.75, CacheWrite: 3},
	"grok-3-mini":               {Input: 0.30, Output: 0.50, CacheRead: 0.075, CacheWrite: 0.30},
}

// DefaultPriceBook returns a price book with public list prices of the
// main current OpenAI, Anthropic, Google and xAI models.
func DefaultPriceBook() *PriceBook {
	b, err := NewPriceBook(defaultPrices)
	if err != nil {
		panic(err) // the built-in table is valid; tests check it
	}
	return b
}
