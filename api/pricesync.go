package api

// The model price sync: downloading the public price catalogues, parsing
// each one's format into priced entries, and matching the entries to the
// model names seen in usage. Nothing here touches the database.

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cpam-caddy/cpam/usage"
)

// Names of the price catalogues (PriceSource.Name, and the source of a
// price synced from them).
const (
	sourceModelsDev  = "models.dev"
	sourceLiteLLM    = "litellm"
	sourceOpenRouter = "openrouter"
)

// Limits of the price sync.
const (
	// priceFetchTimeout bounds the download of one catalogue.
	priceFetchTimeout = 10 * time.Second
	// maxCandidates is how many candidates an ambiguous model lists.
	maxCandidates = 8
	// longContextTokens is the threshold of the catalogues' long-context
	// prices (LiteLLM's *_above_200k_tokens, models.dev's
	// context_over_200k).
	longContextTokens = 200_000
)

// maxCatalogueSize is the largest catalogue accepted, in bytes (the real
// ones are 1-2 MiB); a variable for tests.
var maxCatalogueSize int64 = 64 << 20

// catalogueEntry is one priced model of a catalogue.
type catalogueEntry struct {
	// ID is the model id the entry is matched by: the models.dev model id,
	// the LiteLLM key, the OpenRouter id ("openai/gpt-5").
	ID string
	// Ref names the entry in answers: ID, with the provider in front for
	// models.dev ("openai/gpt-5"), whose ids repeat across providers.
	Ref string
	// Vendor is who offers the entry, lower case: the models.dev provider
	// id, LiteLLM's litellm_provider, the prefix of an OpenRouter id.
	Vendor string
	Price  usage.Price
	// Raw is the catalogue's entry, compacted.
	Raw json.RawMessage
}

// catNum is a catalogue price: a JSON number or a numeric string;
// absent or null is not set.
type catNum struct {
	v   float64
	set bool
}

func (n *catNum) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	if s == "null" {
		*n = catNum{}
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			*n = catNum{}
			return nil
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("price %s is not a number", strconv.Quote(truncate(s, 40)))
	}
	*n = catNum{v: v, set: true}
	return nil
}

// truncate cuts s to at most n bytes.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// perMillion converts a per-token price to USD per 1M tokens, rounded to
// 12 significant digits so that 1.25e-06 gives 1.25, not 1.2499999999999998.
func perMillion(v float64) float64 { return roundSig(v * 1e6) }

// roundSig rounds v to 12 significant digits.
func roundSig(v float64) float64 {
	r, err := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 12, 64), 64)
	if err != nil {
		return v
	}
	return r
}

// usable reports whether every set value is finite and not negative
// (catalogues write -1 or leave garbage for prices they do not know).
func usable(ns ...catNum) bool {
	for _, n := range ns {
		if n.set && (n.v < 0 || math.IsNaN(n.v) || math.IsInf(n.v, 0)) {
			return false
		}
	}
	return true
}

// compactRaw returns b compacted (b itself when it cannot be).
func compactRaw(b []byte) json.RawMessage {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return json.RawMessage(b)
	}
	return json.RawMessage(buf.Bytes())
}

// parseCatalogue parses the catalogue of source.
func parseCatalogue(source string, data []byte) ([]catalogueEntry, error) {
	var (
		entries []catalogueEntry
		err     error
	)
	switch source {
	case sourceModelsDev:
		entries, err = parseModelsDev(data)
	case sourceLiteLLM:
		entries, err = parseLiteLLM(data)
	case sourceOpenRouter:
		entries, err = parseOpenRouter(data)
	default:
		return nil, fmt.Errorf("unknown price source %q: the sources are %s, %s and %s", source, sourceModelsDev, sourceLiteLLM, sourceOpenRouter)
	}
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, errors.New("the catalogue lists no priced models; check the URL")
	}
	return entries, nil
}

