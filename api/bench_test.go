package api

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/cpam-caddy/cpam/store"
	"github.com/cpam-caddy/cpam/usage"
)

// benchEvents makes n events over 30 days before t0 with a fixed seed:
// 20 models, 40 credentials, 30 keys, 2 upstreams, 3 endpoints, 5% failed.
func benchEvents(n int) []usage.Event {
	r := rand.New(rand.NewPCG(42, 7))
	span := int64(30 * 24 * time.Hour)
	out := make([]usage.Event, n)
	for i := range out {
		model := r.IntN(20)
		failed := r.IntN(20) == 0
		e := usage.Event{
			Hash: hashOf("bench", i), Upstream: []string{"cpa-a", "cpa-b"}[r.IntN(2)],
			Time:      t0.Add(-time.Duration(r.Int64N(span))).Truncate(time.Millisecond),
			RequestID: fmt.Sprintf("%08x", r.Uint32()), AuthIndex: fmt.Sprintf("%016x", model*2+r.IntN(2)),
			AuthType: "oauth", Provider: fmt.Sprintf("prov-%d", model%5), Model: fmt.Sprintf("model-%d", model),
			Alias: fmt.Sprintf("model-%d", model), Endpoint: []string{"POST /v1/chat/completions", "POST /v1/messages", "POST /v1/responses"}[r.IntN(3)],
			APIKey:     usage.Secret{Hash: fmt.Sprintf("key-%02d", r.IntN(30)), Mask: "sk-…"},
			StatusCode: 200, LatencyMS: int64(r.ExpFloat64() * 2000), Generate: true,
			Tokens: usage.Tokens{Uncached: r.Int64N(4000), CacheRead: r.Int64N(10000), Output: r.Int64N(1500)},
			Cost:   usage.Cost{MicroUSD: r.Int64N(5000), Priced: true},
		}
		if failed {
			e.Failed, e.StatusCode, e.Tokens, e.Cost = true, 429, usage.Tokens{}, usage.Cost{}
		}
		out[i] = e
	}
	return out
}

// BenchmarkAPISummary measures summary, breakdown and an events page over
// 200,000 stored events (CPAM_BENCH_EVENTS overrides the count) through
// the HTTP handler. It reports ns/op only.
func BenchmarkAPISummary(b *testing.B) {
	s := openStore(b)
	n := 200_000
	if v, err := strconv.Atoi(os.Getenv("CPAM_BENCH_EVENTS")); err == nil && v > 0 {
		n = v
	}
	evs := benchEvents(n)
	for i := 0; i < len(evs); i += 10_000 {
		if _, err := s.Commit(context.Background(), store.Batch{Events: evs[i:min(i+10_000, len(evs))]}); err != nil {
			b.Fatal(err)
		}
	}
	h := New(Options{Backend: &fakeBackend{s: s}})
	const month = "from=2026-10-28T00:00:00Z&to=2026-11-27T00:00:00Z"
	for _, c := range []struct{ name, target string }{
		{"summary/30d", "/api/v1/summary?" + month},
		{"summary/1d", "/api/v1/summary?from=2026-11-26T00:00:00Z&to=2026-11-27T00:00:00Z"},
		{"summary/30d/model", "/api/v1/summary?model=model-3&" + month},
		{"breakdown/model/30d", "/api/v1/breakdown?by=model&" + month},
		{"breakdown/account-cost/30d", "/api/v1/breakdown?by=account&sort=cost&" + month},
		{"timeseries/1h/30d/kolkata", "/api/v1/timeseries?bucket=1h&tz=Asia/Kolkata&" + month},
		{"events/page100", "/api/v1/events?" + month},
	} {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, c.target, nil)
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.mux.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", c.target, rec.Code, rec.Body)
				}
			}
		})
	}
}
