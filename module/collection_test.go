package module

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/cpam-caddy/cpam/collector"
	"github.com/cpam-caddy/cpam/cpasim"
	"github.com/cpam-caddy/cpam/cpasim/simtest"
	"github.com/cpam-caddy/cpam/store"
)

// These tests run the whole collection path (CPA simulator → collector →
// spool → ingester → SQLite) and demand that the database ends with exactly
// the records CPA could deliver: nothing lost, nothing twice.

const pipelineKey = "pipeline-test-key"

func startPipelineSim(t *testing.T) *cpasim.Server {
	t.Helper()
	return simtest.Start(t, pipelineKey, nil)
}

type pipeline struct {
	st       *store.Store
	col      *collection
	inFlight int64 // see waitAllStored
}

func openPipeline(t *testing.T, db string, sim *cpasim.Server, wrap func(collector.Committer) collector.Committer) *pipeline {
	t.Helper()
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	col, err := startCollection(st, zap.NewNop(), wrap)
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	u, _ := url.Parse(sim.URL())
	col.apply([]UpstreamSettings{{Name: "main", URL: u, ManagementKey: pipelineKey, Collector: CollectorAuto, PollInterval: time.Second}}, zap.NewNop())
	p := &pipeline{st: st, col: col}
	t.Cleanup(func() { p.close(t) })
	return p
}

func (p *pipeline) close(t *testing.T) {
	t.Helper()
	if p.col == nil {
		return
	}
	if err := p.col.stop(); err != nil {
		t.Errorf("stopping collection: %v", err)
	}
	if err := p.st.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
		t.Errorf("closing store: %v", err)
	}
	p.col = nil
}