// parseModelsDev reads models.dev's api.json, {providerId: {"id", "name",
// "models": {modelId: {"id", "name", "cost": {...}}}}}, or the same
// providers under a "providers" key. Costs are USD per 1M tokens already.
func parseModelsDev(data []byte) ([]catalogueEntry, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("not a models.dev catalogue (a JSON object of providers): %w", err)
	}
	if p, ok := top["providers"]; ok && bytes.HasPrefix(bytes.TrimSpace(p), []byte("{")) {
		top = nil
		if err := json.Unmarshal(p, &top); err != nil {
			return nil, fmt.Errorf("not a models.dev catalogue (providers is not an object of providers): %w", err)
		}
	}
	type cost struct {
		Input      catNum `json:"input"`
		Output     catNum `json:"output"`
		CacheRead  catNum `json:"cache_read"`
		CacheWrite catNum `json:"cache_write"`
	}
	type model struct {
		ID   string `json:"id"`
		Cost *struct {
			cost
			Over200K *cost `json:"context_over_200k"`
		} `json:"cost"`
	}
	var out []catalogueEntry
	for pkey, praw := range top {
		var prov struct {
			ID     string                     `json:"id"`
			Models map[string]json.RawMessage `json:"models"`
		}
		if json.Unmarshal(praw, &prov) != nil {
			continue // not a provider object
		}
		vendor := cmp.Or(prov.ID, pkey)
		for mkey, mraw := range prov.Models {
			var m model
			if json.Unmarshal(mraw, &m) != nil || m.Cost == nil {
				continue
			}
			c := m.Cost
			if (!c.Input.set && !c.Output.set) || !usable(c.Input, c.Output, c.CacheRead, c.CacheWrite) {
				continue
			}
			p := usage.Price{Input: c.Input.v, Output: c.Output.v, CacheRead: c.CacheRead.v, CacheWrite: c.CacheWrite.v}
			if o := c.Over200K; o != nil && usable(o.Input, o.Output, o.CacheRead, o.CacheWrite) && (o.Input.set || o.Output.set) {
				p.Tiers = []usage.PriceTier{{AboveInputTokens: longContextTokens, Input: o.Input.v, Output: o.Output.v,
					CacheRead: o.CacheRead.v, CacheWrite: o.CacheWrite.v}}
			}
			id := cmp.Or(m.ID, mkey)
			out = append(out, catalogueEntry{ID: id, Ref: vendor + "/" + id, Vendor: strings.ToLower(vendor), Price: p,
				Raw: compactRaw(mraw)})
		}
	}
	return out, nil
}

// parseLiteLLM reads LiteLLM's model_prices_and_context_window.json,
// {modelKey: {"input_cost_per_token", "output_cost_per_token",
// "cache_read_input_token_cost", "cache_creation_input_token_cost",
// "litellm_provider", ...}} with prices per token. The *_above_200k_tokens
// prices become a tier above 200,000 input tokens.
func parseLiteLLM(data []byte) ([]catalogueEntry, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("not a LiteLLM price list (a JSON object of models): %w", err)
	}
	type entry struct {
		Provider       string `json:"litellm_provider"`
		Input          catNum `json:"input_cost_per_token"`
		Output         catNum `json:"output_cost_per_token"`
		CacheRead      catNum `json:"cache_read_input_token_cost"`
		CacheWrite     catNum `json:"cache_creation_input_token_cost"`
		Input200K      catNum `json:"input_cost_per_token_above_200k_tokens"`
		Output200K     catNum `json:"output_cost_per_token_above_200k_tokens"`
		CacheRead200K  catNum `json:"cache_read_input_token_cost_above_200k_tokens"`
		CacheWrite200K catNum `json:"cache_creation_input_token_cost_above_200k_tokens"`
	}
	var out []catalogueEntry
	for key, raw := range top {
		if key == "sample_spec" || !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
			continue
		}
		var e entry
		if json.Unmarshal(raw, &e) != nil {
			continue
		}
		if (!e.Input.set && !e.Output.set) || !usable(e.Input, e.Output, e.CacheRead, e.CacheWrite) {
			continue
		}
		p := usage.Price{Input: perMillion(e.Input.v), Output: perMillion(e.Output.v),
			CacheRead: perMillion(e.CacheRead.v), CacheWrite: perMillion(e.CacheWrite.v)}
		if (e.Input200K.set || e.Output200K.set) && usable(e.Input200K, e.Output200K, e.CacheRead200K, e.CacheWrite200K) {
			p.Tiers = []usage.PriceTier{{AboveInputTokens: longContextTokens, Input: perMillion(e.Input200K.v),
				Output: perMillion(e.Output200K.v), CacheRead: perMillion(e.CacheRead200K.v), CacheWrite: perMillion(e.CacheWrite200K.v)}}
		}
		out = append(out, catalogueEntry{ID: key, Ref: key, Vendor: strings.ToLower(e.Provider), Price: p, Raw: compactRaw(raw)})
	}
	return out, nil
}

