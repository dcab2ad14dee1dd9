package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cpam-caddy/cpam/store"
	"github.com/cpam-caddy/cpam/usage"
)

// sendJSON serves an authenticated request with a JSON body (none when
// body is "") through the authenticated mux.
func sendJSON(t testing.TB, h *Handler, method, target, body string) (int, []byte) {
	t.Helper()
	var r *http.Request
	if body == "" {
		r = httptest.NewRequest(method, target, nil)
	} else {
		r = httptest.NewRequest(method, target, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.mux.ServeHTTP(rec, r)
	return rec.Code, rec.Body.Bytes()
}

// decodeAs decodes an answer, failing the test on error.
func decodeAs[T any](t testing.TB, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%v in %s", err, body)
	}
	return v
}

// errorOf decodes an error answer.
func errorOf(t testing.TB, body []byte) (code, msg string) {
	t.Helper()
	e := decodeAs[struct{ Error, Code string }](t, body)
	return e.Code, e.Error
}

// storedPrices returns the stored prices by model.
func storedPrices(t testing.TB, s *store.Store) map[string]store.ModelPrice {
	t.Helper()
	all, err := s.ModelPrices(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.ModelPrice{}
	for _, p := range all {
		out[p.Model] = p
	}
	return out
}

// setNow fixes timeNow for the test.
func setNow(t testing.TB, now time.Time) {
	t.Helper()
	old := timeNow
	timeNow = func() time.Time { return now }
	t.Cleanup(func() { timeNow = old })
}

func TestPricesDefaults(t *testing.T) {
	h, _ := fixture(t)
	code, body := get(t, h, "/v0/management/model-prices")
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
	doc := decodeAs[pricesDocJSON](t, body)
	if len(doc.Prices) != len(usage.DefaultPriceBook().Names()) {
		t.Errorf("%d prices, want the %d defaults", len(doc.Prices), len(usage.DefaultPriceBook().Names()))
	}
	g := doc.Prices["gpt-5"]
	if g.Source != "default" || g.UpdatedAt != nil || g.Input != 1.25 || g.Output != 10 || g.CacheRead != 0.125 || len(g.Tiers) != 0 {
		t.Errorf("gpt-5: %+v", g)
	}
	c := doc.Prices["claude-sonnet-4-5"]
	if len(c.Tiers) != 1 || c.Tiers[0] != (priceTierJSON{AboveInputTokens: 200000, Input: 6, Output: 22.5, CacheRead: 0.6, CacheWrite: 7.5}) {
		t.Errorf("claude tiers: %+v", c.Tiers)
	}
	// tiers is always an array, updatedAt always present.
	if !strings.Contains(string(body), `"tiers":[]`) || !strings.Contains(string(body), `"updatedAt":null`) {
		t.Errorf("document shape: %.300s", body)
	}
}

func TestPricesPutRoundTrip(t *testing.T) {
	h, b := fixture(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	setNow(t, now)
	// A synced price that the PUT does not list stays, and so does one it
	// sends back unchanged (a panel sends the whole list); one it changes
	// becomes manual.
	for _, p := range []store.ModelPrice{
		{Model: "synced-kept", Input: 1, Output: 1, Source: "litellm", Updated: t0, Raw: json.RawMessage(`{"a":1}`)},
		{Model: "synced-echoed", Input: 3, Output: 6, Source: "litellm", Updated: t0},
		{Model: "synced-listed", Input: 1, Output: 1, Source: "models.dev", Updated: t0},
		{Model: "gpt-5", Input: 9, Output: 9, Source: "openrouter", Updated: t0},
	} {
		if err := b.s.PutModelPrice(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	code, body := sendJSON(t, h, "PUT", "/v0/management/model-prices", `{"prices": {
		"my-model": {"input": 2, "output": 8, "cacheRead": 0.2, "tiers": [
			{"aboveInputTokens": 500000, "input": 5}, {"aboveInputTokens": 100000, "input": 3, "output": 9}]},
		"synced-listed": {"input": 4, "output": 5, "unknownField": true},
		"synced-echoed": {"input": 3, "output": 6},
		"gpt-5": {"input": 1.25, "output": 10, "cacheRead": 0.125, "cacheWrite": 1.25}
	}, "extra": 1}`)
	if code != http.StatusOK {
		t.Fatalf("PUT: %d %s", code, body)
	}
	if b.pricesChanged != 1 {
		t.Errorf("PricesChanged called %d times, want 1", b.pricesChanged)
	}
	doc := decodeAs[pricesDocJSON](t, body)
	my := doc.Prices["my-model"]
	wantTiers := []priceTierJSON{{AboveInputTokens: 100000, Input: 3, Output: 9}, {AboveInputTokens: 500000, Input: 5}}
	if my.Source != "manual" || my.Input != 2 || my.Output != 8 || my.CacheRead != 0.2 || my.CacheWrite != 0 ||
		!reflect.DeepEqual(my.Tiers, wantTiers) || my.UpdatedAt == nil || !my.UpdatedAt.Equal(now) {
		t.Errorf("my-model: %+v", my)
	}
	if sl := doc.Prices["synced-listed"]; sl.Source != "manual" || sl.Input != 4 {
		t.Errorf("synced-listed: %+v", sl)
	}
	if sk := doc.Prices["synced-kept"]; sk.Source != "litellm" {
		t.Errorf("synced-kept: %+v", sk)
	}
	if se := doc.Prices["synced-echoed"]; se.Source != "litellm" || se.UpdatedAt == nil || !se.UpdatedAt.Equal(t0) {
		t.Errorf("synced-echoed: %+v", se)
	}
	// gpt-5 listed with its built-in price: nothing stored, and the synced
	// price that hid the default is gone.
	if g := doc.Prices["gpt-5"]; g.Source != "default" || g.Input != 1.25 {
		t.Errorf("gpt-5: %+v", g)
	}
	st := storedPrices(t, b.s)
	if _, ok := st["gpt-5"]; ok || len(st) != 4 {
		t.Errorf("stored: %+v", st)
	}
	// The stored tiers are what the price book builder reads
	// (module/collection.go decodes them into []usage.PriceTier).
	var tiers []usage.PriceTier
	if err := json.Unmarshal(st["my-model"].Tiers, &tiers); err != nil || len(tiers) != 2 || tiers[0] != (usage.PriceTier{AboveInputTokens: 100000, Input: 3, Output: 9}) {
		t.Errorf("stored tiers %s: %+v %v", st["my-model"].Tiers, tiers, err)
	}

	// GET answers the same document.
	var again pricesDocJSON
	getJSON(t, h, "/v0/management/model-prices", &again)
	if !reflect.DeepEqual(again, doc) {
		t.Errorf("GET differs from the PUT answer")
	}

	// A second PUT replaces every manual price: my-model and synced-listed
	// go, synced-kept stays.
	code, body = sendJSON(t, h, "PUT", "/v0/management/model-prices", `{"prices": {"other": {"input": 0, "output": 0}}}`)
	if code != http.StatusOK {
		t.Fatalf("second PUT: %d %s", code, body)
	}
	st = storedPrices(t, b.s)
	if len(st) != 3 || st["other"].Source != "manual" || st["synced-kept"].Source != "litellm" || string(st["synced-kept"].Raw) != `{"a":1}` {
		t.Errorf("after the second PUT: %+v", st)
	}
	// An empty list removes every manual price.
	if code, body = sendJSON(t, h, "PUT", "/v0/management/model-prices", `{"prices": {}}`); code != http.StatusOK {
		t.Fatalf("empty PUT: %d %s", code, body)
	}
	if st = storedPrices(t, b.s); len(st) != 2 || b.pricesChanged != 3 {
		t.Errorf("after the empty PUT: %+v, PricesChanged %d", st, b.pricesChanged)
	}
}

func TestPricesPutValidation(t *testing.T) {
	h, b := fixture(t)
	if err := b.s.PutModelPrice(context.Background(), store.ModelPrice{Model: "keep", Input: 1, Output: 1}); err != nil {
		t.Fatal(err)
	}
	var many strings.Builder
	many.WriteString(`{"prices": {`)
	for i := range maxPriceModels + 1 {
		if i > 0 {
			many.WriteString(",")
		}
		fmt.Fprintf(&many, `"m%d": {"input": 1, "output": 1}`, i)
	}
	many.WriteString("}}")
	for _, c := range []struct {
		name, body string
		status     int
		want       []string // in the message
	}{
		{"negative", `{"prices": {"m": {"input": -1, "output": 1}}}`, 400, []string{`"m"`, "input"}},
		{"negative cache", `{"prices": {"m": {"input": 1, "output": 1, "cacheWrite": -0.5}}}`, 400, []string{`"m"`, "cacheWrite"}},
		{"missing output", `{"prices": {"m": {"input": 1}}}`, 400, []string{`"m"`, "output"}},
		{"empty name", `{"prices": {"": {"input": 1, "output": 1}}}`, 400, []string{"empty"}},
		{"spaces", `{"prices": {" m": {"input": 1, "output": 1}}}`, 400, []string{"spaces"}},
		{"long name", `{"prices": {"` + strings.Repeat("x", 201) + `": {"input": 1, "output": 1}}}`, 400, []string{"200"}},
		{"tier threshold", `{"prices": {"m": {"input": 1, "output": 1, "tiers": [{"input": 2}]}}}`, 400, []string{`"m"`, "tiers[0].aboveInputTokens"}},
		{"tier price", `{"prices": {"m": {"input": 1, "output": 1, "tiers": [{"aboveInputTokens": 5, "output": -2}]}}}`, 400, []string{`"m"`, "tiers[0].output"}},
		{"tier twice", `{"prices": {"m": {"input": 1, "output": 1, "tiers": [{"aboveInputTokens": 5}, {"aboveInputTokens": 5}]}}}`, 400, []string{`"m"`, "5"}},
		{"huge number", `{"prices": {"m": {"input": 1e999, "output": 1}}}`, 400, []string{"JSON"}},
		{"no prices", `{}`, 400, []string{"prices"}},
		{"not JSON", `{"prices": `, 400, []string{"JSON"}},
		{"no body", ``, 400, []string{"no body"}},
		{"two values", `{"prices": {}} {}`, 400, []string{"JSON"}},
		{"wrong type", `{"prices": []}`, 400, []string{"JSON"}},
		{"too many", many.String(), 400, []string{"5000"}},
		{"too large", `{"prices": {"m": {"input": 1, "output": 1, "x": "` + strings.Repeat("a", maxManagementBody) + `"}}}`, 413, []string{"KiB"}},
	} {
		code, body := sendJSON(t, h, "PUT", "/v0/management/model-prices", c.body)
		if code != c.status {
			t.Errorf("%s: %d %s", c.name, code, body)
			continue
		}
		_, msg := errorOf(t, body)
		for _, w := range c.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: message %q does not mention %q", c.name, msg, w)
			}
		}
	}
	if st := storedPrices(t, b.s); len(st) != 1 || b.pricesChanged != 0 {
		t.Errorf("a refused PUT changed the prices: %+v, PricesChanged %d", st, b.pricesChanged)
	}
}

func TestPriceDelete(t *testing.T) {
	h, b := fixture(t)
	ctx := context.Background()
	for _, p := range []store.ModelPrice{
		{Model: "gpt-5", Input: 3, Output: 3, Updated: t0},
		{Model: "openai/custom", Input: 1, Output: 1, Source: "openrouter", Updated: t0},
	} {
		if err := b.s.PutModelPrice(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	code, body := sendJSON(t, h, "DELETE", "/v0/management/model-prices/gpt-5", "")
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
	doc := decodeAs[pricesDocJSON](t, body)
	if g := doc.Prices["gpt-5"]; g.Source != "default" || g.Input != 1.25 {
		t.Errorf("the default did not come back: %+v", g)
	}
	// Model names with a slash.
	if code, body = sendJSON(t, h, "DELETE", "/v0/management/model-prices/openai/custom", ""); code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
	if st := storedPrices(t, b.s); len(st) != 0 || b.pricesChanged != 2 {
		t.Errorf("stored %+v, PricesChanged %d", st, b.pricesChanged)
	}
	for _, target := range []string{"/v0/management/model-prices/gpt-5", "/v0/management/model-prices/nope"} {
		if code, body := sendJSON(t, h, "DELETE", target, ""); code != http.StatusNotFound {
			t.Errorf("%s: %d %s", target, code, body)
		}
	}
}

func TestPricesRecompute(t *testing.T) {
	h, b := fixture(t)
	setNow(t, t0.Add(2*time.Hour))
	// Without collection there is no price book.
	if code, body := sendJSON(t, h, "POST", "/v0/management/model-prices/recompute", ""); code != http.StatusServiceUnavailable {
		t.Fatalf("without normaliser: %d %s", code, body)
	}
	book, err := usage.NewPriceBook(map[string]usage.Price{"m1": {Input: 1, Output: 1}})
	if err != nil {
		t.Fatal(err)
	}
	b.norm, err = usage.NewNormalizer([]byte("0123456789abcdef0123456789abcdef"), nil, book)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ body, want string }{
		{`{"from": "yesterday"}`, "RFC 3339"},
		{`{"from": "2026-11-27T02:00:00Z", "to": "2026-11-27T01:00:00Z"}`, "before"},
		{`{"from": "2024-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}`, "400 days"},
	} {
		code, body := sendJSON(t, h, "POST", "/v0/management/model-prices/recompute", c.body)
		if _, msg := errorOf(t, body); code != http.StatusBadRequest || !strings.Contains(msg, c.want) {
			t.Errorf("%s: %d %s", c.body, code, body)
		}
	}
	// The default period (30 days up to now) holds every fixture event.
	code, body := sendJSON(t, h, "POST", "/v0/management/model-prices/recompute", "")
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
	res := decodeAs[struct {
		From, To                                  time.Time
		Events, Repriced, Buckets, SkippedBuckets int
	}](t, body)
	if res.Events != 7 || res.Repriced == 0 || res.Buckets == 0 || !res.To.Equal(t0.Add(2*time.Hour)) || !res.From.Equal(t0.Add(2*time.Hour-30*24*time.Hour)) {
		t.Fatalf("%+v", res)
	}
	// m1 is now 1 USD per 1M tokens: events 1 and 2 (first bucket, 45
	// tokens) cost 45 micro-USD instead of 300.
	var s struct{ Current summaryJSON }
	getJSON(t, h, "/api/v1/summary?from=2026-11-27T00:00:00Z&to=2026-11-27T00:15:00Z", &s)
	if s.Current.CostMicroUSD != 45 || s.Current.Unpriced != 0 {
		t.Errorf("cost after recompute: %+v", s.Current)
	}
	// An explicit period.
	code, body = sendJSON(t, h, "POST", "/v0/management/model-prices/recompute", `{"from": "2026-11-27T00:00:00Z", "to": "2026-11-27T00:15:00Z"}`)
	if res = decodeAs[struct {
		From, To                                  time.Time
		Events, Repriced, Buckets, SkippedBuckets int
	}](t, body); code != http.StatusOK || res.Events != 2 || res.Repriced != 0 {
		t.Errorf("explicit period: %d %s", code, body)
	}
}

func TestPricesRecomputeAcceptsDates(t *testing.T) {
	h, b := fixture(t)
	norm, err := usage.NewNormalizer([]byte("0123456789abcdef0123456789abcdef"), nil, usage.DefaultPriceBook())
	if err != nil {
		t.Fatal(err)
	}
	b.norm = norm
	code, body := sendJSON(t, h, "POST", "/v0/management/model-prices/recompute", `{"from": "2026-11-26", "to": "2026-11-28T00:00:00Z"}`)
	if code != http.StatusOK || !strings.Contains(string(body), `"from":"2026-11-26T00:00:00Z"`) {
		t.Errorf("dates: %d %s", code, body)
	}
	code, body = sendJSON(t, h, "POST", "/v0/management/model-prices/recompute", `{"from": "yesterday"}`)
	if code != http.StatusBadRequest || !strings.Contains(string(body), "RFC 3339 time or a date") {
		t.Errorf("bad from: %d %s", code, body)
	}
}