func (p *pipeline) stored(t *testing.T) int64 {
	t.Helper()
	sum, err := p.st.Summary(context.Background(), store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return sum.Attempts
}

func (p *pipeline) status(t *testing.T) collector.Status {
	t.Helper()
	all := p.col.statuses()
	if len(all) != 1 {
		t.Fatalf("%d collectors", len(all))
	}
	return all[0]
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func emitRecords(t *testing.T, sim *cpasim.Server, n int) {
	t.Helper()
	if _, err := sim.Emit(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	if err := sim.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// waitAllStored waits until the store holds every deliverable record and
// the queue is empty, then checks nothing was stored twice. p.inFlight is
// how many records abrupt connection drops may have caught inside the
// kernel (written by CPA, never read): the simulator cannot see those.
func waitAllStored(t *testing.T, p *pipeline, sim *cpasim.Server) cpasim.DeliveryStats {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := sim.DeliveryStats()
		stored := p.stored(t)
		if sim.QueueLen() == 0 && p.col.spool.Depth() == 0 && stored <= st.Deliverable() && stored >= st.Deliverable()-p.inFlight {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stored %d, CPA could deliver %d, queue %d, spool %d, collector %+v, delivery %+v",
				stored, st.Deliverable(), sim.QueueLen(), p.col.spool.Depth(), p.status(t), st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if s := p.status(t); s.DeadLetters != 0 {
		t.Errorf("%d dead letters", s.DeadLetters)
	}
	return sim.DeliveryStats()
}

func TestPipelineUnderFaults(t *testing.T) {
	sim := startPipelineSim(t)
	p := openPipeline(t, filepath.Join(t.TempDir(), "cpam.db"), sim, nil)
	waitFor(t, "the subscription", 10*time.Second, func() bool { return p.status(t).Transport == collector.ModeSubscribe })

	t.Run("connection dropped mid-stream x20", func(t *testing.T) {
		stop := sim.StartEmitting(3, 2*time.Millisecond)
		p.inFlight += 20 / 5 // see waitAllStored
		for range 20 {
			time.Sleep(30 * time.Millisecond)
			before := sim.DeliveryStats().Subscriptions
			sim.DropConnections()
			waitFor(t, "resubscription", 10*time.Second, func() bool {
				st := sim.DeliveryStats()
				return st.Subscriptions > before && st.Subscribers == 1
			})
		}
		if _, err := stop(); err != nil {
			t.Fatal(err)
		}
		st := waitAllStored(t, p, sim)
		t.Logf("produced %d, stored %d, lost by CPA in dropped buffers %d", st.Produced, p.stored(t), st.Discarded)
		if s := p.status(t); s.Stored != p.stored(t) || s.Duplicates != 0 {
			t.Errorf("collector counts %d stored, %d duplicates; the store has %d", s.Stored, s.Duplicates, p.stored(t))
		}
		if missing := st.Deliverable() - p.stored(t); missing > 0 {
			t.Logf("%d records vanished in flight at a drop", missing)
		}
	})

	t.Run("subscriber stalled until CPA drops it", func(t *testing.T) {
		sim.StallSubscribers(true)
		emitRecords(t, sim, 400)
		sim.StallSubscribers(false)
		emitRecords(t, sim, 50)
		st := waitAllStored(t, p, sim)
		if st.Lost == 0 && st.Queued == 0 {
			t.Errorf("the stall did not overflow the subscription: %+v", st)
		}
	})

	t.Run("simulator restart", func(t *testing.T) {
		sim.StallSubscribers(true) // keep records in CPA's queue and buffers when it restarts
		emitRecords(t, sim, 30)
		p.inFlight++ // the restart is one more abrupt drop
		sim.Restart()
		sim.StallSubscribers(false)
		waitFor(t, "resubscription", 10*time.Second, func() bool { return sim.Subscribers("usage") == 1 })
		emitRecords(t, sim, 30)
		st := waitAllStored(t, p, sim)
		t.Logf("restart: %+v", st)
		waitFor(t, "the restart warning", 10*time.Second, func() bool {
			return strings.Contains(p.status(t).RestartWarning, "CPA restarted")
		})
	})

	t.Run("flood of 10000 records", func(t *testing.T) {
		before := p.stored(t)
		start := time.Now()
		emitRecords(t, sim, 10000)
		waitAllStored(t, p, sim)
		t.Logf("10000 records through the full path in %s (%.0f events/s)", time.Since(start), float64(p.stored(t)-before)/time.Since(start).Seconds())
	})
}

// failingCommitter fails every commit while failing is set.
type failingCommitter struct {
	collector.Committer
	failing  atomic.Bool
	failures atomic.Int64
}

func (f *failingCommitter) Commit(ctx context.Context, b store.Batch) (store.CommitResult, error) {
	if f.failing.Load() {
		f.failures.Add(1)
		return store.CommitResult{}, errors.New("disk I/O error (injected)")
	}
	return f.Committer.Commit(ctx, b)
}

func TestPipelineSurvivesFailingCommits(t *testing.T) {
	sim := startPipelineSim(t)
	var fc *failingCommitter
	p := openPipeline(t, filepath.Join(t.TempDir(), "cpam.db"), sim, func(c collector.Committer) collector.Committer {
		fc = &failingCommitter{Committer: c}
		fc.failing.Store(true)
		return fc
	})
	waitFor(t, "the subscription", 10*time.Second, func() bool { return p.status(t).Transport == collector.ModeSubscribe })
	emitRecords(t, sim, 300)
	waitFor(t, "failed commits", 10*time.Second, func() bool { return fc.failures.Load() >= 3 })
	if got := p.stored(t); got != 0 {
		t.Fatalf("%d records stored while commits fail", got)
	}
	// Everything CPA delivered waits in the spool. (A burst of 300 can
	// overflow CPA's 256-message buffer; CPA then loses one record and
	// queues the rest, which the collector drains.)
	waitFor(t, "every record in the spool", 10*time.Second, func() bool {
		return sim.QueueLen() == 0 && p.col.spool.Depth() == sim.DeliveryStats().Deliverable()
	})
	if got := p.stored(t); got != 0 {
		t.Fatalf("%d records stored while commits fail", got)
	}
	// Records keep arriving while the database is down.
	emitRecords(t, sim, 200)
	fc.failing.Store(false)
	st := waitAllStored(t, p, sim)
	if st.Produced != 500 || p.stored(t) != st.Deliverable() || st.Deliverable() < 499 {
		t.Errorf("stored %d of %d produced (%+v)", p.stored(t), st.Produced, st)
	}
}

// TestPipelineReplaysTheSpoolAfterARestart stops the process's pipeline
// while the database is failing, then starts a new one on the same files:
// the spool is replayed and nothing is lost or stored twice.
func TestPipelineReplaysTheSpoolAfterARestart(t *testing.T) {
	sim := startPipelineSim(t)
	db := filepath.Join(t.TempDir(), "cpam.db")
	var fc *failingCommitter
	first := openPipeline(t, db, sim, func(c collector.Committer) collector.Committer {
		fc = &failingCommitter{Committer: c}
		return fc
	})
	waitFor(t, "the subscription", 10*time.Second, func() bool { return first.status(t).Transport == collector.ModeSubscribe })
	emitRecords(t, sim, 100)
	waitFor(t, "the first records stored", 10*time.Second, func() bool { return first.stored(t) == 100 })
	fc.failing.Store(true)
	emitRecords(t, sim, 150)
	waitFor(t, "records held in the spool", 10*time.Second, func() bool { return first.col.spool.Depth() == 150 })
	first.col.drainWait = 0 // stop at once, like a killed process
	first.close(t)

	emitRecords(t, sim, 40) // queued while no collector runs
	second := openPipeline(t, db, sim, nil)
	waitAllStored(t, second, sim)
	if got := second.stored(t); got != 290 {
		t.Errorf("stored %d after the restart, want 290", got)
	}
}

// TestPipelineStoresDuplicatesOnce feeds every record twice (as an overlap
// of subscription and queue pop would) and expects each stored once.
func TestPipelineStoresDuplicatesOnce(t *testing.T) {
	sim := startPipelineSim(t)
	p := openPipeline(t, filepath.Join(t.TempDir(), "cpam.db"), sim, nil)
	waitFor(t, "the subscription", 10*time.Second, func() bool { return p.status(t).Transport == collector.ModeSubscribe })
	records := make([][]byte, 0, 50)
	for i := range 50 {
		r := cpasim.Record{RequestID: fmt.Sprintf("%08x", i/2), Model: "mock-gpt", Provider: "openai-compatible-mock",
			Timestamp: time.Date(2026, 11, 27, 1, 0, i, 0, time.UTC), AuthIndex: "3805471f4b0ffac9", Endpoint: "POST /v1/chat/completions"}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		records = append(records, b)
	}
	for round := range 2 {
		for _, b := range records {
			if err := p.col.spool.Append(collector.Entry{Upstream: "main", Received: time.Now(), Payload: b}); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	}
	waitFor(t, "the records", 10*time.Second, func() bool { s := p.status(t); return s.Stored+s.Duplicates == 100 })
	if s := p.status(t); s.Stored != 50 || s.Duplicates != 50 || p.stored(t) != 50 {
		t.Errorf("stored %d, duplicates %d, in the database %d; want 50, 50, 50", s.Stored, s.Duplicates, p.stored(t))
	}
}

// TestRetentionKeepsRollups expires raw events past the retention while the
// aggregates stay.
func TestRetentionKeepsRollups(t *testing.T) {
	sim := startPipelineSim(t)
	p := openPipeline(t, filepath.Join(t.TempDir(), "cpam.db"), sim, nil)
	waitFor(t, "the subscription", 10*time.Second, func() bool { return p.status(t).Transport == collector.ModeSubscribe })
	emitRecords(t, sim, 20)
	waitFor(t, "the records", 10*time.Second, func() bool { return p.stored(t) == 20 })
	ctx := context.Background()
	p.col.setRetention(24 * time.Hour)
	if err := p.col.expire(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if evs, _, err := p.st.Events(ctx, store.Filter{}, store.Page{Limit: 100}); err != nil || len(evs) != 20 {
		t.Fatalf("recent events after retention: %d, %v", len(evs), err)
	}
	if err := p.col.expire(ctx, time.Now().Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if evs, _, err := p.st.Events(ctx, store.Filter{}, store.Page{Limit: 100}); err != nil || len(evs) != 0 {
		t.Errorf("events older than the retention remain: %d, %v", len(evs), err)
	}
	if got := p.stored(t); got != 20 {
		t.Errorf("rollups count %d attempts after retention, want 20", got)
	}
}

// TestStoredPricesOverrideTheDefaults freezes the operator's price, not the
// built-in one, onto new events.
func TestStoredPricesOverrideTheDefaults(t *testing.T) {
	db := filepath.Join(t.TempDir(), "cpam.db")
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutModelPrice(context.Background(), store.ModelPrice{Model: "mock-gpt", Input: 1, Output: 2}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	sim := startPipelineSim(t)
	p := openPipeline(t, db, sim, nil)
	waitFor(t, "the subscription", 10*time.Second, func() bool { return p.status(t).Transport == collector.ModeSubscribe })
	emitRecords(t, sim, 1)
	waitFor(t, "the record", 10*time.Second, func() bool { return p.stored(t) == 1 })
	evs, _, err := p.st.Events(context.Background(), store.Filter{}, store.Page{Limit: 1})
	if err != nil || len(evs) != 1 {
		t.Fatalf("events: %v", err)
	}
	e := evs[0].Event
	want := e.Tokens.Input()*1 + e.Tokens.OutputTotal()*2 + e.Tokens.Unclassified // micro-USD: USD per 1M tokens == micro-USD per token
	if !e.Cost.Priced || e.Cost.MicroUSD != want {
		t.Errorf("cost = %+v, want %d micro-USD at the stored price (tokens %+v)", e.Cost, want, e.Tokens)
	}
}

// TestCredentialHealthFromTheErrorsChannel stores CPA's credential state
// published on the errors channel after a failed attempt.
func TestCredentialHealthFromTheErrorsChannel(t *testing.T) {
	sim := startPipelineSim(t)
	p := openPipeline(t, filepath.Join(t.TempDir(), "cpam.db"), sim, nil)
	waitFor(t, "both subscriptions", 10*time.Second, func() bool { return sim.Subscribers("usage") == 1 && sim.Subscribers("errors") == 1 })
	req, _ := http.NewRequest(http.MethodPost, sim.URL()+"/v1/chat/completions", strings.NewReader(`{"model":"mock-fail","messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer sk-cpa-test-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var got []store.CredentialHealth
	waitFor(t, "the credential's health", 10*time.Second, func() bool {
		got, _ = p.st.CredentialHealths(context.Background(), "main")
		return len(got) == 1
	})
	h := got[0]
	if h.AuthIndex != "3805471f4b0ffac9" || h.LastStatusCode != 429 || !h.QuotaExceeded || h.QuotaReason != "quota" {
		t.Errorf("health = %+v", h)
	}
}

// TestTwoUpstreamsAreTagged collects two CPA instances into one database.
func TestTwoUpstreamsAreTagged(t *testing.T) {
	a, b := startPipelineSim(t), startPipelineSim(t)
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "cpam.db"))
	if err != nil {
		t.Fatal(err)
	}
	col, err := startCollection(st, zap.NewNop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &pipeline{st: st, col: col}
	t.Cleanup(func() { p.close(t) })
	ua, _ := url.Parse(a.URL())
	ub, _ := url.Parse(b.URL())
	col.apply([]UpstreamSettings{
		{Name: "alpha", URL: ua, ManagementKey: pipelineKey, Collector: CollectorAuto, PollInterval: time.Second},
		{Name: "beta", URL: ub, ManagementKey: pipelineKey, Collector: CollectorAuto, PollInterval: time.Second},
	}, zap.NewNop())
	waitFor(t, "both subscriptions", 10*time.Second, func() bool { return a.Subscribers("usage") == 1 && b.Subscribers("usage") == 1 })
	emitRecords(t, a, 30)
	emitRecords(t, b, 12)
	ctx := context.Background()
	waitFor(t, "both upstreams' records", 10*time.Second, func() bool { return p.stored(t) == 42 })
	for name, want := range map[string]int64{"alpha": 30, "beta": 12} {
		sum, err := st.Summary(ctx, store.Filter{Upstreams: []string{name}})
		if err != nil || sum.Attempts != want {
			t.Errorf("%s: %d attempts (%v), want %d", name, sum.Attempts, err, want)
		}
	}
	if len(col.statuses()) != 2 {
		t.Errorf("%d collector statuses, want 2", len(col.statuses()))
	}
	// A reload that drops one upstream stops only that collector.
	col.apply([]UpstreamSettings{{Name: "alpha", URL: ua, ManagementKey: pipelineKey, Collector: CollectorAuto, PollInterval: time.Second}}, zap.NewNop())
	waitFor(t, "beta's collector to stop", 10*time.Second, func() bool { return b.Subscribers("usage") == 0 })
	if a.Subscribers("usage") != 1 || a.DeliveryStats().Subscriptions != 1 {
		t.Errorf("alpha's collector was disturbed: %d subscribers, %d subscriptions", a.Subscribers("usage"), a.DeliveryStats().Subscriptions)
	}
}

// TestMalformedRecordsBecomeRedactedDeadLetters keeps what cannot be
// parsed, without the secret it carried, and stores the rest.
func TestMalformedRecordsBecomeRedactedDeadLetters(t *testing.T) {
	sim := startPipelineSim(t)
	p := openPipeline(t, filepath.Join(t.TempDir(), "cpam.db"), sim, nil)
	const secret = "sk-live-DEADLETTERCANARY0123456789abcdef"
	bad := []byte(`{"api_key":"` + secret + `","model":"mock-gpt","timestamp":"yesterday"}`)
	for _, payload := range [][]byte{bad, []byte("not json at all " + secret)} {
		if err := p.col.spool.Append(collector.Entry{Upstream: "main", Received: time.Now(), Payload: payload}); err != nil {
			t.Fatal(err)
		}
	}
	emitRecords(t, sim, 3)
	waitFor(t, "records and dead letters", 10*time.Second, func() bool {
		s := p.status(t)
		return s.DeadLetters == 2 && p.stored(t) == 3
	})
	dls, err := p.st.DeadLetters(context.Background(), 10)
	if err != nil || len(dls) != 2 {
		t.Fatalf("dead letters: %d, %v", len(dls), err)
	}
	for _, d := range dls {
		if strings.Contains(string(d.Payload), secret) || strings.Contains(d.Error, secret) {
			t.Errorf("a dead letter keeps the secret: %s / %s", d.Payload, d.Error)
		}
		if d.Upstream != "main" || d.Error == "" {
			t.Errorf("dead letter = %+v", d)
		}
	}
}

// TestReloadRetriesAStoppedCollector: after a refusal the collector stops;
// a reload (even with the same settings) tries again.
func TestReloadRetriesAStoppedCollector(t *testing.T) {
	sim := startPipelineSim(t)
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "cpam.db"))
	if err != nil {
		t.Fatal(err)
	}
	col, err := startCollection(st, zap.NewNop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &pipeline{st: st, col: col}
	t.Cleanup(func() { p.close(t) })
	u, _ := url.Parse(sim.URL())
	ups := []UpstreamSettings{{Name: "main", URL: u, ManagementKey: "wrong", Collector: CollectorAuto, PollInterval: time.Second}}
	col.apply(ups, zap.NewNop())
	waitFor(t, "the refusal", 10*time.Second, func() bool { return p.status(t).Stopped })
	stopped := col.collectors["main"].c
	col.apply(ups, zap.NewNop())
	if col.collectors["main"].c == stopped {
		t.Fatal("a reload kept the stopped collector instead of retrying")
	}
	waitFor(t, "the second refusal", 10*time.Second, func() bool { return p.status(t).Stopped })
	// Two refused logins in all: far from CPA's ban at five.
	if code := managementStatus(t, sim); code != http.StatusOK {
		t.Fatalf("management after two refusals: %d", code)
	}
	ups[0].ManagementKey = pipelineKey
	col.apply(ups, zap.NewNop())
	waitFor(t, "collection with the fixed key", 10*time.Second, func() bool { return p.status(t).Transport == collector.ModeSubscribe })
}

func managementStatus(t *testing.T, sim *cpasim.Server) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, sim.URL()+"/v0/management/usage-statistics-enabled", nil)
	req.Header.Set("Authorization", "Bearer "+pipelineKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
