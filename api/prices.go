package api

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cpam-caddy/cpam/store"
	"github.com/cpam-caddy/cpam/usage"
)

// Limits of the price routes.
const (
	// maxManagementBody bounds the JSON bodies of the price and alias
	// routes; larger bodies get 413.
	maxManagementBody = 1 << 20
	// maxPriceModels is how many models one price list or sync may name.
	maxPriceModels = 5000
	// maxModelNameLen is the longest model name, in characters.
	maxModelNameLen = 200
	// maxPriceTiers is how many tiers one price may have.
	maxPriceTiers = 16
	// defaultRecomputeRange is the period recompute re-prices by default.
	defaultRecomputeRange = 30 * 24 * time.Hour
	// syncUsageRange is how far back the sync looks for models seen in
	// usage.
	syncUsageRange = 90 * 24 * time.Hour
	// priceWriteTimeout bounds the database work of a price change.
	priceWriteTimeout = 30 * time.Second
)

// The source of a built-in price in the price document.
const sourceDefault = "default"

// priceSyncMu lets one price sync run at a time.
var priceSyncMu sync.Mutex

// priceRoutes registers /v0/management/model-prices and its sync.
func (h *Handler) priceRoutes(mux *routeMux) {
	mux.HandleFunc("GET /v0/management/model-prices", h.getPrices)
	mux.HandleFunc("PUT /v0/management/model-prices", h.putPrices)
	mux.HandleFunc("DELETE /v0/management/model-prices/{model...}", h.deletePrice)
	mux.HandleFunc("POST /v0/management/model-prices/recompute", h.recomputePrices)
	mux.HandleFunc("POST /v0/management/model-prices/sync", h.syncPrices)
}

// ---- documents ----

// priceTierJSON is usage.PriceTier. Stored tiers (model_prices.tiers) are a
// JSON array of these.
type priceTierJSON struct {
	AboveInputTokens int64   `json:"aboveInputTokens"`
	Input            float64 `json:"input"`
	Output           float64 `json:"output"`
	CacheRead        float64 `json:"cacheRead"`
	CacheWrite       float64 `json:"cacheWrite"`
}

// priceJSON is usage.Price in USD per 1M tokens.
type priceJSON struct {
	Input      float64         `json:"input"`
	Output     float64         `json:"output"`
	CacheRead  float64         `json:"cacheRead"`
	CacheWrite float64         `json:"cacheWrite"`
	Tiers      []priceTierJSON `json:"tiers"`
}

func priceView(p usage.Price) priceJSON {
	v := priceJSON{Input: p.Input, Output: p.Output, CacheRead: p.CacheRead, CacheWrite: p.CacheWrite,
		Tiers: make([]priceTierJSON, len(p.Tiers))}
	for i, t := range p.Tiers {
		v.Tiers[i] = priceTierJSON(t)
	}
	return v
}

// priceEntryJSON is one model of the price document.
type priceEntryJSON struct {
	priceJSON
	// Source is "default" (built in), "manual" or the catalogue the price
	// was synced from.
	Source string `json:"source"`
	// UpdatedAt is when the stored price was set; null for defaults.
	UpdatedAt *time.Time `json:"updatedAt"`
}

// pricesDocJSON is the answer of GET /v0/management/model-prices.
type pricesDocJSON struct {
	Prices map[string]priceEntryJSON `json:"prices"`
}

// storedPrice converts a stored row to a usage.Price. Tiers that cannot be
// read are dropped (the price book builder reports them).
func storedPrice(p store.ModelPrice) usage.Price {
	price := usage.Price{Input: p.Input, Output: p.Output, CacheRead: p.CacheRead, CacheWrite: p.CacheWrite}
	if len(p.Tiers) > 0 {
		var tiers []priceTierJSON
		if json.Unmarshal(p.Tiers, &tiers) == nil {
			for _, t := range tiers {
				price.Tiers = append(price.Tiers, usage.PriceTier(t))
			}
		}
	}
	return price
}

// encodeTiers is the stored form of tiers; nil without tiers.
func encodeTiers(tiers []usage.PriceTier) json.RawMessage {
	if len(tiers) == 0 {
		return nil
	}
	out := make([]priceTierJSON, len(tiers))
	for i, t := range tiers {
		out[i] = priceTierJSON(t)
	}
	b, _ := json.Marshal(out)
	return b
}

