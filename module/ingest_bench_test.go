package module

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/cpam-caddy/cpam/collector"
	"github.com/cpam-caddy/cpam/cpasim"
	"github.com/cpam-caddy/cpam/store"
)

// BenchmarkIngestPath measures the path every record takes after it is
// received: spool append, read, normalisation (parsing, hashing keys,
// redaction, cost) and the SQLite commit with rollups.
//
//	go test -run x -bench IngestPath -benchtime 50000x ./module/
func BenchmarkIngestPath(b *testing.B) {
	st, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "cpam.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	col, err := startCollection(st, zap.NewNop(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer col.stop()

	models := []string{"gpt-5", "gpt-5-codex", "claude-sonnet-4-5", "gemini-2.5-pro", "mock-gpt"}
	payloads := make([][]byte, 1000)
	base := time.Now().Add(-time.Hour)
	for i := range payloads {
		r := cpasim.Record{
			Timestamp: base.Add(time.Duration(i) * time.Millisecond), LatencyMs: int64(200 + i%900), TTFTMs: int64(40 + i%200),
			Source: fmt.Sprintf("sk-upstream-%02d-0123456789abcdef", i%7), AuthIndex: fmt.Sprintf("%016x", i%7),
			ClientIP: "127.0.0.1", UserAgent: "bench/1.0", Model: models[i%len(models)], Alias: models[i%len(models)],
			Provider: "openai-compatible-mock", ExecutorType: "OpenAICompatExecutor", Endpoint: "POST /v1/chat/completions",
			AuthType: "apikey", APIKey: fmt.Sprintf("sk-cpa-client-%d-abcdefgh", i%5), RequestID: fmt.Sprintf("%08x", i),
			ServiceTier: "auto", Generate: true, AccountingVersion: 2,
		}
		r.Fail.StatusCode = 200
		r.Tokens.InputTokens, r.Tokens.OutputTokens, r.Tokens.TotalTokens = int64(1200+i), int64(300+i%50), int64(1500+i+i%50)
		r.Tokens.CachedTokens, r.Tokens.CacheReadTokens, r.Tokens.CacheReadTokensPresent = 400, 400, true
		r.TokenBreakdown = cpasim.BuildBreakdown(cpasim.ProviderFamily(r.Provider), r.Tokens)
		p, err := json.Marshal(r)
		if err != nil {
			b.Fatal(err)
		}
		payloads[i] = p
	}

	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		// Each record gets its own timestamp so none is a duplicate.
		p := payloads[i%len(payloads)]
		if i >= len(payloads) {
			var r map[string]any
			_ = json.Unmarshal(p, &r)
			r["timestamp"] = base.Add(time.Duration(i) * time.Millisecond).Format(time.RFC3339Nano)
			p, _ = json.Marshal(r)
		}
		if err := col.spool.Append(collector.Entry{Upstream: "main", Received: time.Now(), Payload: p}); err != nil {
			b.Fatal(err)
		}
	}
	for col.spool.Depth() > 0 {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	sum, err := st.Summary(context.Background(), store.Filter{})
	if err != nil || sum.Attempts != int64(b.N) {
		b.Fatalf("stored %d of %d (%v)", sum.Attempts, b.N, err)
	}
}
