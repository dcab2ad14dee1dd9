package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cpam-caddy/cpam/store"
	"github.com/cpam-caddy/cpam/usage"
)

// readFixture reads testdata/prices/name.
func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "prices", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// catalogueServer serves the files of testdata/prices; paths under /fail/
// answer 500. It counts requests.
func catalogueServer(t testing.TB) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if strings.HasPrefix(r.URL.Path, "/fail/") {
			http.Error(w, "catalogue broken", http.StatusInternalServerError)
			return
		}
		http.ServeFile(w, r, filepath.Join("testdata", "prices", filepath.Base(r.URL.Path)))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// syncHandler is the fixture's handler with the three sources served by
// srv at the given paths ("" skips a source).
func syncHandler(t testing.TB, b *fakeBackend, srv *httptest.Server, modelsDev, litellm, openrouter string) *Handler {
	t.Helper()
	var src []PriceSource
	for _, s := range []PriceSource{{sourceModelsDev, modelsDev}, {sourceLiteLLM, litellm}, {sourceOpenRouter, openrouter}} {
		if s.URL != "" {
			src = append(src, PriceSource{Name: s.Name, URL: srv.URL + s.URL})
		}
	}
	return New(Options{Backend: b, PriceSources: src, HTTPClient: srv.Client()})
}

func entryByRef(es []catalogueEntry, ref string) *catalogueEntry {
	for i := range es {
		if es[i].Ref == ref {
			return &es[i]
		}
	}
	return nil
}