// pricesDocument is the effective price book: the built-in prices
// overlaid by the stored ones.
func pricesDocument(ctx context.Context, s *store.Store) (pricesDocJSON, []store.ModelPrice, error) {
	stored, err := s.ModelPrices(ctx)
	if err != nil {
		return pricesDocJSON{}, nil, err
	}
	doc := pricesDocJSON{Prices: map[string]priceEntryJSON{}}
	for name, p := range usage.DefaultPriceBook().Prices() {
		doc.Prices[name] = priceEntryJSON{priceJSON: priceView(p), Source: sourceDefault}
	}
	for _, p := range stored {
		e := priceEntryJSON{priceJSON: priceView(storedPrice(p)), Source: cmp.Or(p.Source, store.PriceSourceManual)}
		if !p.Updated.IsZero() {
			t := p.Updated
			e.UpdatedAt = &t
		}
		doc.Prices[p.Model] = e
	}
	return doc, stored, nil
}

// ---- request bodies ----

// decodeManagementBody decodes the JSON body of a price or alias route
// (at most maxManagementBody bytes); see decodeBody.
func decodeManagementBody(w http.ResponseWriter, r *http.Request, v any, optional bool, example string) bool {
	return decodeBody(w, r, v, maxManagementBody, optional, example)
}

// answerError answers err of a price or alias route: 400 for a badParam,
// 503 without a database or on timeout, 500 else.
func answerError(w http.ResponseWriter, what string, err error) {
	if b, ok := isBadParam(err); ok {
		writeError(w, http.StatusBadRequest, "bad_parameter", b.msg)
		return
	}
	if errors.Is(err, errNoStore) {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "the usage database is not open yet; check the Caddy log and retry")
		return
	}
	if errors.Is(err, context.DeadlineExceeded) {
		writeError(w, http.StatusServiceUnavailable, "timeout", what+" took too long; retry")
		return
	}
	writeError(w, http.StatusInternalServerError, "internal", what+" failed: "+err.Error())
}

// ---- GET, PUT, DELETE ----

func (h *Handler) getPrices(w http.ResponseWriter, r *http.Request) {
	s, err := h.store()
	if err != nil {
		answerError(w, "reading the prices", err)
		return
	}
	doc, _, err := pricesDocument(r.Context(), s)
	if err != nil {
		answerError(w, "reading the prices", err)
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

// priceInJSON is one model of a PUT body.
type priceInJSON struct {
	Input      *float64 `json:"input"`
	Output     *float64 `json:"output"`
	CacheRead  *float64 `json:"cacheRead"`
	CacheWrite *float64 `json:"cacheWrite"`
	Tiers      []struct {
		AboveInputTokens *int64  `json:"aboveInputTokens"`
		Input            float64 `json:"input"`
		Output           float64 `json:"output"`
		CacheRead        float64 `json:"cacheRead"`
		CacheWrite       float64 `json:"cacheWrite"`
	} `json:"tiers"`
}

const putPricesExample = `{"prices": {"<model>": {"input": 1.25, "output": 10, "cacheRead": 0.125, "cacheWrite": 1.25}}} (USD per 1M tokens)`

// checkModelName validates a model name of a request.
func checkModelName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return badParamf("a model name is empty: name every model")
	case strings.TrimSpace(name) != name:
		return badParamf("model %q starts or ends with spaces: remove them", name)
	case !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl):
		return badParamf("model %q contains control characters or invalid UTF-8", name)
	case utf8.RuneCountInString(name) > maxModelNameLen:
		return badParamf("model %q is longer than %d characters", truncate(name, 40), maxModelNameLen)
	}
	return nil
}

// checkPriceValue validates one price field of model.
func checkPriceValue(model, field string, v float64) error {
	if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return badParamf("model %q: %s is %v: send a price of at least 0 (USD per 1M tokens)", model, field, v)
	}
	return nil
}

