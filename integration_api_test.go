package cpam_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cpam-caddy/cpam/cpasim"
	"github.com/cpam-caddy/cpam/internal/ssetest"
)

// apiConfig is the single-domain site with the API options an operator
// tunes: a short session, a small import limit and a local price catalogue.
func apiConfig(dir, cpaURL, litellmURL string) string {
	return fmt.Sprintf(`{
%s	cpam {
		cpa %s {
			management_key {env.CPAM_IT_MANAGEMENT_KEY}
		}
		admin_key {env.CPAM_IT_ADMIN_KEY}
		database %s
		session_ttl 30m
		max_import_size 2KiB
		price_sources {
			models_dev off
			litellm %s
			openrouter off
		}
	}
}

localhost {
	cpam_api
	cpam_management
}
`, testGlobals(dir), cpaURL, filepath.Join(dir, "cpam.db"), litellmURL)
}

// TestAPIThroughCaddy drives the usage API's management-side routes through
// a real Caddy over HTTPS with the CPA simulator: price sync from a local
// catalogue re-prices new events as the live feed shows them, aliases from
// raw keys, export/import with the configured size limit, the legacy
// aggregate, metrics and the configured session length.
func TestAPIThroughCaddy(t *testing.T) {
	sim := startSimulator(t)
	catalogue := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"sample_spec":{"input_cost_per_token":0},
			"mock-gpt":{"input_cost_per_token":2e-6,"output_cost_per_token":8e-6,"litellm_provider":"openai","mode":"chat"}}`)
	}))
	t.Cleanup(catalogue.Close)
	t.Setenv("CPAM_IT_MANAGEMENT_KEY", testManagementKey)
	t.Setenv("CPAM_IT_ADMIN_KEY", testAdminKey)
	dir := t.TempDir()

	tester := newTester(t)
	tester.InitServer(apiConfig(dir, sim.URL(), catalogue.URL+"/litellm.json"), "caddyfile")
	waitForTLS(t, tester)
	client := jarless(tester)
	admin := http.Header{"Authorization": {"Bearer " + testAdminKey}, "Content-Type": {"application/json"}}
	period := "from=" + time.Now().UTC().Add(-time.Hour).Format(time.RFC3339) + "&to=" + time.Now().UTC().Add(time.Hour).Format(time.RFC3339)
	getJSON := func(path string, v any) {
		t.Helper()
		status, _, body := send(t, client, http.MethodGet, path, admin, "")
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, status, body)
		}
		if err := json.Unmarshal([]byte(body), v); err != nil {
			t.Fatalf("GET %s: %v: %s", path, err, body)
		}
	}
	type summary struct {
		Attempts     int64 `json:"attempts"`
		Unpriced     int64 `json:"unpriced"`
		CostMicroUSD int64 `json:"costMicroUsd"`
	}
	summaryNow := func() summary {
		var s struct {
			Current summary `json:"current"`
		}
		getJSON("/cpam/api/v1/summary?"+period, &s)
		return s.Current
	}

	t.Run("every new route needs authentication", func(t *testing.T) {
		for _, r := range []struct{ method, path string }{
			{"GET", "/cpam/v0/management/usage"}, {"GET", "/cpam/v0/management/usage/export"},
			{"POST", "/cpam/v0/management/usage/import"}, {"GET", "/cpam/v0/management/model-prices"},
			{"PUT", "/cpam/v0/management/model-prices"}, {"POST", "/cpam/v0/management/model-prices/sync"},
			{"GET", "/cpam/v0/management/api-key-aliases"}, {"GET", "/cpam/api/v1/live"},
		} {
			status, _, _ := send(t, client, r.method, r.path, http.Header{"Content-Type": {"application/json"}}, "{}")
			if status != http.StatusUnauthorized {
				t.Errorf("%s %s without credentials: %d, want 401", r.method, r.path, status)
			}
		}
	})

	t.Run("the configured session length", func(t *testing.T) {
		status, hdr, body := send(t, client, http.MethodPost, "/cpam/auth/login", http.Header{"Content-Type": {"application/json"}},
			`{"key":"`+testAdminKey+`"}`)
		if status != http.StatusOK || !strings.Contains(hdr.Get("Set-Cookie"), "Max-Age=1800") {
			t.Errorf("login: %d %s, cookie %q", status, body, hdr.Get("Set-Cookie"))
		}
	})

	t.Run("status shows the effective settings without keys", func(t *testing.T) {
		status, _, body := send(t, client, http.MethodGet, "/cpam/status", admin, "")
		if status != http.StatusOK {
			t.Fatalf("GET /cpam/status: %d %s", status, body)
		}
		for _, secret := range []string{testAdminKey, testManagementKey} {
			if strings.Contains(body, secret) {
				t.Fatalf("/cpam/status reveals a key: %s", body)
			}
		}
		var doc struct {
			Settings struct {
				Upstreams []struct {
					Name, URL        string
					ManagementKeySet bool
				}
				AdminKey          string
				SessionTTLSeconds int64
				MaxImportSize     int64
				PriceSources      []struct{ Name, URL string }
			}
		}
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			t.Fatal(err)
		}
		st := doc.Settings
		if len(st.Upstreams) != 1 || st.Upstreams[0].URL != sim.URL() || !st.Upstreams[0].ManagementKeySet {
			t.Errorf("upstreams: %+v (want %s with its key set)", st.Upstreams, sim.URL())
		}
		if st.AdminKey != "configured" || st.SessionTTLSeconds != 1800 || st.MaxImportSize != 2048 {
			t.Errorf("settings: %+v", st)
		}
		if len(st.PriceSources) != 1 || st.PriceSources[0].Name != "litellm" || st.PriceSources[0].URL != catalogue.URL+"/litellm.json" {
			t.Errorf("price sources: %+v", st.PriceSources)
		}
	})

	// Records of a model without a price are stored unpriced.
	if _, err := sim.Emit(context.Background(), 5); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "5 stored events", func() bool { return summaryNow().Attempts == 5 })
	if s := summaryNow(); s.Unpriced != 5 {
		t.Fatalf("before the sync: %+v, want 5 unpriced", s)
	}

	// The live feed, opened before the price sync.
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("https://localhost:%d/cpam/api/v1/live", httpsPort), nil)
	req.Header.Set("Authorization", "Bearer "+testAdminKey)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp, err := (&http.Client{Transport: tester.Client.Transport}).Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("live: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	frames := make(chan ssetest.Frame, 64)
	go ssetest.Read(resp.Body, frames)

	t.Run("price sync from the configured catalogue", func(t *testing.T) {
		status, _, body := send(t, client, http.MethodPost, "/cpam/v0/management/model-prices/sync", admin, `{"models":["mock-gpt"]}`)
		if status != http.StatusOK {
			t.Fatalf("sync: %d %s", status, body)
		}
		var res struct {
			Imported int `json:"imported"`
			Matched  map[string]struct {
				Source string `json:"source"`
			} `json:"matched"`
		}
		if err := json.Unmarshal([]byte(body), &res); err != nil || res.Imported != 1 || res.Matched["mock-gpt"].Source != "litellm" {
			t.Fatalf("sync answer: %v %s", err, body)
		}
		var prices struct {
			Prices map[string]struct {
				Input, Output float64
				Source        string
			} `json:"prices"`
		}
		getJSON("/cpam/v0/management/model-prices", &prices)
		if p := prices.Prices["mock-gpt"]; p.Input != 2 || p.Output != 8 || p.Source != "litellm" {
			t.Errorf("mock-gpt price: %+v", p)
		}
	})

	t.Run("new events are priced and appear on the live feed", func(t *testing.T) {
		if _, err := sim.Emit(context.Background(), 3); err != nil {
			t.Fatal(err)
		}
		got := 0
		deadline := time.After(20 * time.Second)
		for got < 3 {
			select {
			case f, ok := <-frames:
				if !ok {
					t.Fatalf("the live stream ended after %d events", got)
				}
				if f.Event != "events" {
					continue
				}
				var evs []struct {
					Model        string `json:"model"`
					Priced       bool   `json:"priced"`
					CostMicroUSD int64  `json:"costMicroUsd"`
				}
				if err := json.Unmarshal([]byte(f.Data), &evs); err != nil {
					t.Fatalf("frame data: %v", err)
				}
				for _, e := range evs {
					if !e.Priced || e.CostMicroUSD <= 0 {
						t.Errorf("a new %s event is not priced: %+v", e.Model, e)
					}
				}
				got += len(evs)
			case <-deadline:
				t.Fatalf("the live feed showed %d of 3 new events", got)
			}
		}
		if s := summaryNow(); s.Attempts != 8 || s.Unpriced != 5 || s.CostMicroUSD <= 0 {
			t.Errorf("after the sync: %+v", s)
		}
	})

	t.Run("aliases from raw keys name API keys in breakdowns", func(t *testing.T) {
		status, _, body := send(t, client, http.MethodPut, "/cpam/v0/management/api-key-aliases", admin,
			`{"items":[{"apiKey":"`+cpasim.DefaultClientKey+`","alias":"demo client"}]}`)
		if status != http.StatusOK || strings.Contains(body, cpasim.DefaultClientKey) {
			t.Fatalf("PUT aliases: %d %s", status, body)
		}
		var b struct {
			Rows []struct{ Key, Label, Hint string } `json:"rows"`
		}
		getJSON("/cpam/api/v1/breakdown?by=api_key&"+period, &b)
		if len(b.Rows) != 1 || b.Rows[0].Label != "demo client" || b.Rows[0].Hint == "" {
			t.Errorf("breakdown by api_key: %+v", b.Rows)
		}
	})

	t.Run("export, import limit and the legacy aggregate", func(t *testing.T) {
		status, hdr, export := send(t, client, http.MethodGet, "/cpam/v0/management/usage/export", admin, "")
		lines := strings.Split(strings.TrimSpace(export), "\n")
		if status != http.StatusOK || hdr.Get("Content-Type") != "application/x-ndjson" || len(lines) != 8 {
			t.Fatalf("export: %d %q, %d lines", status, hdr.Get("Content-Type"), len(lines))
		}
		if strings.Contains(export, cpasim.DefaultClientKey) || strings.Contains(export, testManagementKey) {
			t.Error("the export contains a secret")
		}
		ndjson := http.Header{"Authorization": admin["Authorization"], "Content-Type": {"application/x-ndjson"}}
		status, _, body := send(t, client, http.MethodPost, "/cpam/v0/management/usage/import", ndjson, export)
		if status != http.StatusRequestEntityTooLarge || !strings.Contains(body, `"code":"too_large"`) {
			t.Errorf("import over max_import_size: %d %s", status, body)
		}
		status, _, body = send(t, client, http.MethodPost, "/cpam/v0/management/usage/import", ndjson, lines[0]+"\n")
		if status != http.StatusOK || !strings.Contains(body, `"added":0`) || !strings.Contains(body, `"skipped":1`) {
			t.Errorf("re-import of one exported line: %d %s", status, body)
		}
		var legacy struct {
			Usage struct {
				TotalRequests int64 `json:"total_requests"`
				SuccessCount  int64 `json:"success_count"`
			} `json:"usage"`
		}
		getJSON("/cpam/v0/management/usage", &legacy)
		if legacy.Usage.TotalRequests != 8 || legacy.Usage.SuccessCount != 8 {
			t.Errorf("legacy aggregate: %+v", legacy.Usage)
		}
		status, _, body = send(t, client, http.MethodGet, "/cpam/v0/management/usage?tz=Mars/Olympus", admin, "")
		if status != http.StatusBadRequest || !strings.Contains(body, `"code":"bad_parameter"`) {
			t.Errorf("bad tz: %d %s", status, body)
		}
	})

	t.Run("metrics in Caddy's registry", func(t *testing.T) {
		resp, err := http.Get(fmt.Sprintf("http://localhost:%d/metrics", adminPort))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		text, _ := io.ReadAll(resp.Body)
		for _, want := range []string{`cpam_events_stored_total{upstream="default"} 8`, `cpam_collector_connected{upstream="default"} 1`,
			`cpam_api_request_duration_seconds_count{route="GET /api/v1/summary"}`} {
			if !strings.Contains(string(text), want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	})
}
