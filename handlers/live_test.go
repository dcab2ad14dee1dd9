package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"

	"github.com/cpam-caddy/cpam/cpasim/simtest"
	"github.com/cpam-caddy/cpam/internal/ssetest"
)

// Ports of this package's in-process Caddy (the root package's integration
// test uses 2999/9080/9443); other test packages must use their own.
const (
	liveAdminPort = 2989
	liveHTTPPort  = 9089
	liveHTTPSPort = 9489
)

const (
	liveManagementKey = "handlers-live-management-key"
	liveAdminKey      = "handlers-live-admin-key-0123456789"
	// liveGrace is Caddy's grace period in this test: far longer than a
	// stream may take to end on a reload.
	liveGrace = 30 * time.Second
)

// liveSiteConfig is a site with cpam_api on high ports with Caddy's
// internal CA; retention varies so that a reload really changes the config.
func liveSiteConfig(dir, cpaURL, retention string) string {
	return fmt.Sprintf(`{
	admin localhost:%d
	http_port %d
	https_port %d
	grace_period %s
	local_certs
	skip_install_trust
	storage file_system %s
	cpam {
		cpa %s {
			management_key {env.CPAM_HANDLERS_MANAGEMENT_KEY}
		}
		admin_key {env.CPAM_HANDLERS_ADMIN_KEY}
		database %s
		retention %s
	}
}

localhost {
	cpam_api /cpam/*
	respond "not a cpam route" 404
}
`, liveAdminPort, liveHTTPPort, liveHTTPSPort, liveGrace, filepath.Join(dir, "storage"), cpaURL, filepath.Join(dir, "cpam.db"), retention)
}

// nextFrame returns the next frame that is not a comment, or fails.
func nextFrame(t *testing.T, frames <-chan ssetest.Frame, timeout time.Duration) ssetest.Frame {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case f, ok := <-frames:
			if !ok {
				t.Fatal("the stream ended")
			}
			if !f.Comment {
				return f
			}
		case <-deadline:
			t.Fatalf("no frame within %v", timeout)
		}
	}
}

// openLive opens the live feed through Caddy and reads its retry frame.
func openLive(t *testing.T, client *http.Client, lastEventID string) <-chan ssetest.Frame {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("https://localhost:%d/cpam/api/v1/live", liveHTTPSPort), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+liveAdminKey)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("live: %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	frames := make(chan ssetest.Frame, 100)
	go ssetest.Read(resp.Body, frames)
	if f := nextFrame(t, frames, 5*time.Second); f.Retry != "3000" {
		t.Fatalf("first frame %+v", f)
	}
	return frames
}

// eventsFrame expects an events frame and returns its id and events.
func eventsFrame(t *testing.T, frames <-chan ssetest.Frame, timeout time.Duration) (string, []map[string]any) {
	t.Helper()
	f := nextFrame(t, frames, timeout)
	var evs []map[string]any
	if f.Event != "events" || json.Unmarshal([]byte(f.Data), &evs) != nil || len(evs) == 0 {
		t.Fatalf("frame %+v, want events", f)
	}
	return f.ID, evs
}

// scrape reads Caddy's admin /metrics.
func scrape(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://localhost:%d/metrics", liveAdminPort))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d %v", resp.StatusCode, err)
	}
	return string(body)
}