// parsePrice validates one model of a PUT body.
func parsePrice(model string, in priceInJSON) (usage.Price, error) {
	if in.Input == nil || in.Output == nil {
		return usage.Price{}, badParamf("model %q: input and output are required (USD per 1M tokens); cacheRead and cacheWrite default to the input price", model)
	}
	var p usage.Price
	for _, f := range []struct {
		name string
		src  *float64
		dst  *float64
	}{{"input", in.Input, &p.Input}, {"output", in.Output, &p.Output}, {"cacheRead", in.CacheRead, &p.CacheRead}, {"cacheWrite", in.CacheWrite, &p.CacheWrite}} {
		if f.src == nil {
			continue
		}
		if err := checkPriceValue(model, f.name, *f.src); err != nil {
			return usage.Price{}, err
		}
		*f.dst = *f.src
	}
	if len(in.Tiers) > maxPriceTiers {
		return usage.Price{}, badParamf("model %q has %d tiers: send at most %d", model, len(in.Tiers), maxPriceTiers)
	}
	for i, t := range in.Tiers {
		field := fmt.Sprintf("tiers[%d]", i)
		if t.AboveInputTokens == nil || *t.AboveInputTokens <= 0 {
			return usage.Price{}, badParamf("model %q: %s.aboveInputTokens must be a positive number of input tokens", model, field)
		}
		for _, f := range []struct {
			name string
			v    float64
		}{{"input", t.Input}, {"output", t.Output}, {"cacheRead", t.CacheRead}, {"cacheWrite", t.CacheWrite}} {
			if err := checkPriceValue(model, field+"."+f.name, f.v); err != nil {
				return usage.Price{}, err
			}
		}
		if slices.ContainsFunc(p.Tiers, func(o usage.PriceTier) bool { return o.AboveInputTokens == *t.AboveInputTokens }) {
			return usage.Price{}, badParamf("model %q: two tiers start above %d input tokens: keep one", model, *t.AboveInputTokens)
		}
		p.Tiers = append(p.Tiers, usage.PriceTier{AboveInputTokens: *t.AboveInputTokens, Input: t.Input, Output: t.Output,
			CacheRead: t.CacheRead, CacheWrite: t.CacheWrite})
	}
	slices.SortFunc(p.Tiers, func(a, b usage.PriceTier) int { return cmp.Compare(a.AboveInputTokens, b.AboveInputTokens) })
	return p, nil
}

// putPrices answers PUT /v0/management/model-prices: the body replaces
// every manual price.
func (h *Handler) putPrices(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Prices map[string]priceInJSON `json:"prices"`
	}
	if !decodeManagementBody(w, r, &body, false, putPricesExample) {
		return
	}
	if body.Prices == nil {
		writeError(w, http.StatusBadRequest, "bad_parameter", "prices is missing: send "+putPricesExample+"; {\"prices\": {}} removes every manual price")
		return
	}
	if len(body.Prices) > maxPriceModels {
		writeError(w, http.StatusBadRequest, "bad_parameter", fmt.Sprintf("prices lists %d models: send at most %d", len(body.Prices), maxPriceModels))
		return
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range body.Prices {
			if !yield(n) {
				return
			}
		}
	})
	prices := make(map[string]usage.Price, len(names))
	for _, name := range names {
		if err := checkModelName(name); err != nil {
			answerError(w, "", err)
			return
		}
		p, err := parsePrice(name, body.Prices[name])
		if err != nil {
			answerError(w, "", err)
			return
		}
		prices[name] = p
	}
	s, err := h.store()
	if err != nil {
		answerError(w, "saving the prices", err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), priceWriteTimeout)
	defer cancel()
	stored, err := s.ModelPrices(ctx)
	if err != nil {
		answerError(w, "reading the prices", err)
		return
	}
	defaults := usage.DefaultPriceBook().Prices()
	synced := make(map[string]usage.Price)
	for _, sp := range stored {
		if cmp.Or(sp.Source, store.PriceSourceManual) != store.PriceSourceManual {
			synced[sp.Model] = storedPrice(sp)
		}
	}
	now := timeNow()
	var upserts []store.ModelPrice
	var deletes []string
	for _, name := range names {
		p := prices[name]
		if sp, ok := synced[name]; ok && samePrice(sp, p) {
			// A panel sends back the whole price list: an unchanged synced
			// price stays synced, so later syncs may still update it.
			continue
		}
		if d, ok := defaults[name]; ok && samePrice(d, p) {
			// The built-in price says the same: nothing to store, and a
			// stored price of the model would hide it.
			deletes = append(deletes, name)
			continue
		}
		upserts = append(upserts, store.ModelPrice{Model: name, Input: p.Input, Output: p.Output, CacheRead: p.CacheRead,
			CacheWrite: p.CacheWrite, Tiers: encodeTiers(p.Tiers), Updated: now, Source: store.PriceSourceManual})
	}
	for _, sp := range stored {
		if _, listed := prices[sp.Model]; !listed && cmp.Or(sp.Source, store.PriceSourceManual) == store.PriceSourceManual {
			deletes = append(deletes, sp.Model)
		}
	}
	if _, err := s.ReplaceModelPrices(ctx, upserts, deletes); err != nil {
		answerError(w, "saving the prices", err)
		return
	}
	h.answerPricesChanged(ctx, w, s)
}

