package cpasim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Traffic sends real /v1/chat/completions requests to a simulator (or a
// real CPA) to produce usage records.
type Traffic struct {
	// URL is the base URL, e.g. http://127.0.0.1:8317.
	URL string
	// Client sends the requests; nil means a client with a 30 s timeout.
	Client *http.Client
	// Rate is requests per second; <= 0 sends back to back.
	Rate float64
	// Concurrency bounds requests in flight; <= 0 means 4.
	Concurrency int
	// Models are picked at random; empty means mock-gpt.
	Models []string
	// Keys are client API keys picked at random; empty means
	// DefaultClientKey.
	Keys []string
	// StreamRatio is the share of streaming requests (0..1).
	StreamRatio float64
	// FailureRatio is the share of requests sent to the mock-fail model.
	FailureRatio float64
	// Count stops after this many requests; <= 0 means unbounded.
	Count int
	// Duration stops after this long; <= 0 means unbounded.
	Duration time.Duration
	// Seed makes the request mix reproducible; 0 means 1.
	Seed uint64
	// UserAgent is sent with every request; "" means cpa-sim-traffic/1.
	UserAgent string
}

// TrafficStats summarizes a Run.
type TrafficStats struct {
	// Sent is the number of requests sent.
	Sent int
	// OK is the number of 2xx answers.
	OK int
	// Failed is the number of non-2xx answers.
	Failed int
	// Errors is the number of transport errors.
	Errors int
}

// Run sends requests until Count or Duration is reached or ctx ends, and
// waits for every request in flight. Without Count and Duration it runs
// until ctx ends.
func (t *Traffic) Run(ctx context.Context) (TrafficStats, error) {
	if t.URL == "" {
		return TrafficStats{}, errors.New("cpasim: traffic: URL is required")
	}
	if t.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.Duration)
		defer cancel()
	}
	client := t.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	conc := t.Concurrency
	if conc <= 0 {
		conc = 4
	}
	seed := t.Seed
	if seed == 0 {
		seed = 1
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	var (
		mu    sync.Mutex
		stats TrafficStats
		wg    sync.WaitGroup
	)
	err := t.loop(ctx, rng, conc, func(req *http.Request, release func()) {
		mu.Lock()
		stats.Sent++
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer release()
			status, err := send(client, req)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				stats.Errors++
			case status >= 200 && status < 300:
				stats.OK++
			default:
				stats.Failed++
			}
		}()
	})
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	return stats, err
}

// loop paces request creation and hands each request to launch, keeping
// at most conc in flight; launch must call release when the request is
// done. It returns nil when a bound or ctx ends it.
func (t *Traffic) loop(ctx context.Context, rng *rand.Rand, conc int, launch func(*http.Request, func())) error {
	sem := make(chan struct{}, conc)
	var tick <-chan time.Time
	if t.Rate > 0 {
		ticker := time.NewTicker(time.Duration(float64(time.Second) / t.Rate))
		defer ticker.Stop()
		tick = ticker.C
	}
	for n := 0; t.Count <= 0 || n < t.Count; n++ {
		if ctx.Err() != nil {
			return nil
		}
		if tick != nil {
			select {
			case <-tick:
			case <-ctx.Done():
				return nil
			}
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		req, err := t.build(ctx, rng)
		if err != nil {
			<-sem
			return err
		}
		launch(req, func() { <-sem })
	}
	return nil
}

// build draws one request from the configured mix.
func (t *Traffic) build(ctx context.Context, rng *rand.Rand) (*http.Request, error) {
	model := "mock-gpt"
	if len(t.Models) > 0 {
		model = t.Models[rng.IntN(len(t.Models))]
	}
	if t.FailureRatio > 0 && rng.Float64() < t.FailureRatio {
		model = ModelMockFail
	}
	key := DefaultClientKey
	if len(t.Keys) > 0 {
		key = t.Keys[rng.IntN(len(t.Keys))]
	}
	stream := t.StreamRatio > 0 && rng.Float64() < t.StreamRatio
	words := []string{"hi", "please", "summarize", "the", "usage", "of", "our", "proxy", "today"}
	var sb strings.Builder
	for i := range 1 + rng.IntN(24) {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(words[rng.IntN(len(words))])
	}
	body := map[string]any{
		"model":    model,
		"messages": []any{map[string]any{"role": "user", "content": sb.String()}},
	}
	if stream {
		body["stream"] = true
		body["stream_options"] = map[string]any{"include_usage": true}
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("cpasim: traffic: encode request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		strings.TrimRight(t.URL, "/")+"/v1/chat/completions", bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("cpasim: traffic: build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	ua := t.UserAgent
	if ua == "" {
		ua = "cpa-sim-traffic/1"
	}
	req.Header.Set("User-Agent", ua)
	return req, nil
}

func send(client *http.Client, req *http.Request) (int, error) {
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("send %s: %w", req.URL.Path, err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return resp.StatusCode, fmt.Errorf("read %s: %w", req.URL.Path, err)
	}
	return resp.StatusCode, nil
}