// parseOpenRouter reads OpenRouter's /api/v1/models, {"data": [{"id":
// "openai/gpt-5", "pricing": {"prompt", "completion", "input_cache_read",
// "input_cache_write"}}]} with prices per token as strings. Models priced
// -1 (routers priced per request) are skipped.
func parseOpenRouter(data []byte) ([]catalogueEntry, error) {
	var top struct {
		Data []json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("not an OpenRouter model list ({\"data\": [...]}): %w", err)
	}
	var out []catalogueEntry
	for _, raw := range top.Data {
		var m struct {
			ID      string `json:"id"`
			Pricing *struct {
				Prompt     catNum `json:"prompt"`
				Completion catNum `json:"completion"`
				CacheRead  catNum `json:"input_cache_read"`
				CacheWrite catNum `json:"input_cache_write"`
			} `json:"pricing"`
		}
		if json.Unmarshal(raw, &m) != nil || m.ID == "" || m.Pricing == nil {
			continue
		}
		pr := m.Pricing
		if (!pr.Prompt.set && !pr.Completion.set) || !usable(pr.Prompt, pr.Completion, pr.CacheRead, pr.CacheWrite) {
			continue
		}
		vendor, _, _ := strings.Cut(m.ID, "/")
		out = append(out, catalogueEntry{ID: m.ID, Ref: m.ID, Vendor: strings.ToLower(vendor),
			Price: usage.Price{Input: perMillion(pr.Prompt.v), Output: perMillion(pr.Completion.v),
				CacheRead: perMillion(pr.CacheRead.v), CacheWrite: perMillion(pr.CacheWrite.v)},
			Raw: compactRaw(raw)})
	}
	return out, nil
}

// ---- matching ----

// Match rules, tried in order; the first one with hits decides.
const (
	ruleExact = iota
	ruleFold
	ruleTail
	ruleNormalized
	numRules
)

// catalogue is a parsed catalogue indexed by every match rule.
type catalogue struct {
	source  string
	entries []catalogueEntry
	index   [numRules]map[string][]int
}

// ruleKey is the key of name under rule; "" never matches.
func ruleKey(rule int, name string) string {
	switch rule {
	case ruleExact:
		return name
	case ruleFold:
		return strings.ToLower(name)
	case ruleTail:
		return modelTail(name)
	default:
		return usage.NormalizeModel(name)
	}
}

// modelTail is a model name without provider prefixes, lower case:
// what follows the last "/" ("openai/gpt-5" → "gpt-5"), without leading
// dotted vendor and region words ("us.anthropic.claude-…" → "claude-…").
// A dotted word with a digit ("gpt-4.1") is part of the name.
func modelTail(name string) string {
	s := strings.ToLower(strings.TrimSpace(name))
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	for {
		i := strings.IndexByte(s, '.')
		if i <= 0 || i == len(s)-1 || strings.ContainsFunc(s[:i], func(r rune) bool { return !(r >= 'a' && r <= 'z' || r == '-' || r == '_') }) {
			return s
		}
		s = s[i+1:]
	}
}

