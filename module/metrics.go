package module

import (
	"errors"
	"os"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cpam-caddy/cpam/collector"
)

// Prometheus metrics. Caddy makes a new registry for every configuration it
// loads (and serves it on the admin endpoint's /metrics); each
// configuration registers the Runtime's collector into its registry. The
// values come from the Runtime, which outlives configurations, so counters
// never go back across reloads, and collectors restarted by a reload do not
// reset them either: the counts are the ingester's, which lives as long as
// the Runtime.
var (
	descStored = prometheus.NewDesc("cpam_events_stored_total",
		"Usage events stored in the database, by CPA upstream.", []string{"upstream"}, nil)
	descDuplicate = prometheus.NewDesc("cpam_events_duplicate_total",
		"Usage records skipped because their event was already stored (redelivered by CPA), by CPA upstream.", []string{"upstream"}, nil)
	descDeadLettered = prometheus.NewDesc("cpam_events_dead_lettered_total",
		"Usage records that could not be read as events and were kept in the dead-letter table, by CPA upstream.", []string{"upstream"}, nil)
	descConnected = prometheus.NewDesc("cpam_collector_connected",
		"1 while the collector of a CPA upstream is connected to it, else 0.", []string{"upstream"}, nil)
	descLag = prometheus.NewDesc("cpam_collector_lag_seconds",
		"Time from CPA publishing the last stored record of an upstream to its commit to the database.", []string{"upstream"}, nil)
	descRate = prometheus.NewDesc("cpam_collector_events_per_second",
		"Usage records received from a CPA upstream per second, averaged over the last minute.", []string{"upstream"}, nil)
	descSpoolDepth = prometheus.NewDesc("cpam_spool_depth",
		"Usage records received from CPA and not yet stored in the database.", nil, nil)
	descDatabaseSize = prometheus.NewDesc("cpam_database_size_bytes",
		"Size on disk of the SQLite database file and its write-ahead log.", nil, nil)
)

// apiDurationBuckets are the buckets of cpam_api_request_duration_seconds,
// up to the analytics query timeout (30 s).
var apiDurationBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// runtimeMetrics are the metrics a Runtime keeps itself (the others are
// read from the running collection when scraped).
type runtimeMetrics struct {
	apiDuration *prometheus.HistogramVec
}

func newRuntimeMetrics() *runtimeMetrics {
	return &runtimeMetrics{
		apiDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cpam_api_request_duration_seconds",
			Help:    "Time to answer an authenticated cpam_api request, by route (the live event stream is not counted).",
			Buckets: apiDurationBuckets,
		}, []string{"route"}),
	}
}

// ObserveAPIRequest records how long an API request took; route is the
// API's route pattern, e.g. "GET /api/v1/summary" (a fixed set).
func (rt *Runtime) ObserveAPIRequest(route string, d time.Duration) {
	rt.metrics.apiDuration.WithLabelValues(route).Observe(d.Seconds())
}

// MetricsCollector returns a Prometheus collector of the Runtime's metrics.
// Register it into any registry (prometheus.NewPedanticRegistry in tests)
// and gather from there.
func (rt *Runtime) MetricsCollector() prometheus.Collector { return metricsCollector{rt: rt} }

// registerMetrics registers rt's collector into reg; registering it twice
// is not an error.
func registerMetrics(reg prometheus.Registerer, rt *Runtime) error {
	err := reg.Register(rt.MetricsCollector())
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		return nil
	}
	return err
}

// metricsCollector reads the Runtime's metrics when scraped.
type metricsCollector struct{ rt *Runtime }

// Describe sends every descriptor Collect uses.
func (c metricsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descStored, descDuplicate, descDeadLettered, descConnected, descLag, descRate,
		descSpoolDepth, descDatabaseSize} {
		ch <- d
	}
	c.rt.metrics.apiDuration.Describe(ch)
}

// Collect reads the current values.
func (c metricsCollector) Collect(ch chan<- prometheus.Metric) {
	rt := c.rt
	rt.mu.Lock()
	col := rt.collection
	rt.mu.Unlock()

	var depth int64
	if col != nil {
		totals := col.ingest.Totals()
		statuses := col.statuses()
		// Configured upstreams report zeros before their first record;
		// upstreams no longer configured keep their totals.
		for _, s := range statuses {
			if _, ok := totals[s.Upstream]; !ok {
				totals[s.Upstream] = collector.IngestStatus{}
			}
		}
		names := make([]string, 0, len(totals))
		for u := range totals {
			names = append(names, u)
		}
		sort.Strings(names)
		for _, u := range names {
			t := totals[u]
			ch <- prometheus.MustNewConstMetric(descStored, prometheus.CounterValue, float64(t.Stored), u)
			ch <- prometheus.MustNewConstMetric(descDuplicate, prometheus.CounterValue, float64(t.Duplicates), u)
			ch <- prometheus.MustNewConstMetric(descDeadLettered, prometheus.CounterValue, float64(t.DeadLetters), u)
		}
		for _, s := range statuses {
			connected := 0.0
			if s.Connected {
				connected = 1
			}
			ch <- prometheus.MustNewConstMetric(descConnected, prometheus.GaugeValue, connected, s.Upstream)
			ch <- prometheus.MustNewConstMetric(descLag, prometheus.GaugeValue, float64(s.LagMS)/1000, s.Upstream)
			ch <- prometheus.MustNewConstMetric(descRate, prometheus.GaugeValue, s.EventsPerSecond1m, s.Upstream)
		}
		depth = col.spool.Depth()
	}
	ch <- prometheus.MustNewConstMetric(descSpoolDepth, prometheus.GaugeValue, float64(depth))
	path := rt.store.Path()
	ch <- prometheus.MustNewConstMetric(descDatabaseSize, prometheus.GaugeValue, float64(fileSize(path)+fileSize(path+"-wal")))
	rt.metrics.apiDuration.Collect(ch)
}

// fileSize is the size of a file, 0 when it does not exist or cannot be
// read.
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}