// sample returns the value of a sample line of the exposition text (name
// with its labels, e.g. `cpam_events_stored_total{upstream="default"}`),
// -1 when absent.
func sample(text, series string) float64 {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`)
	m := re.FindStringSubmatch(text)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return -1
	}
	return v
}

// TestLiveFeedThroughCaddy streams a collected event through Caddy over
// HTTPS, then reloads the config: the old server's stream must end with
// the close event at once (not after the grace period) and the reload
// must complete. The metrics survive the reload.
func TestLiveFeedThroughCaddy(t *testing.T) {
	sim := simtest.Start(t, liveManagementKey, nil)
	t.Setenv("CPAM_HANDLERS_MANAGEMENT_KEY", liveManagementKey)
	t.Setenv("CPAM_HANDLERS_ADMIN_KEY", liveAdminKey)
	dir := t.TempDir()

	t.Cleanup(func() {
		if t.Skipped() && !testing.Short() {
			t.Error("the integration test was skipped: Caddy did not start on the admin port; is another test process using it?")
		}
	})
	tester := caddytest.NewTester(t).WithDefaultOverrides(caddytest.Config{
		AdminPort:          liveAdminPort,
		TestRequestTimeout: 10 * time.Second,
		LoadRequestTimeout: 20 * time.Second,
	})
	tester.InitServer(liveSiteConfig(dir, sim.URL(), "90d"), "caddyfile")
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := tester.Client.Get(fmt.Sprintf("https://localhost:%d/cpam/health", liveHTTPSPort))
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no TLS handshake with the site: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Streams must not be cut by a client timeout.
	streaming := &http.Client{Transport: tester.Client.Transport}

	frames := openLive(t, streaming, "")
	if _, err := sim.Emit(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	id, evs := eventsFrame(t, frames, 10*time.Second)
	if len(evs) != 1 || evs[0]["upstream"] != "default" || evs[0]["model"] == "" {
		t.Fatalf("events %v", evs)
	}

	// Metrics on Caddy's admin endpoint, and an API latency observation.
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("https://localhost:%d/cpam/api/v1/summary", liveHTTPSPort), nil)
	req.Header.Set("Authorization", "Bearer "+liveAdminKey)
	resp, err := tester.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	const stored = `cpam_events_stored_total{upstream="default"}`
	const summaryCount = `cpam_api_request_duration_seconds_count{route="GET /api/v1/summary"}`
	// The ingester counts a commit just after the stream hears of it.
	var text string
	for deadline := time.Now().Add(5 * time.Second); ; {
		text = scrape(t)
		if sample(text, stored) == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	before := map[string]float64{stored: sample(text, stored), summaryCount: sample(text, summaryCount)}
	if before[stored] != 1 || before[summaryCount] < 1 || sample(text, `cpam_collector_connected{upstream="default"}`) != 1 ||
		sample(text, "cpam_database_size_bytes") <= 0 {
		t.Errorf("metrics before the reload: %v\n%s", before, grepLines(text, "cpam_"))
	}

	// Reload: the stream of the old config ends with the close event.
	start := time.Now()
	reloaded := make(chan struct{})
	go func() {
		defer close(reloaded)
		tester.InitServer(liveSiteConfig(dir, sim.URL(), "30d"), "caddyfile")
	}()
	f := nextFrame(t, frames, 5*time.Second)
	if f.Event != "close" || f.Data != `{"reason":"server stopping"}` {
		t.Fatalf("frame %+v, want the close event", f)
	}
	closedAfter := time.Since(start)
	select {
	case _, ok := <-frames:
		if ok {
			t.Fatal("a frame after the close event")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stream stayed open after the close event")
	}
	select {
	case <-reloaded:
	case <-time.After(liveGrace / 2):
		t.Fatal("the reload did not complete")
	}
	if closedAfter > 3*time.Second {
		t.Errorf("the stream ended %v after the reload began", closedAfter)
	}
	t.Logf("stream closed %v after the reload began; reload done after %v", closedAfter, time.Since(start))

	// The new config serves the feed; resuming replays the event.
	prev, _ := strconv.ParseInt(id, 10, 64)
	frames = openLive(t, streaming, strconv.FormatInt(prev-1, 10))
	if id2, evs := eventsFrame(t, frames, 5*time.Second); id2 != id || len(evs) != 1 {
		t.Fatalf("resumed: id %s, %v", id2, evs)
	}
	if _, err := sim.Emit(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	if id3, _ := eventsFrame(t, frames, 10*time.Second); id3 == id {
		t.Fatalf("the new event has the old id %s", id3)
	}

	// Nothing went back with the new registry.
	for deadline := time.Now().Add(5 * time.Second); ; {
		text = scrape(t)
		if sample(text, stored) == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for series, v := range before {
		if got := sample(text, series); got < v {
			t.Errorf("%s = %v after the reload, %v before", series, got, v)
		}
	}
	if got := sample(text, stored); got != 2 {
		t.Errorf("%s = %v, want 2\n%s", stored, got, grepLines(text, "cpam_"))
	}
}

// grepLines returns the lines of text that start with prefix.
func grepLines(text, prefix string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