// answerPricesChanged rebuilds the price book and answers the price
// document.
func (h *Handler) answerPricesChanged(ctx context.Context, w http.ResponseWriter, s *store.Store) {
	if err := h.opts.Backend.PricesChanged(ctx); err != nil {
		writeError(w, http.StatusInternalServerError, "internal",
			"the prices are saved, but new events are still costed with the old ones ("+err.Error()+"); fix the stored prices or restart Caddy")
		return
	}
	doc, _, err := pricesDocument(ctx, s)
	if err != nil {
		answerError(w, "reading the prices", err)
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

// deletePrice answers DELETE /v0/management/model-prices/{model}: the
// stored price goes, the built-in one (if any) applies again.
func (h *Handler) deletePrice(w http.ResponseWriter, r *http.Request) {
	model := r.PathValue("model")
	s, err := h.store()
	if err != nil {
		answerError(w, "deleting the price", err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), priceWriteTimeout)
	defer cancel()
	n, err := s.DeleteModelPrices(ctx, model)
	if err != nil {
		answerError(w, "deleting the price", err)
		return
	}
	if n == 0 {
		msg := fmt.Sprintf("no stored price for model %q: GET /v0/management/model-prices lists them", truncate(model, 200))
		if _, ok := usage.DefaultPriceBook().Prices()[model]; ok {
			msg = fmt.Sprintf("model %q has only its built-in price, which cannot be deleted: PUT a price to override it", model)
		}
		writeError(w, http.StatusNotFound, "not_found", msg)
		return
	}
	h.answerPricesChanged(ctx, w, s)
}

// ---- recompute ----

// recomputePrices answers POST /v0/management/model-prices/recompute: the
// stored events of a period are priced again with the current price book.
func (h *Handler) recomputePrices(w http.ResponseWriter, r *http.Request) {
	var body struct {
		From string `json:"from"`
		To   string `json:"to"`
	}
	const example = `{"from": "2026-01-01T00:00:00Z", "to": "2026-02-01"} (RFC 3339 or a UTC date; default the last 30 days)`
	if !decodeManagementBody(w, r, &body, true, example) {
		return
	}
	parse := func(name, v string) (time.Time, error) {
		v = strings.TrimSpace(v)
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			if d, derr := time.Parse(time.DateOnly, v); derr == nil {
				return d, nil
			}
			return t, badParamf("%s %q is not an RFC 3339 time or a date: send e.g. %s", name, v, example)
		}
		return t, nil
	}
	var from, to time.Time
	var err error
	if strings.TrimSpace(body.To) != "" {
		if to, err = parse("to", body.To); err != nil {
			answerError(w, "", err)
			return
		}
	} else {
		to = timeNow()
	}
	if strings.TrimSpace(body.From) != "" {
		if from, err = parse("from", body.From); err != nil {
			answerError(w, "", err)
			return
		}
	} else {
		from = to.Add(-defaultRecomputeRange)
	}
	if !from.Before(to) {
		answerError(w, "", badParamf("from (%s) must be before to (%s)", from.Format(time.RFC3339), to.Format(time.RFC3339)))
		return
	}
	if to.Sub(from) > maxRange {
		answerError(w, "", badParamf("the period from %s to %s is longer than %d days: recompute a shorter period, or several",
			from.Format(time.RFC3339), to.Format(time.RFC3339), int(maxRange/(24*time.Hour))))
		return
	}
	s, err := h.store()
	if err != nil {
		answerError(w, "recomputing costs", err)
		return
	}
	norm := h.opts.Backend.Normalizer()
	var book *usage.PriceBook
	if norm != nil {
		book = norm.Prices()
	}
	if book == nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "the price book is not loaded because usage collection is not running; check the cpam configuration and the Caddy log, then retry")
		return
	}
	res, err := s.RecomputeCost(r.Context(), from, to, book)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal",
			fmt.Sprintf("recomputing stopped after %d buckets (%d events repriced): %v; retry to finish", res.Buckets, res.Repriced, err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"from": from.UTC(), "to": to.UTC(), "events": res.Events, "repriced": res.Repriced,
		"buckets": res.Buckets, "skippedBuckets": res.SkippedBuckets,
	})
}