// newCatalogue indexes entries of source.
func newCatalogue(source string, entries []catalogueEntry) *catalogue {
	c := &catalogue{source: source, entries: entries}
	for r := range c.index {
		c.index[r] = make(map[string][]int, len(entries))
	}
	for i, e := range entries {
		for r := range c.index {
			if k := ruleKey(r, e.ID); k != "" {
				c.index[r][k] = append(c.index[r][k], i)
			}
		}
	}
	return c
}

// hits returns the entries of the first rule that finds model.
func (c *catalogue) hits(model string) []*catalogueEntry {
	for r := range c.index {
		k := ruleKey(r, model)
		if k == "" {
			continue
		}
		if idx := c.index[r][k]; len(idx) > 0 {
			out := make([]*catalogueEntry, len(idx))
			for i, j := range idx {
				out[i] = &c.entries[j]
			}
			return out
		}
	}
	return nil
}

// samePrice reports whether two prices are equal, tiers included.
func samePrice(a, b usage.Price) bool {
	return a.Input == b.Input && a.Output == b.Output && a.CacheRead == b.CacheRead && a.CacheWrite == b.CacheWrite &&
		slices.Equal(a.Tiers, b.Tiers)
}

// distinctPrices counts the different prices of es.
func distinctPrices(es []*catalogueEntry) int {
	var seen []usage.Price
	for _, e := range es {
		if !slices.ContainsFunc(seen, func(p usage.Price) bool { return samePrice(p, e.Price) }) {
			seen = append(seen, e.Price)
		}
	}
	return len(seen)
}

// homeVendors lists the vendors that sell a model family first-hand, by
// the start of the normalised name. Catalogues list popular models under
// many resellers with different prices; when the hits disagree, the
// first-hand entries decide.
var homeVendors = []struct {
	prefixes []string
	vendors  []string
}{
	{[]string{"gpt-", "o1", "o3", "o4", "chatgpt-", "codex-", "text-embedding-"}, []string{"openai"}},
	{[]string{"claude-"}, []string{"anthropic"}},
	{[]string{"gemini-", "gemma-"}, []string{"google", "gemini"}},
	{[]string{"grok-"}, []string{"xai", "x-ai"}},
	{[]string{"deepseek-"}, []string{"deepseek"}},
	{[]string{"mistral-", "codestral-", "devstral-", "magistral-", "ministral-", "pixtral-"}, []string{"mistral", "mistralai"}},
	{[]string{"kimi-"}, []string{"moonshotai", "moonshot"}},
	{[]string{"glm-"}, []string{"zai", "z-ai", "zhipuai"}},
	{[]string{"qwen"}, []string{"alibaba", "qwen", "dashscope"}},
}

// vendorsOf returns the first-hand vendors of model: the prefix of a
// "vendor/model" name, else by family (see homeVendors).
func vendorsOf(model string) []string {
	if v, _, ok := strings.Cut(strings.ToLower(strings.TrimSpace(model)), "/"); ok && v != "" {
		return []string{v}
	}
	n := usage.NormalizeModel(model)
	for _, hv := range homeVendors {
		for _, p := range hv.prefixes {
			if strings.HasPrefix(n, p) {
				return hv.vendors
			}
		}
	}
	return nil
}

// sourceDecision is what one catalogue says about one model.
type sourceDecision struct {
	// match is the entry chosen when the catalogue prices the model
	// unambiguously.
	match *catalogueEntry
	// hits are the entries found when they disagree (match nil).
	hits []*catalogueEntry
}

