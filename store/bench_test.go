package store

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// benchGenerators are the event generators the benchmarks compare:
// "uniform" draws every dimension independently and uniformly (the worst
// case for the rollups), "realistic" models one CPA operator (realGen).
var benchGenerators = []struct {
	name string
	make func(seed uint64, total int, span time.Duration) eventSource
}{
	{"uniform", func(seed uint64, total int, span time.Duration) eventSource {
		g := newGen(seed, t0, 0)
		g.seq = span / time.Duration(total) // in arrival order
		return g
	}},
	{"realistic", func(seed uint64, total int, span time.Duration) eventSource {
		return newRealGen(seed, t0, span, total)
	}},
}

// BenchmarkCommit commits batches of 500 events (10 events/s of traffic)
// and reports events per second, for each generator.
func BenchmarkCommit(b *testing.B) {
	for _, bg := range benchGenerators {
		b.Run(bg.name, func(b *testing.B) {
			s := openTest(b)
			g := bg.make(100, 26_000_000, 30*24*time.Hour)
			ctx := context.Background()
			var events int
			var elapsed time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				evs := g.events(500)
				b.StartTimer()
				start := time.Now()
				if _, err := s.Commit(ctx, Batch{Events: evs, Checkpoint: &Checkpoint{Segment: 1, Offset: int64(i)}}); err != nil {
					b.Fatal(err)
				}
				elapsed += time.Since(start)
				events += len(evs)
			}
			b.ReportMetric(float64(events)/elapsed.Seconds(), "events/s")
		})
	}
}

// millionDB is a database of 1,000,000 events over 30 days, loaded once
// per process and generator by BenchmarkMillion.
type millionDB struct {
	once  sync.Once
	s     *Store
	dir   string
	err   error
	load  time.Duration
	size  int64
	rolls int
	// tables is the size of each table and index (dbstat), in bytes.
	tables map[string]int64
}

// millions holds the loaded databases by generator name.
var (
	millionsMu sync.Mutex
	millions   = map[string]*millionDB{}
)

const millionN = 1_000_000

// loadMillion fills the shared 1M-event database of a generator with big
// batches.
func loadMillion(b *testing.B, name string, src eventSource) *millionDB {
	millionsMu.Lock()
	m := millions[name]
	if m == nil {
		m = &millionDB{}
		millions[name] = m
	}
	millionsMu.Unlock()
	m.once.Do(func() {
		ctx := context.Background()
		m.dir, m.err = os.MkdirTemp("", "cpam-bench-")
		if m.err != nil {
			return
		}
		path := filepath.Join(m.dir, "million.db")
		s, err := Open(ctx, path)
		if err != nil {
			m.err = err
			return
		}
		m.s = s
		start := time.Now()
		const batch = 10000
		for i := 0; i < millionN; i += batch {
			evs := src.events(batch)
			if _, err := s.Commit(ctx, Batch{Events: evs}); err != nil {
				m.err = err
				return
			}
		}
		m.load = time.Since(start)
		if err := s.CheckpointWAL(ctx); err != nil {
			m.err = err
			return
		}
		st, err := os.Stat(path)
		if err != nil {
			m.err = err
			return
		}
		m.size = st.Size()
		m.tables = map[string]int64{}
		if rows, err := s.rdb.Query("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"); err == nil {
			for rows.Next() {
				var name string
				var n int64
				if rows.Scan(&name, &n) == nil {
					m.tables[name] = n
					b.Logf("  %-28s %8.1f bytes/event", name, float64(n)/millionN)
				}
			}
			rows.Close()
		} else {
			b.Logf("dbstat not available: %v", err)
		}
		_ = s.rdb.QueryRow("SELECT count(*) FROM rollup_15m").Scan(&m.rolls)
		var failed int
		_ = s.rdb.QueryRow("SELECT count(*) FROM events WHERE flags & 1").Scan(&failed)
		b.Logf("%s: 1M events loaded in %v (%.0f events/s); file %d bytes = %.1f bytes/event; %d rollup rows; %.1f%% failed",
			name, m.load, millionN/m.load.Seconds(), m.size, float64(m.size)/millionN, m.rolls, float64(failed)/millionN*100)
	})
	if m.err != nil {
		b.Fatal(m.err)
	}
	return m
}

// BenchmarkMillion loads 1,000,000 events over 30 days (once per
// generator) and reports the database size per event, the rollup rows, the
// load rate and the time of the dashboard queries over the 30 days and
// over the last 24 hours. It runs only with -bench; run it with
// -benchtime=1x (loading takes minutes).
func BenchmarkMillion(b *testing.B) {
	for _, bg := range benchGenerators {
		b.Run(bg.name, func(b *testing.B) {
			m := loadMillion(b, bg.name, bg.make(7, millionN, 30*24*time.Hour))
			benchQueries(b, m)
		})
	}
}

// benchQueries times the dashboard queries on a loaded database.
func benchQueries(b *testing.B, m *millionDB) {
	s := m.s
	ctx := context.Background()
	end := t0.Add(30 * 24 * time.Hour)
	kolkata, _ := time.LoadLocation("Asia/Kolkata")
	type query struct {
		name string
		run  func() error
	}
	var queries []query
	for _, r := range []struct {
		name string
		f    Filter
		step time.Duration
	}{
		{"30d", Filter{From: t0, To: end}, time.Hour},
		{"24h", Filter{From: end.Add(-24 * time.Hour), To: end}, 15 * time.Minute},
	} {
		f := r.f
		mf := f
		mf.Models = []string{"gpt-5"}
		queries = append(queries,
			query{r.name + "-summary-ms", func() error { _, err := s.Summary(ctx, f); return err }},
			query{r.name + "-summary-model-ms", func() error { _, err := s.Summary(ctx, mf); return err }},
			query{r.name + "-timeseries-ms", func() error { _, err := s.TimeSeries(ctx, f, r.step, kolkata); return err }},
			query{r.name + "-breakdown-model-ms", func() error { _, err := s.Breakdown(ctx, f, "model", 10, ByCost); return err }},
			query{r.name + "-breakdown-key-ms", func() error { _, err := s.Breakdown(ctx, f, "api_key", 10, ByAttempts); return err }},
			query{r.name + "-events-page-ms", func() error { _, _, err := s.Events(ctx, f, Page{Limit: 100}); return err }},
			query{r.name + "-events-model-ms", func() error { _, _, err := s.Events(ctx, mf, Page{Limit: 100}); return err }},
		)
	}
	totals := make([]time.Duration, len(queries))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j, q := range queries {
			start := time.Now()
			if err := q.run(); err != nil {
				b.Fatal(err)
			}
			totals[j] += time.Since(start)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(m.size)/millionN, "bytes/event")
	for _, t := range []string{"events", "events_ts_hash", "rollup_15m", "event_extra", "dict"} {
		if n, ok := m.tables[t]; ok {
			b.ReportMetric(float64(n)/millionN, t+"-B/event")
		}
	}
	b.ReportMetric(float64(m.rolls), "rollup-rows")
	b.ReportMetric(millionN/m.load.Seconds(), "load-events/s")
	for j, q := range queries {
		b.ReportMetric(float64(totals[j].Microseconds())/1000/float64(b.N), q.name)
	}
}

// TestMain removes the shared benchmark database.
func TestMain(m *testing.M) {
	code := m.Run()
	for _, m := range millions {
		if m.s != nil {
			_ = m.s.Close()
		}
		if m.dir != "" {
			_ = os.RemoveAll(m.dir)
		}
	}
	os.Exit(code)
}