// ---- sync ----

// syncSourceJSON reports one catalogue of a sync.
type syncSourceJSON struct {
	Source string `json:"source"`
	URL    string `json:"url"`
	// Models counts the priced entries parsed.
	Models int    `json:"models"`
	Error  string `json:"error,omitempty"`
}

// syncMatchJSON is a catalogue entry a model was (or could be) priced from.
type syncMatchJSON struct {
	Source        string    `json:"source"`
	SourceModelID string    `json:"sourceModelId"`
	Price         priceJSON `json:"price"`
}

// syncCandidatesJSON lists the disagreeing entries of an ambiguous model.
type syncCandidatesJSON struct {
	Model      string          `json:"model"`
	Candidates []syncMatchJSON `json:"candidates"`
}

// syncResultJSON is the answer of POST /v0/management/model-prices/sync.
type syncResultJSON struct {
	Sources []syncSourceJSON `json:"sources"`
	// Imported counts the prices written.
	Imported int                      `json:"imported"`
	Matched  map[string]syncMatchJSON `json:"matched"`
	// Candidates are the models no catalogue priced unambiguously.
	Candidates []syncCandidatesJSON `json:"candidates"`
	// Unmatched are the models no catalogue knows.
	Unmatched []string `json:"unmatched"`
	// Preserved are the models with a manual price, left alone.
	Preserved []string `json:"preserved"`
	// Kept are the models synced earlier from a catalogue that ranks above
	// this run's match but failed this time; their price is left alone.
	Kept   []string      `json:"kept"`
	Prices pricesDocJSON `json:"prices"`
}

func matchView(m priceMatch) syncMatchJSON {
	return syncMatchJSON{Source: m.source, SourceModelID: m.entry.Ref, Price: priceView(m.entry.Price)}
}

