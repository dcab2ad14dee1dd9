package collector

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cpam-caddy/cpam/cpasim"
	"github.com/cpam-caddy/cpam/cpasim/simtest"
)

const simKey = "collector-test-key"

func startSim(t *testing.T, mut func(*cpasim.Options)) *cpasim.Server {
	t.Helper()
	return simtest.Start(t, simKey, mut)
}

// countingSink records what the collector hands over.
type countingSink struct {
	mu      sync.Mutex
	entries []Entry
}

func (s *countingSink) Append(e Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entries = append(s.entries, e)
	return nil
}

func (s *countingSink) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

func runCollector(t *testing.T, sim *cpasim.Server, mode, key string, sink Sink) *Collector {
	t.Helper()
	return runCollectorWith(t, sim, mode, key, sink, nil)
}

func runCollectorWith(t *testing.T, sim *cpasim.Server, mode, key string, sink Sink, mut func(*Collector)) *Collector {
	t.Helper()
	u, err := url.Parse(sim.URL())
	if err != nil {
		t.Fatal(err)
	}
	c := New(Config{Name: "main", URL: u, ManagementKey: key, Mode: mode, PollInterval: 100 * time.Millisecond},
		Options{Sink: sink, Attribution: NewAttribution()})
	if mut != nil {
		mut(c)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return c
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func emit(t *testing.T, sim *cpasim.Server, n int) {
	t.Helper()
	ctx := context.Background()
	if got, err := sim.Emit(ctx, n); err != nil || got != n {
		t.Fatalf("Emit(%d) = %d, %v", n, got, err)
	}
	if err := sim.Sync(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestAutoSubscribesAndDrainsTheBacklog(t *testing.T) {
	sim := startSim(t, nil)
	emit(t, sim, 30) // queued: nobody is subscribed yet
	sink := &countingSink{}
	c := runCollector(t, sim, ModeAuto, simKey, sink)
	eventually(t, "the subscription", func() bool { return sim.Subscribers("usage") == 1 && c.Status().Transport == ModeSubscribe })
	eventually(t, "the backlog", func() bool { return sink.len() == 30 })
	emit(t, sim, 20)
	eventually(t, "published records", func() bool { return sink.len() == 50 })
	st := sim.DeliveryStats()
	if st.Popped != 30 || st.Published != 20 || st.Deliverable() != 50 {
		t.Errorf("delivery = %+v", st)
	}
	s := c.Status()
	if !s.SupportRefresh || !s.Connected || s.Received != 50 || s.CPAVersion != cpasim.DefaultVersion || s.UsageStatisticsEnabled == nil || !*s.UsageStatisticsEnabled {
		t.Errorf("status = %+v", s)
	}
	if sim.Subscribers("errors") != 1 {
		t.Error("no subscription to the errors channel")
	}
}

// TestSurvivesDroppedConnections drops every connection 50 times while
// records flow; the collector must end with exactly what CPA could deliver,
// and its 100-odd reconnections (usage and errors) never add up to a ban.
func TestSurvivesDroppedConnections(t *testing.T) {
	sim := startSim(t, nil)
	sink := &countingSink{}
	c := runCollector(t, sim, ModeAuto, simKey, sink)
	eventually(t, "the subscription", func() bool { return c.Status().Transport == ModeSubscribe })
	for range 50 {
		emit(t, sim, 10)
		before := sim.DeliveryStats().Subscriptions
		sim.DropConnections()
		emit(t, sim, 2)
		eventually(t, "a new subscription", func() bool {
			st := sim.DeliveryStats()
			return st.Subscriptions > before && st.Subscribers == 1
		})
	}
	// A drop can catch records inside the kernel: written by CPA, never
	// read by the collector. The simulator cannot see those, so the count
	// may miss a few per drop under heavy load; everything else must match.
	eventually(t, "the queue drained", func() bool { return sim.QueueLen() == 0 })
	var st cpasim.DeliveryStats
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		st = sim.DeliveryStats()
		if int64(sink.len()) >= st.Deliverable()-inFlightAllowance(50) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for every deliverable record: received %d of %d (allowance %d); delivery %+v; status %+v",
				sink.len(), st.Deliverable(), inFlightAllowance(50), st, c.Status())
		}
	}
	if got := int64(sink.len()); got > st.Produced {
		t.Errorf("received %d records, more than the %d produced", got, st.Produced)
	}
	st = sim.DeliveryStats()
	t.Logf("produced %d, received %d, discarded by CPA in dropped buffers %d", st.Produced, sink.len(), st.Discarded)
	if st.Produced != 600 || st.Subscriptions < 51 {
		t.Errorf("produced %d over %d subscriptions", st.Produced, st.Subscriptions)
	}
	// 50 reconnects' worth of AUTH never added up to a ban.
	if code := mgmtStatus(t, sim); code != http.StatusOK {
		t.Errorf("management after the reconnects: %d", code)
	}
}

// TestStalledSubscriberIsDroppedAndRecovered stalls the collector's
// subscription until CPA drops it; records then go to the queue and the
// reconnecting collector drains them.
func TestStalledSubscriberIsDroppedAndRecovered(t *testing.T) {
	sim := startSim(t, nil)
	sink := &countingSink{}
	c := runCollector(t, sim, ModeAuto, simKey, sink)
	eventually(t, "the subscription", func() bool { return c.Status().Transport == ModeSubscribe })
	sim.StallSubscribers(true)
	emit(t, sim, 300) // more than the 256-message buffer
	sim.StallSubscribers(false)
	emit(t, sim, 50)
	eventually(t, "every deliverable record", func() bool {
		st := sim.DeliveryStats()
		return sim.QueueLen() == 0 && int64(sink.len()) == st.Deliverable()
	})
	st := sim.DeliveryStats()
	if st.Lost == 0 && st.Queued == 0 {
		t.Errorf("the stall did not overflow the subscriber: %+v", st)
	}
	t.Logf("delivery %+v, received %d", st, sink.len())
}

func TestHTTPFallbackWhenRESPIsRefused(t *testing.T) {
	sim := startSim(t, func(o *cpasim.Options) { o.RESPRegression = true })
	sink := &countingSink{}
	c := runCollector(t, sim, ModeAuto, simKey, sink)
	emit(t, sim, 40)
	eventually(t, "HTTP polling", func() bool { return c.Status().Transport == ModeHTTP && sink.len() == 40 })
	if s := c.Status(); s.LastErrorStage != "subscribe" || !strings.Contains(s.LastError, "does not serve RESP") {
		t.Errorf("status = %+v", s)
	}
}

func TestPollModes(t *testing.T) {
	for _, mode := range []string{ModeHTTP, ModeRESP} {
		t.Run(mode, func(t *testing.T) {
			sim := startSim(t, nil)
			sink := &countingSink{}
			c := runCollector(t, sim, mode, simKey, sink)
			emit(t, sim, 1500) // more than one pop batch
			eventually(t, "polled records", func() bool { return sink.len() == 1500 })
			if c.Status().Transport != mode || sim.Subscribers("usage") != 0 {
				t.Errorf("transport %q, subscribers %d", c.Status().Transport, sim.Subscribers("usage"))
			}
		})
	}
}

// TestWrongKeyStopsWithoutBanning: a wrong key must cost one failed login,
// not enough to ban the host (CPA bans at five).
func TestWrongKeyStopsWithoutBanning(t *testing.T) {
	sim := startSim(t, nil)
	c := runCollector(t, sim, ModeAuto, "wrong-key", &countingSink{})
	eventually(t, "the collector to stop", func() bool { return c.Status().Stopped })
	s := c.Status()
	if !strings.Contains(s.LastError, "CPA rejected the management key") {
		t.Errorf("last error = %q", s.LastError)
	}
	time.Sleep(300 * time.Millisecond) // nothing else may try meanwhile
	if code := mgmtStatus(t, sim); code != http.StatusOK {
		t.Errorf("the host is banned after a wrong key: %d", code)
	}
}

func TestRefreshRebuildsAttribution(t *testing.T) {
	sim := startSim(t, nil)
	sink := &countingSink{}
	attr := NewAttribution()
	u, _ := url.Parse(sim.URL())
	c := New(Config{Name: "main", URL: u, ManagementKey: simKey}, Options{Sink: sink, Attribution: attr})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	defer func() { cancel(); <-done }()

	const mockIndex = "3805471f4b0ffac9"
	eventually(t, "the first attribution map", func() bool { _, ok := attr.Lookup("main", mockIndex); return ok })
	acc, _ := attr.Lookup("main", mockIndex)
	if acc.Label != "mock" || acc.Provider != "openai-compatibility:mock" {
		t.Errorf("mock key = %+v", acc)
	}
	before := attr.Len("main")
	// A new openai-compatibility key makes CPA publish {"refresh":true}.
	req, _ := http.NewRequest(http.MethodPatch, sim.URL()+"/v0/management/openai-compatibility",
		strings.NewReader(`{"name":"mock","value":{"api-key-entries":[{"api-key":"sk-mock-upstream"},{"api-key":"sk-mock-second"}]}}`))
	req.Header.Set("Authorization", "Bearer "+simKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH openai-compatibility: %v %v", resp, err)
	}
	resp.Body.Close()
	eventually(t, "the refreshed map", func() bool { return attr.Len("main") == before+1 })
}

func TestBackoffIsCappedWithJitter(t *testing.T) {
	for n := range 40 {
		d := backoff(n)
		limit := backoffBase << min(n, 16)
		if limit > backoffCap || limit <= 0 {
			limit = backoffCap
		}
		if d < limit/2 || d > limit {
			t.Fatalf("backoff(%d) = %s, want within [%s, %s]", n, d, limit/2, limit)
		}
	}
	if w := retryWait(&BannedError{Remaining: 3 * time.Minute}, 0); w != 3*time.Minute+time.Second {
		t.Errorf("wait after a ban = %s", w)
	}
	if err, ok := classifyCPAError("IP banned due to too many failed attempts. Try again in 29m59s"); !ok || err.(*BannedError).Remaining != 29*time.Minute+59*time.Second {
		t.Errorf("ban message parsed as %v", err)
	}
	if err, _ := classifyCPAError("invalid management key"); !errors.Is(err, ErrKeyRejected) {
		t.Errorf("invalid key parsed as %v", err)
	}
}

func mgmtStatus(t *testing.T, sim *cpasim.Server) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, sim.URL()+"/v0/management/usage-statistics-enabled", nil)
	req.Header.Set("Authorization", "Bearer "+simKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestPingsInsideTheSubscription keeps pinging an idle subscription (CPA
// answers a bare PING with a nil bulk that go-redis cannot decode, so the
// collector must send a payload) and stays subscribed.
func TestPingsInsideTheSubscription(t *testing.T) {
	sim := startSim(t, nil)
	sink := &countingSink{}
	c := runCollectorWith(t, sim, ModeAuto, simKey, sink, func(c *Collector) { c.pingEvery = 20 * time.Millisecond })
	eventually(t, "the subscription", func() bool { return c.Status().Transport == ModeSubscribe })
	time.Sleep(200 * time.Millisecond)
	emit(t, sim, 3)
	eventually(t, "records after the pings", func() bool { return sink.len() == 3 })
	if s := c.Status(); s.LastError != "" || !s.Connected {
		t.Errorf("status after pings = %+v", s)
	}
}

// TestFallbackBehindAnHTTPProxy points the collector at an HTTP reverse
// proxy in front of CPA: RESP gets an HTTP answer (the classic
// "unsupported RESP prefix 'H'"), so usage is polled over HTTP.
func TestFallbackBehindAnHTTPProxy(t *testing.T) {
	sim := startSim(t, nil)
	target, _ := url.Parse(sim.URL())
	proxy := httptest.NewServer(httputil.NewSingleHostReverseProxy(target))
	defer proxy.Close()
	u, _ := url.Parse(proxy.URL)
	sink := &countingSink{}
	c := New(Config{Name: "main", URL: u, ManagementKey: simKey, PollInterval: 100 * time.Millisecond}, Options{Sink: sink})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	defer func() { cancel(); <-done }()
	emit(t, sim, 25)
	eventually(t, "records polled through the proxy", func() bool { return sink.len() == 25 && c.Status().Transport == ModeHTTP })
	if s := c.Status(); !strings.Contains(s.LastError, "an HTTP server answered") {
		t.Errorf("last error = %q", s.LastError)
	}
}

// inFlightAllowance bounds the records that may vanish inside the kernel
// over the given number of abrupt connection drops (measured: about one in
// ten drops under heavy load; allowed: one in five).
func inFlightAllowance(drops int) int64 { return int64(drops) / 5 }
