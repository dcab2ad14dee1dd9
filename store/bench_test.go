package store

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// BenchmarkCommit commits batches of 500 realistic events (many models,
// keys and credentials over a month) and reports events per second.
func BenchmarkCommit(b *testing.B) {
	s := openTest(b)
	g := newGen(100, t0, 0)
	g.seq = 100 * time.Millisecond // 10 events/s, in arrival order
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
}

// million is a database of 1,000,000 events over 30 days, loaded once per
// process by BenchmarkMillion.
var million struct {
	once sync.Once
	s    *Store
	dir  string
	err  error
	load time.Duration
	size int64
}

const millionN = 1_000_000

// loadMillion fills the shared 1M-event database with big batches.
func loadMillion(b *testing.B) *Store {
	million.once.Do(func() {
		ctx := context.Background()
		million.dir, million.err = os.MkdirTemp("", "cpam-bench-")
		if million.err != nil {
			return
		}
		path := filepath.Join(million.dir, "million.db")
		s, err := Open(ctx, path)
		if err != nil {
			million.err = err
			return
		}
		million.s = s
		g := newGen(7, t0, 0)
		g.seq = 30 * 24 * time.Hour / millionN // 1M events over 30 days, in arrival order
		start := time.Now()
		const batch = 10000
		for i := 0; i < millionN; i += batch {
			evs := g.events(batch)
			if _, err := s.Commit(ctx, Batch{Events: evs}); err != nil {
				million.err = err
				return
			}
		}
		million.load = time.Since(start)
		if err := s.CheckpointWAL(ctx); err != nil {
			million.err = err
			return
		}
		st, err := os.Stat(path)
		if err != nil {
			million.err = err
			return
		}
		million.size = st.Size()
		if rows, err := s.rdb.Query("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"); err == nil {
			for rows.Next() {
				var name string
				var n int64
				if rows.Scan(&name, &n) == nil {
					b.Logf("  %-28s %8.1f bytes/event", name, float64(n)/millionN)
				}
			}
			rows.Close()
		}
		var rr int
		_ = s.rdb.QueryRow("SELECT count(*) FROM rollup_15m").Scan(&rr)
		b.Logf("1M events loaded in %v (%.0f events/s); file %d bytes = %.1f bytes/event; %d rollup rows",
			million.load, millionN/million.load.Seconds(), million.size, float64(million.size)/millionN, rr)
	})
	if million.err != nil {
		b.Fatal(million.err)
	}
	return million.s
}

// BenchmarkMillion loads 1,000,000 events (once) and reports the database
// size per event and the time of the dashboard queries over 30 days.
// It runs only with -bench.
func BenchmarkMillion(b *testing.B) {
	s := loadMillion(b)
	ctx := context.Background()
	f := Filter{From: t0, To: t0.Add(30 * 24 * time.Hour)}
	kolkata, _ := time.LoadLocation("Asia/Kolkata")
	queries := []struct {
		name string
		run  func() error
	}{
		{"summary_ms", func() error { _, err := s.Summary(ctx, f); return err }},
		{"summary_model_ms", func() error {
			_, err := s.Summary(ctx, Filter{From: f.From, To: f.To, Models: []string{"gpt-5"}})
			return err
		}},
		{"timeseries_1h_ms", func() error { _, err := s.TimeSeries(ctx, f, time.Hour, kolkata); return err }},
		{"breakdown_model_ms", func() error { _, err := s.Breakdown(ctx, f, "model", 10, ByCost); return err }},
		{"breakdown_key_ms", func() error { _, err := s.Breakdown(ctx, f, "api_key", 10, ByAttempts); return err }},
		{"events_page_ms", func() error { _, _, err := s.Events(ctx, f, Page{Limit: 100}); return err }},
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
	b.ReportMetric(float64(million.size)/millionN, "bytes/event")
	b.ReportMetric(millionN/million.load.Seconds(), "load-events/s")
	for j, q := range queries {
		b.ReportMetric(float64(totals[j].Microseconds())/1000/float64(b.N), q.name)
	}
}

// TestMain removes the shared benchmark database.
func TestMain(m *testing.M) {
	code := m.Run()
	if million.s != nil {
		_ = million.s.Close()
		_ = os.RemoveAll(million.dir)
	}
	os.Exit(code)
}