// syncPrices answers POST /v0/management/model-prices/sync: the models
// named (default: those with a stored price or seen in usage in the last
// 90 days) are priced from the catalogues, in priority order.
func (h *Handler) syncPrices(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Models []string `json:"models"`
	}
	if !decodeManagementBody(w, r, &body, true, `{"models": ["gpt-5", "claude-sonnet-4-5"]} or nothing (every model seen)`) {
		return
	}
	if len(body.Models) > maxPriceModels {
		writeError(w, http.StatusBadRequest, "bad_parameter", fmt.Sprintf("models lists %d models: send at most %d", len(body.Models), maxPriceModels))
		return
	}
	for _, m := range body.Models {
		if err := checkModelName(m); err != nil {
			answerError(w, "", err)
			return
		}
	}
	sources := h.opts.PriceSources
	if len(sources) == 0 {
		writeError(w, http.StatusServiceUnavailable, "no_sources", "every price source is switched off: enable one in price_sources of the cpam global option")
		return
	}
	s, err := h.store()
	if err != nil {
		answerError(w, "syncing the prices", err)
		return
	}
	if !priceSyncMu.TryLock() {
		writeError(w, http.StatusConflict, "busy", "a price sync is already running: wait for it to finish")
		return
	}
	defer priceSyncMu.Unlock()

	ctx := r.Context()
	stored, err := s.ModelPrices(ctx)
	if err != nil {
		answerError(w, "reading the prices", err)
		return
	}
	models := body.Models
	if len(models) == 0 {
		if models, err = syncTargets(ctx, s, stored); err != nil {
			answerError(w, "listing the models seen in usage", err)
			return
		}
	}
	slices.Sort(models)
	models = slices.Compact(models)

	client := h.opts.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: priceFetchTimeout}
	}
	results := fetchCatalogues(ctx, client, sources)
	res := syncResultJSON{Sources: make([]syncSourceJSON, len(results)), Matched: map[string]syncMatchJSON{},
		Candidates: []syncCandidatesJSON{}, Unmatched: []string{}, Preserved: []string{}, Kept: []string{}}
	var cats []*catalogue
	rank := map[string]int{} // source name → priority, 0 first
	failed := map[string]bool{}
	for i, sr := range results {
		res.Sources[i] = syncSourceJSON{Source: sr.src.Name, URL: sr.src.URL}
		if _, ok := rank[sr.src.Name]; !ok {
			rank[sr.src.Name] = i
		}
		if sr.err != nil {
			res.Sources[i].Error = sr.err.Error()
			failed[sr.src.Name] = true
			continue
		}
		res.Sources[i].Models = len(sr.cat.entries)
		cats = append(cats, sr.cat)
	}
	if len(cats) == 0 {
		writeJSON(w, http.StatusBadGateway, map[string]any{
			"error":   "no price catalogue could be read, nothing was changed: check the errors of each source and the network of the Caddy host",
			"code":    "sources_failed",
			"sources": res.Sources,
		})
		return
	}
	if ctx.Err() != nil {
		return // the client went away during the downloads
	}

	byModel := make(map[string]store.ModelPrice, len(stored))
	for _, p := range stored {
		byModel[p.Model] = p
	}
	var targets []string
	for _, m := range models {
		if p, ok := byModel[m]; ok && cmp.Or(p.Source, store.PriceSourceManual) == store.PriceSourceManual {
			res.Preserved = append(res.Preserved, m)
			continue
		}
		targets = append(targets, m)
	}
	matched, ambiguous, unmatched := matchModels(cats, targets)
	now := timeNow()
	var upserts []store.ModelPrice
	for _, m := range targets {
		pm, ok := matched[m]
		if !ok {
			continue
		}
		// A price synced from a higher-ranked catalogue that failed this
		// time is not replaced by a lower-ranked one.
		if old, ok := byModel[m]; ok {
			if r, known := rank[old.Source]; known && r < rank[pm.source] && failed[old.Source] {
				res.Kept = append(res.Kept, m)
				continue
			}
		}
		p := pm.entry.Price
		upserts = append(upserts, store.ModelPrice{Model: m, Input: p.Input, Output: p.Output, CacheRead: p.CacheRead,
			CacheWrite: p.CacheWrite, Tiers: encodeTiers(p.Tiers), Updated: now, Source: pm.source, Raw: pm.entry.Raw})
		res.Matched[m] = matchView(pm)
	}
	for _, a := range ambiguous {
		c := syncCandidatesJSON{Model: a.model}
		for _, pm := range a.candidates {
			c.Candidates = append(c.Candidates, matchView(pm))
		}
		res.Candidates = append(res.Candidates, c)
	}
	res.Unmatched = append(res.Unmatched, unmatched...)

	wctx, cancel := context.WithTimeout(ctx, priceWriteTimeout)
	defer cancel()
	if len(upserts) > 0 {
		kept, err := s.ReplaceModelPrices(wctx, upserts, nil)
		if err != nil {
			answerError(w, "saving the synced prices", err)
			return
		}
		// Prices made manual while the catalogues downloaded stay.
		for _, m := range kept {
			delete(res.Matched, m)
			res.Preserved = append(res.Preserved, m)
		}
		res.Imported = len(upserts) - len(kept)
		slices.Sort(res.Preserved)
		if err := h.opts.Backend.PricesChanged(wctx); err != nil {
			writeError(w, http.StatusInternalServerError, "internal",
				"the synced prices are saved, but new events are still costed with the old ones ("+err.Error()+"); fix the stored prices or restart Caddy")
			return
		}
	}
	if res.Prices, _, err = pricesDocument(wctx, s); err != nil {
		answerError(w, "reading the prices", err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// syncTargets are the models a sync prices by default: every stored price
// and every model and alias seen in usage in the last syncUsageRange.
func syncTargets(ctx context.Context, s *store.Store, stored []store.ModelPrice) ([]string, error) {
	var out []string
	for _, p := range stored {
		out = append(out, p.Model)
	}
	to := timeNow()
	f := store.Filter{From: to.Add(-syncUsageRange), To: to}
	for _, dim := range []string{"model", "alias"} {
		names, err := s.Distinct(ctx, dim, f)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			if checkModelName(n) == nil {
				out = append(out, n)
			}
		}
	}
	return out, nil
}