// decide matches model against c: no hits, one price (match), or
// disagreeing hits. Among disagreeing hits, the first-hand vendor's
// entries win when they agree.
func (c *catalogue) decide(model string) sourceDecision {
	hits := c.hits(model)
	if len(hits) == 0 {
		return sourceDecision{}
	}
	home := vendorsOf(model)
	isHome := func(e *catalogueEntry) bool { return slices.Contains(home, e.Vendor) }
	// First-hand entries first, then by reference, so the chosen and the
	// listed entries do not depend on the catalogue's order.
	slices.SortFunc(hits, func(a, b *catalogueEntry) int {
		ha, hb := isHome(a), isHome(b)
		if ha != hb {
			if ha {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.Ref, b.Ref)
	})
	if distinctPrices(hits) == 1 {
		return sourceDecision{match: hits[0]}
	}
	if first := slices.DeleteFunc(slices.Clone(hits), func(e *catalogueEntry) bool { return !isHome(e) }); len(first) > 0 && distinctPrices(first) == 1 {
		return sourceDecision{match: first[0]}
	}
	return sourceDecision{hits: hits}
}

// priceMatch is the catalogue entry a model's price is synced from.
type priceMatch struct {
	source string
	entry  *catalogueEntry
}

// modelCandidates are the disagreeing entries found for a model no
// catalogue prices unambiguously.
type modelCandidates struct {
	model      string
	candidates []priceMatch
}

// matchModels matches every model against the catalogues, in priority
// order: the first catalogue that prices a model unambiguously wins.
// Models only found ambiguously are returned with their candidates (at
// most maxCandidates), models found nowhere in unmatched.
func matchModels(cats []*catalogue, models []string) (matched map[string]priceMatch, ambiguous []modelCandidates, unmatched []string) {
	matched = map[string]priceMatch{}
	for _, model := range models {
		var cands []priceMatch
		found := false
		for _, c := range cats {
			d := c.decide(model)
			if d.match != nil {
				matched[model] = priceMatch{source: c.source, entry: d.match}
				found = true
				break
			}
			for _, e := range d.hits {
				if len(cands) < maxCandidates {
					cands = append(cands, priceMatch{source: c.source, entry: e})
				}
			}
		}
		switch {
		case found:
		case len(cands) > 0:
			ambiguous = append(ambiguous, modelCandidates{model: model, candidates: cands})
		default:
			unmatched = append(unmatched, model)
		}
	}
	return matched, ambiguous, unmatched
}

// ---- downloading ----

// sourceResult is one catalogue of a sync run.
type sourceResult struct {
	src PriceSource
	cat *catalogue // nil when the download or parse failed
	err error
}

// fetchCatalogues downloads and parses every source at once, each within
// priceFetchTimeout. The results are in the order of sources.
func fetchCatalogues(ctx context.Context, client *http.Client, sources []PriceSource) []sourceResult {
	out := make([]sourceResult, len(sources))
	var wg sync.WaitGroup
	for i, src := range sources {
		wg.Go(func() {
			out[i].src = src
			data, err := fetchCatalogue(ctx, client, src)
			if err == nil {
				var entries []catalogueEntry
				if entries, err = parseCatalogue(src.Name, data); err == nil {
					out[i].cat = newCatalogue(src.Name, entries)
				}
			}
			out[i].err = err
		})
	}
	wg.Wait()
	return out
}

// fetchCatalogue downloads one catalogue, at most maxCatalogueSize bytes.
// Errors describe the failure, never the content.
func fetchCatalogue(ctx context.Context, client *http.Client, src PriceSource) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, priceFetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("bad URL: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "caddy-cpam price sync")
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("no answer within %s", priceFetchTimeout)
		}
		return nil, fmt.Errorf("download failed: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the server answered %s", resp.Status)
	}
	if resp.ContentLength > maxCatalogueSize {
		return nil, fmt.Errorf("the catalogue is larger than %s", sizeText(maxCatalogueSize))
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxCatalogueSize+1))
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("the download took longer than %s", priceFetchTimeout)
		}
		return nil, fmt.Errorf("download failed: %w", err)
	}
	if int64(len(data)) > maxCatalogueSize {
		return nil, fmt.Errorf("the catalogue is larger than %s", sizeText(maxCatalogueSize))
	}
	return data, nil
}

// sizeText writes n bytes in MiB, or KiB below 1 MiB.
func sizeText(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}
