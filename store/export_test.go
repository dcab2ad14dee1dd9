package store

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// allEvents lists the events of f newest first through Events.
func allEvents(t *testing.T, s *Store, f Filter) []StoredEvent {
	t.Helper()
	var out []StoredEvent
	var cur Cursor
	for {
		page, next, err := s.Events(context.Background(), f, Page{Limit: 1000, After: cur})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page...)
		if next == "" {
			return out
		}
		cur = next
	}
}

// scanAll collects ScanEvents and the batch sizes it used.
func scanAll(t *testing.T, s *Store, f Filter, batch int) ([]StoredEvent, []int) {
	t.Helper()
	var out []StoredEvent
	var sizes []int
	err := s.ScanEvents(context.Background(), f, batch, func(evs []StoredEvent) error {
		sizes = append(sizes, len(evs))
		out = append(out, evs...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, sizes
}

func TestScanEventsOrderAndBatches(t *testing.T) {
	s := openTest(t)
	g := newGen(21, t0, 2*time.Hour)
	evs := g.events(60)
	for i := range evs {
		switch {
		case i < 17:
			evs[i].Time = t0.Add(time.Minute) // a run of equal timestamps
		case i < 20:
			evs[i].Time = t0.Add(90 * time.Minute)
		}
	}
	// Several commits out of time order, so ids do not follow time.
	mustCommit(t, s, Batch{Events: evs[30:]})
	mustCommit(t, s, Batch{Events: evs[8:30]})
	mustCommit(t, s, Batch{Events: evs[:8]})

	want := allEvents(t, s, Filter{})
	for i, j := 0, len(want)-1; i < j; i, j = i+1, j-1 {
		want[i], want[j] = want[j], want[i]
	}
	if len(want) != 60 {
		t.Fatalf("stored %d events", len(want))
	}
	for _, batch := range []int{1, 4, 7, 16, 17, 18, 59, 60, 61, 0} {
		got, sizes := scanAll(t, s, Filter{}, batch)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("batch %d: the scan differs from the reversed newest-first listing", batch)
		}
		b := batch
		if b <= 0 {
			b = DefaultScanBatch
		}
		for i, n := range sizes {
			if n > b || n == 0 || (i < len(sizes)-1 && n != b) {
				t.Fatalf("batch %d: batch sizes %v", batch, sizes)
			}
		}
		for i := 1; i < len(got); i++ {
			p, e := got[i-1], got[i]
			if e.Time.Before(p.Time) || e.Time.Equal(p.Time) && e.ID <= p.ID {
				t.Fatalf("batch %d: order broken at %d", batch, i)
			}
		}
	}
}

func TestScanEventsFilters(t *testing.T) {
	s := openTest(t)
	g := newGen(22, t0, 6*time.Hour)
	evs := g.events(300)
	for i := 0; i < 40; i++ {
		evs[i].Time = t0.Add(3 * time.Hour) // equal timestamps across the filter bound
	}
	mustCommit(t, s, Batch{Events: evs[150:]})
	mustCommit(t, s, Batch{Events: evs[:150]})
	failed := true
	for name, f := range map[string]Filter{
		"none":     {},
		"upstream": {Upstreams: []string{"cpa-backup"}},
		"from":     {From: t0.Add(3 * time.Hour)},
		"to":       {To: t0.Add(3 * time.Hour)},
		"range":    {From: t0.Add(time.Hour), To: t0.Add(3*time.Hour + time.Millisecond), Upstreams: []string{"cpa-main"}},
		"failed":   {Failed: &failed},
		"unknown":  {Upstreams: []string{"nope"}},
		"search":   {Query: "gpt-5"},
	} {
		want := allEvents(t, s, f)
		for i, j := 0, len(want)-1; i < j; i, j = i+1, j-1 {
			want[i], want[j] = want[j], want[i]
		}
		if name != "unknown" && len(want) == 0 {
			t.Fatalf("%s: the fixture has no matching events", name)
		}
		got, _ := scanAll(t, s, f, 7)
		if len(got) != len(want) || (len(got) > 0 && !reflect.DeepEqual(got, want)) {
			t.Errorf("%s: scan gave %d events, want %d", name, len(got), len(want))
		}
	}
}

func TestScanEventsStops(t *testing.T) {
	s := openTest(t)
	mustCommit(t, s, Batch{Events: newGen(23, t0, time.Hour).events(50)})
	stop := errors.New("stop")
	calls := 0
	err := s.ScanEvents(context.Background(), Filter{}, 10, func([]StoredEvent) error {
		calls++
		if calls == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 2 {
		t.Fatalf("callback error: %v after %d calls", err, calls)
	}
	ctx, cancel := context.WithCancel(context.Background())
	calls = 0
	err = s.ScanEvents(ctx, Filter{}, 10, func([]StoredEvent) error {
		calls++
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Fatalf("cancelled scan: %v after %d calls", err, calls)
	}
	// An empty store calls nothing.
	err = openTest(t).ScanEvents(context.Background(), Filter{}, 10, func([]StoredEvent) error {
		t.Fatal("called on an empty store")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestScanEventsUsesTimeIndex checks that the keyset query walks the
// (ts, hash) index instead of scanning and sorting the whole table.
func TestScanEventsUsesTimeIndex(t *testing.T) {
	s := openTest(t)
	rows, err := s.rdb.Query("EXPLAIN QUERY PLAN "+eventSelect+" WHERE e.ts >= ? AND (e.ts > ? OR e.id > ?) ORDER BY e.ts, e.id LIMIT ?", 1, 1, 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan += detail + "\n"
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, "events_ts_hash") || !strings.Contains(plan, "ts>?") {
		t.Errorf("the scan does not use the time index:\n%s", plan)
	}
}

func TestBucketTotals(t *testing.T) {
	ctx := context.Background()
	s := fixture(t)
	bs, err := s.BucketTotals(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	// Minutes 0, 5 | 20 | 40 | 70: four buckets.
	wantStarts := []time.Time{t0, t0.Add(15 * time.Minute), t0.Add(30 * time.Minute), t0.Add(60 * time.Minute)}
	if len(bs) != len(wantStarts) {
		t.Fatalf("%d buckets: %+v", len(bs), bs)
	}
	var attempts, failed, tokens int64
	for i, b := range bs {
		if !b.Start.Equal(wantStarts[i]) {
			t.Errorf("bucket %d starts at %v, want %v", i, b.Start, wantStarts[i])
		}
		attempts += b.Attempts
		failed += b.Failed
		tokens += b.Tokens.Total()
	}
	if bs[0].Attempts != 2 || bs[0].Tokens.Uncached != 30 || bs[0].Tokens.Output != 15 || bs[1].Failed != 1 || bs[2].Tokens.CacheRead != 30 {
		t.Errorf("bucket contents: %+v", bs)
	}
	sum, err := s.Summary(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if attempts != sum.Attempts || failed != sum.Failed || tokens != sum.Tokens.Total() {
		t.Errorf("buckets sum to %d/%d/%d, summary %d/%d/%d", attempts, failed, tokens, sum.Attempts, sum.Failed, sum.Tokens.Total())
	}
	bs, err = s.BucketTotals(ctx, Filter{From: t0.Add(10 * time.Minute), To: t0.Add(45 * time.Minute), Upstreams: []string{"u1"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 1 || !bs[0].Start.Equal(t0.Add(15*time.Minute)) || bs[0].Attempts != 1 {
		t.Errorf("filtered buckets: %+v", bs)
	}
	if _, err := s.BucketTotals(ctx, Filter{MinLatencyMS: 5}); err == nil {
		t.Error("an events-only filter was accepted")
	}
}