func TestParseCatalogues(t *testing.T) {
	refs := func(es []catalogueEntry) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.Ref)
		}
		slices.Sort(out)
		return out
	}
	md, err := parseCatalogue(sourceModelsDev, readFixture(t, "models-dev.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"acme/manual-model", "acme/mystery-model", "acme/priority-model", "acme/split-model",
		"anthropic/claude-sonnet-4-5", "azure/gpt-5", "openai/gpt-5", "zeta/mystery-model", "zeta/split-model"}
	if got := refs(md); !slices.Equal(got, want) {
		t.Errorf("models.dev entries %v, want %v", got, want)
	}
	c := entryByRef(md, "anthropic/claude-sonnet-4-5")
	wantClaude := usage.Price{Input: 3, Output: 15, CacheRead: 0.3, CacheWrite: 3.75,
		Tiers: []usage.PriceTier{{AboveInputTokens: 200000, Input: 6, Output: 22.5, CacheRead: 0.6, CacheWrite: 7.5}}}
	if c == nil || c.ID != "claude-sonnet-4-5" || c.Vendor != "anthropic" || !samePrice(c.Price, wantClaude) {
		t.Errorf("claude: %+v", c)
	}
	var raw map[string]any
	if err := json.Unmarshal(c.Raw, &raw); err != nil || raw["name"] != "Claude Sonnet 4.5" {
		t.Errorf("raw entry %s: %v", c.Raw, err)
	}

	cat, err := parseCatalogue(sourceModelsDev, readFixture(t, "models-dev-catalog.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := refs(cat); !slices.Equal(got, []string{"openai/gpt-5-mini", "xai/grok-4"}) {
		t.Errorf("models.dev catalog shape: %v", got)
	}

	ll, err := parseCatalogue(sourceLiteLLM, readFixture(t, "litellm.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := refs(ll); !slices.Equal(got, []string{"anthropic.claude-haiku-9-v1:0", "gemini-2.5-pro", "litellm-only", "priority-model", "split-model"}) {
		t.Errorf("litellm entries %v", got)
	}
	g := entryByRef(ll, "gemini-2.5-pro")
	wantGemini := usage.Price{Input: 1.25, Output: 10, CacheRead: 0.125,
		Tiers: []usage.PriceTier{{AboveInputTokens: 200000, Input: 2.5, Output: 15, CacheRead: 0.25}}}
	if g == nil || g.Vendor != "gemini" || !samePrice(g.Price, wantGemini) {
		t.Errorf("gemini (exact per-million conversion): %+v", g)
	}
	if o := entryByRef(ll, "litellm-only"); o == nil || o.Price.Input != 1 || o.Price.Output != 2 {
		t.Errorf("string price: %+v", o)
	}
	if b := entryByRef(ll, "anthropic.claude-haiku-9-v1:0"); b == nil || b.Price.CacheWrite != 1.25 {
		t.Errorf("cache write: %+v", b)
	}

	or, err := parseCatalogue(sourceOpenRouter, readFixture(t, "openrouter.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := refs(or); !slices.Equal(got, []string{"acme/priority-model", "openai/gpt-router", "x-ai/grok-9"}) {
		t.Errorf("openrouter entries %v", got)
	}
	if r := entryByRef(or, "openai/gpt-router"); r == nil || r.Vendor != "openai" || !samePrice(r.Price, usage.Price{Input: 2, Output: 8, CacheRead: 0.5}) {
		t.Errorf("gpt-router: %+v", r)
	}

	for _, c := range []struct{ source, data string }{
		{sourceModelsDev, `[1, 2]`},
		{sourceModelsDev, `{}`},
		{sourceLiteLLM, `{"sample_spec": {"input_cost_per_token": 0}}`},
		{sourceLiteLLM, `<html>`},
		{sourceOpenRouter, `{"data": {}}`},
		{sourceOpenRouter, `{"data": []}`},
		{"pricebook.example", `{}`},
	} {
		if _, err := parseCatalogue(c.source, []byte(c.data)); err == nil {
			t.Errorf("%s %s: no error", c.source, c.data)
		}
	}
}

func TestModelTail(t *testing.T) {
	for in, want := range map[string]string{
		"openai/gpt-5":                     "gpt-5",
		"openrouter/anthropic/Claude-X":    "claude-x",
		"anthropic.claude-3-haiku":         "claude-3-haiku",
		"us.anthropic.claude-sonnet-4-5":   "claude-sonnet-4-5",
		"gpt-4.1":                          "gpt-4.1",
		"claude-sonnet-4.5":                "claude-sonnet-4.5",
		"vertex_ai/gemini-2.5-pro":         "gemini-2.5-pro",
		"bedrock/us.meta.llama-4-maverick": "llama-4-maverick",
	} {
		if got := modelTail(in); got != want {
			t.Errorf("modelTail(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMatchRules(t *testing.T) {
	p := func(in float64) usage.Price { return usage.Price{Input: in, Output: in} }
	cat := newCatalogue("test", []catalogueEntry{
		{ID: "Foo", Ref: "Foo", Price: p(1)},
		{ID: "foo", Ref: "foo", Price: p(2)},
		{ID: "vendor/bar", Ref: "vendor/bar", Price: p(3)},
		{ID: "us.anthropic.claude-z", Ref: "us.anthropic.claude-z", Price: p(4)},
		{ID: "baz-2025-01-01", Ref: "baz-2025-01-01", Price: p(5)},
		{ID: "a/same", Ref: "a/same", Price: p(6)},
		{ID: "b/same", Ref: "b/same", Price: p(6)},
		{ID: "reseller/gpt-9", Ref: "reseller/gpt-9", Vendor: "reseller", Price: p(8)},
		{ID: "openai/gpt-9", Ref: "openai/gpt-9", Vendor: "openai", Price: p(7)},
	})
	for _, c := range []struct {
		model string
		want  string // matched ref; "" none; "?" ambiguous
	}{
		{"Foo", "Foo"},          // exact beats case-insensitive
		{"foo", "foo"},          // exact
		{"FOO", "?"},            // case-insensitive: two prices
		{"bar", "vendor/bar"},   // tail
		{"x/bar", "vendor/bar"}, // tail of both sides
		{"claude-z", "us.anthropic.claude-z"},
		{"baz", "baz-2025-01-01"},        // normalised
		{"baz-latest", "baz-2025-01-01"}, // normalised
		{"same", "a/same"},               // two hits, one price
		{"gpt-9", "openai/gpt-9"},        // first-hand vendor wins a disagreement
		{"nothing", ""},
	} {
		d := cat.decide(c.model)
		var got string
		switch {
		case d.match != nil:
			got = d.match.Ref
		case len(d.hits) > 0:
			got = "?"
		}
		if got != c.want {
			t.Errorf("%s: matched %q, want %q", c.model, got, c.want)
		}
	}
}

// syncAnswer is the answer of the sync route.
type syncAnswer struct {
	Sources []struct {
		Source, URL, Error string
		Models             int
	}
	Imported   int
	Matched    map[string]syncMatchJSON
	Candidates []struct {
		Model      string
		Candidates []syncMatchJSON
	}
	Unmatched, Preserved, Kept []string
	Prices                     pricesDocJSON
}

func TestPriceSync(t *testing.T) {
	h, b := fixture(t)
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	setNow(t, now)
	ctx := context.Background()
	if err := b.s.PutModelPrice(ctx, store.ModelPrice{Model: "manual-model", Input: 0.5, Output: 0.5, Updated: t0}); err != nil {
		t.Fatal(err)
	}
	srv, _ := catalogueServer(t)
	h = syncHandler(t, b, srv, "/models-dev.json", "/litellm.json", "/openrouter.json")
	code, body := sendJSON(t, h, "POST", "/v0/management/model-prices/sync", `{"models": [
		"gpt-5", "claude-sonnet-4-5-20250929", "priority-model", "split-model", "mystery-model", "gpt-router",
		"GEMINI-2.5-PRO", "grok-9", "unknown-xyz", "manual-model", "gpt-5"]}`)
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
	res := decodeAs[syncAnswer](t, body)
	if len(res.Sources) != 3 || res.Sources[0].Source != sourceModelsDev || res.Sources[0].Models != 9 ||
		res.Sources[1].Models != 5 || res.Sources[2].Models != 3 || res.Sources[1].URL != srv.URL+"/litellm.json" {
		t.Errorf("sources: %+v", res.Sources)
	}
	for _, s := range res.Sources {
		if s.Error != "" {
			t.Errorf("source %s: %s", s.Source, s.Error)
		}
	}
	want := map[string]struct {
		source, ref string
		input       float64
	}{
		"gpt-5":                      {sourceModelsDev, "openai/gpt-5", 1.25}, // first-hand vendor over azure
		"claude-sonnet-4-5-20250929": {sourceModelsDev, "anthropic/claude-sonnet-4-5", 3},
		"priority-model":             {sourceModelsDev, "acme/priority-model", 2}, // beats litellm and openrouter
		"split-model":                {sourceLiteLLM, "split-model", 0.5},         // ambiguous in models.dev
		"GEMINI-2.5-PRO":             {sourceLiteLLM, "gemini-2.5-pro", 1.25},
		"gpt-router":                 {sourceOpenRouter, "openai/gpt-router", 2},
		"grok-9":                     {sourceOpenRouter, "x-ai/grok-9", 3},
	}
	if len(res.Matched) != len(want) || res.Imported != len(want) {
		t.Errorf("matched %d, imported %d, want %d: %+v", len(res.Matched), res.Imported, len(want), res.Matched)
	}
	for model, w := range want {
		m := res.Matched[model]
		if m.Source != w.source || m.SourceModelID != w.ref || m.Price.Input != w.input {
			t.Errorf("%s: matched %+v, want %+v", model, m, w)
		}
	}
	if len(res.Candidates) != 1 || res.Candidates[0].Model != "mystery-model" || len(res.Candidates[0].Candidates) != 2 ||
		res.Candidates[0].Candidates[0].SourceModelID != "acme/mystery-model" || res.Candidates[0].Candidates[1].Price.Input != 3 ||
		res.Candidates[0].Candidates[1].Source != sourceModelsDev {
		t.Errorf("candidates: %+v", res.Candidates)
	}
	if !slices.Equal(res.Unmatched, []string{"unknown-xyz"}) || !slices.Equal(res.Preserved, []string{"manual-model"}) || len(res.Kept) != 0 {
		t.Errorf("unmatched %v, preserved %v, kept %v", res.Unmatched, res.Preserved, res.Kept)
	}
	if b.pricesChanged != 1 {
		t.Errorf("PricesChanged called %d times", b.pricesChanged)
	}

	// Stored: source, catalogue entry, tiers; the manual price untouched.
	st := storedPrices(t, b.s)
	if m := st["manual-model"]; m.Input != 0.5 || m.Source != store.PriceSourceManual {
		t.Errorf("manual price overwritten: %+v", m)
	}
	c := st["claude-sonnet-4-5-20250929"]
	var tiers []usage.PriceTier
	if c.Source != sourceModelsDev || !strings.Contains(string(c.Raw), `"Claude Sonnet 4.5"`) || !c.Updated.Equal(now) ||
		json.Unmarshal(c.Tiers, &tiers) != nil || len(tiers) != 1 || tiers[0].Input != 6 {
		t.Errorf("stored claude: %+v", c)
	}
	if g := st["gpt-router"]; g.Source != sourceOpenRouter || !strings.Contains(string(g.Raw), `"openai/gpt-router"`) {
		t.Errorf("stored gpt-router: %+v", g)
	}
	if _, ok := st["mystery-model"]; ok {
		t.Error("an ambiguous model was stored")
	}
	// The answer carries the new price document.
	if p := res.Prices.Prices["grok-9"]; p.Source != sourceOpenRouter || p.Output != 15 {
		t.Errorf("document: %+v", p)
	}
	if p := res.Prices.Prices["gpt-5"]; p.Source != sourceModelsDev {
		t.Errorf("document gpt-5: %+v", p)
	}
}

func TestPriceSyncOneSourceFails(t *testing.T) {
	h, b := fixture(t)
	srv, _ := catalogueServer(t)
	h = syncHandler(t, b, srv, "/fail/models-dev.json", "/litellm.json", "/openrouter.json")
	code, body := sendJSON(t, h, "POST", "/v0/management/model-prices/sync", `{"models": ["priority-model", "gpt-router"]}`)
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
	res := decodeAs[syncAnswer](t, body)
	if !strings.Contains(res.Sources[0].Error, "500") || res.Sources[0].Models != 0 || res.Sources[1].Error != "" {
		t.Errorf("sources: %+v", res.Sources)
	}
	if m := res.Matched["priority-model"]; m.Source != sourceLiteLLM || m.Price.Input != 9 || m.Price.Output != 18 {
		t.Errorf("priority-model: %+v", m)
	}
	if m := res.Matched["gpt-router"]; m.Source != sourceOpenRouter {
		t.Errorf("gpt-router: %+v", m)
	}

	// A price synced from models.dev is not replaced by litellm's while
	// models.dev is down.
	ctx := context.Background()
	if err := b.s.PutModelPrice(ctx, store.ModelPrice{Model: "priority-model", Input: 2, Output: 4, Source: sourceModelsDev, Updated: t0}); err != nil {
		t.Fatal(err)
	}
	code, body = sendJSON(t, h, "POST", "/v0/management/model-prices/sync", `{"models": ["priority-model"]}`)
	res = decodeAs[syncAnswer](t, body)
	if code != http.StatusOK || !slices.Equal(res.Kept, []string{"priority-model"}) || len(res.Matched) != 0 || res.Imported != 0 {
		t.Errorf("kept: %d %s", code, body)
	}
	if p := storedPrices(t, b.s)["priority-model"]; p.Source != sourceModelsDev || p.Input != 2 {
		t.Errorf("replaced: %+v", p)
	}
}

func TestPriceSyncAllSourcesFail(t *testing.T) {
	h, b := fixture(t)
	ctx := context.Background()
	if err := b.s.PutModelPrice(ctx, store.ModelPrice{Model: "priority-model", Input: 1, Output: 1, Source: sourceLiteLLM, Updated: t0}); err != nil {
		t.Fatal(err)
	}
	srv, _ := catalogueServer(t)
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	h = New(Options{Backend: b, HTTPClient: srv.Client(), PriceSources: []PriceSource{
		{sourceModelsDev, srv.URL + "/fail/models-dev.json"},
		{sourceLiteLLM, srv.URL + "/openrouter.json"}, // wrong format: no priced models
		{sourceOpenRouter, closedURL + "/models"},
	}})
	code, body := sendJSON(t, h, "POST", "/v0/management/model-prices/sync", `{"models": ["priority-model", "gpt-router"]}`)
	if code != http.StatusBadGateway {
		t.Fatalf("%d %s", code, body)
	}
	res := decodeAs[struct {
		Code    string
		Error   string
		Sources []syncSourceJSON
	}](t, body)
	if res.Code != "sources_failed" || len(res.Sources) != 3 {
		t.Fatalf("%s", body)
	}
	for _, s := range res.Sources {
		if s.Error == "" {
			t.Errorf("source %s has no error", s.Source)
		}
	}
	if st := storedPrices(t, b.s); len(st) != 1 || st["priority-model"].Input != 1 || b.pricesChanged != 0 {
		t.Errorf("changed after a failed sync: %+v, PricesChanged %d", st, b.pricesChanged)
	}
	// A catalogue too large is a failure, too.
	defer func(n int64) { maxCatalogueSize = n }(maxCatalogueSize)
	maxCatalogueSize = 100
	h = syncHandler(t, b, srv, "/models-dev.json", "", "")
	code, body = sendJSON(t, h, "POST", "/v0/management/model-prices/sync", `{"models": ["gpt-5"]}`)
	if code != http.StatusBadGateway || !strings.Contains(string(body), "larger than") {
		t.Errorf("too large: %d %s", code, body)
	}
}

// Without a model list the sync prices the stored prices and every model
// and alias seen in usage.
func TestPriceSyncDefaultModels(t *testing.T) {
	h, b := fixture(t)
	setNow(t, t0.Add(24*time.Hour))
	ctx := context.Background()
	for _, p := range []store.ModelPrice{
		{Model: "stored-synced", Input: 1, Output: 1, Source: sourceLiteLLM, Updated: t0},
		{Model: "stored-manual", Input: 1, Output: 1, Updated: t0},
	} {
		if err := b.s.PutModelPrice(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if ua := r.Header.Get("User-Agent"); !strings.Contains(ua, "caddy-cpam") {
			t.Errorf("User-Agent %q", ua)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"m1": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06},
			"a-m1": {"input_cost_per_token": 3e-06, "output_cost_per_token": 4e-06},
			"stored-synced": {"input_cost_per_token": 5e-06, "output_cost_per_token": 6e-06},
			"stored-manual": {"input_cost_per_token": 7e-06, "output_cost_per_token": 8e-06}}`))
	}))
	defer srv.Close()
	h = New(Options{Backend: b, PriceSources: []PriceSource{{sourceLiteLLM, srv.URL + "/prices.json"}}})
	code, body := sendJSON(t, h, "POST", "/v0/management/model-prices/sync", "")
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
	res := decodeAs[syncAnswer](t, body)
	var matched []string
	for m := range res.Matched {
		matched = append(matched, m)
	}
	slices.Sort(matched)
	if !slices.Equal(matched, []string{"a-m1", "m1", "stored-synced"}) || !slices.Equal(res.Unmatched, []string{"m2"}) ||
		!slices.Equal(res.Preserved, []string{"stored-manual"}) || requests.Load() != 1 {
		t.Errorf("matched %v, unmatched %v, preserved %v, %d requests", matched, res.Unmatched, res.Preserved, requests.Load())
	}
	if p := storedPrices(t, b.s)["stored-synced"]; p.Input != 5 {
		t.Errorf("stored-synced not updated: %+v", p)
	}

	// Usage older than 90 days is not looked at.
	setNow(t, t0.Add(100*24*time.Hour))
	code, body = sendJSON(t, h, "POST", "/v0/management/model-prices/sync", "{}")
	res = decodeAs[syncAnswer](t, body)
	if code != http.StatusOK || len(res.Unmatched) != 0 || len(res.Matched) != 3 { // the stored a-m1, m1, stored-synced
		t.Errorf("after 100 days: %d %s", code, body)
	}
}

func TestPriceSyncRequests(t *testing.T) {
	h, b := fixture(t)
	if code, body := sendJSON(t, h, "POST", "/v0/management/model-prices/sync", ""); code != http.StatusServiceUnavailable {
		t.Errorf("without sources: %d %s", code, body)
	}
	srv, n := catalogueServer(t)
	h = syncHandler(t, b, srv, "/models-dev.json", "", "")
	for _, body := range []string{`{"models": [""]}`, `{"models": "gpt-5"}`, `{"models": ["` + strings.Repeat("x", 300) + `"]}`} {
		if code, answer := sendJSON(t, h, "POST", "/v0/management/model-prices/sync", body); code != http.StatusBadRequest {
			t.Errorf("%s: %d %s", body, code, answer)
		}
	}
	if n.Load() != 0 {
		t.Errorf("a refused request downloaded %d catalogues", n.Load())
	}
	// One sync at a time.
	priceSyncMu.Lock()
	code, body := sendJSON(t, h, "POST", "/v0/management/model-prices/sync", `{"models": ["gpt-5"]}`)
	priceSyncMu.Unlock()
	if code != http.StatusConflict {
		t.Errorf("concurrent sync: %d %s", code, body)
	}
}
