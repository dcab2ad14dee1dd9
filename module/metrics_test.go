package module

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/cpam-caddy/cpam/collector"
)

// gathered is one gather of a registry: metric families by name.
type gathered map[string]*dto.MetricFamily

func gather(t *testing.T, g prometheus.Gatherer) gathered {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatalf("gathering: %v", err)
	}
	out := gathered{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// metric returns the metric of family name whose labels include labels
// (pairs of name, value), or nil.
func (g gathered) metric(name string, labels ...string) *dto.Metric {
	mf := g[name]
	if mf == nil {
		return nil
	}
next:
	for _, m := range mf.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, lp := range m.GetLabel() {
				if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		return m
	}
	return nil
}

// value returns a counter's or gauge's value, -1 when absent.
func (g gathered) value(name string, labels ...string) float64 {
	m := g.metric(name, labels...)
	switch {
	case m == nil:
		return -1
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	}
	return -1
}

// metricPayload is a usage record the normaliser accepts; i makes it unique.
func metricPayload(i int) []byte {
	return fmt.Appendf(nil, `{"timestamp":"2026-11-27T01:00:%02dZ","model":"m","request_id":"abcd%04d","latency_ms":5}`, i, i)
}

func TestMetricsSurviveReloads(t *testing.T) {
	sim := startPipelineSim(t)
	t.Setenv("CPAM_METRICS_TEST_KEY", pipelineKey)
	db := t.TempDir() + "/cpam.db"
	app := func(poll time.Duration) *App {
		return &App{Database: db, CPA: []*Upstream{{Name: "main", URL: sim.URL(), ManagementKey: "{env.CPAM_METRICS_TEST_KEY}",
			PollInterval: caddy.Duration(poll)}}}
	}

	ctx1 := newTestContext(t)
	first := app(time.Second)
	if err := first.Provision(ctx1); err != nil {
		t.Fatal(err)
	}
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	rt := first.Runtime()
	reg1 := ctx1.GetMetricsRegistry()
	if reg1 == nil {
		t.Fatal("the test context has no registry")
	}
	// Registering again (another app on the same registry) is fine.
	if err := registerMetrics(reg1, rt); err != nil {
		t.Fatalf("second registration: %v", err)
	}

	// Before any record: the configured upstream reports zeros.
	g := gather(t, reg1)
	if v := g.value("cpam_events_stored_total", "upstream", "main"); v != 0 {
		t.Errorf("stored before any record = %v, want 0", v)
	}
	if v := g.value("cpam_database_size_bytes"); v <= 0 {
		t.Errorf("database size = %v", v)
	}

	emitRecords(t, sim, 5)
	col := rt.collection
	// A record twice (the second is a duplicate), a broken one, and a
	// record of an upstream that is not configured (any more).
	for _, e := range []collector.Entry{
		{Upstream: "main", Received: time.Now(), Payload: metricPayload(1)},
		{Upstream: "main", Received: time.Now(), Payload: metricPayload(1)},
		{Upstream: "main", Received: time.Now(), Payload: []byte("not a record")},
		{Upstream: "gone", Received: time.Now(), Payload: metricPayload(2)},
	} {
		if err := col.spool.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the records to be counted", 20*time.Second, func() bool {
		g = gather(t, reg1)
		return g.value("cpam_events_stored_total", "upstream", "main") == 6 &&
			g.value("cpam_events_duplicate_total", "upstream", "main") == 1 &&
			g.value("cpam_events_dead_lettered_total", "upstream", "main") == 1 &&
			g.value("cpam_events_stored_total", "upstream", "gone") == 1 &&
			g.value("cpam_collector_connected", "upstream", "main") == 1 &&
			g.value("cpam_spool_depth") == 0
	})
	if v := g.value("cpam_collector_lag_seconds", "upstream", "main"); v < 0 {
		t.Errorf("lag = %v", v)
	}
	if g.metric("cpam_collector_events_per_second", "upstream", "main") == nil {
		t.Error("no receive rate for main")
	}
	if g.metric("cpam_collector_connected", "upstream", "gone") != nil {
		t.Error("an upstream without a collector reports a connection")
	}
	for _, name := range []string{"cpam_events_stored_total", "cpam_events_duplicate_total", "cpam_events_dead_lettered_total"} {
		if g[name].GetType() != dto.MetricType_COUNTER {
			t.Errorf("%s is a %v", name, g[name].GetType())
		}
	}

	// API latencies.
	rt.ObserveAPIRequest("GET /api/v1/summary", 3*time.Millisecond)
	rt.ObserveAPIRequest("GET /api/v1/summary", 40*time.Millisecond)
	rt.ObserveAPIRequest("GET /status", time.Millisecond)
	g = gather(t, reg1)
	h := g.metric("cpam_api_request_duration_seconds", "route", "GET /api/v1/summary")
	if h == nil || h.GetHistogram().GetSampleCount() != 2 || h.GetHistogram().GetSampleSum() < .042 || h.GetHistogram().GetSampleSum() > .044 {
		t.Fatalf("summary histogram = %v", h)
	}

	// Reload with a changed poll interval: a new registry, the collector
	// restarts, and nothing goes back.
	ctx2 := newTestContext(t)
	second := app(2 * time.Second)
	if err := second.Provision(ctx2); err != nil {
		t.Fatal(err)
	}
	if err := second.Start(); err != nil {
		t.Fatal(err)
	}
	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := first.Cleanup(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = second.Stop()
		_ = second.Cleanup()
	}()
	reg2 := ctx2.GetMetricsRegistry()
	if reg2 == reg1 || second.Runtime() != rt {
		t.Fatal("the reload did not give a new registry on the same runtime")
	}
	g2 := gather(t, reg2)
	for _, c := range []struct {
		name, upstream string
	}{
		{"cpam_events_stored_total", "main"}, {"cpam_events_duplicate_total", "main"},
		{"cpam_events_dead_lettered_total", "main"}, {"cpam_events_stored_total", "gone"},
	} {
		before, after := g.value(c.name, "upstream", c.upstream), g2.value(c.name, "upstream", c.upstream)
		if after < before || after <= 0 {
			t.Errorf("%s{upstream=%q}: %v before the reload, %v after", c.name, c.upstream, before, after)
		}
	}
	if h := g2.metric("cpam_api_request_duration_seconds", "route", "GET /api/v1/summary"); h == nil || h.GetHistogram().GetSampleCount() != 2 {
		t.Errorf("histogram after the reload = %v", h)
	}
	emitRecords(t, sim, 3)
	waitFor(t, "records after the reload", 20*time.Second, func() bool {
		g2 = gather(t, reg2)
		return g2.value("cpam_events_stored_total", "upstream", "main") == 9
	})
	// The old registry is no longer Caddy's, but reading it does no harm.
	gather(t, reg1)
}

func TestMetricsDescribeMatchesCollect(t *testing.T) {
	db := t.TempDir() + "/cpam.db"
	a := &App{Database: db}
	if err := a.Provision(newTestContext(t)); err != nil {
		t.Fatal(err)
	}
	defer a.Cleanup()
	// Before Start there is no collection: only the process-wide gauges.
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(a.Runtime().MetricsCollector()); err != nil {
		t.Fatal(err)
	}
	a.Runtime().ObserveAPIRequest("GET /status", time.Millisecond)
	g := gather(t, reg)
	if g.value("cpam_spool_depth") != 0 || g.value("cpam_database_size_bytes") <= 0 || g.metric("cpam_api_request_duration_seconds", "route", "GET /status") == nil {
		t.Errorf("before start: %v", g)
	}
	var names []string
	for n := range g {
		if !strings.HasPrefix(n, "cpam_") {
			t.Errorf("metric %s lacks the cpam_ prefix", n)
		}
		names = append(names, n)
	}
	if len(names) != 3 {
		t.Errorf("metrics before start: %v", names)
	}
}
