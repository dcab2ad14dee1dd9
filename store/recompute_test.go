package store

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cpam-caddy/cpam/usage"
)

// recomputeBooks returns the book events are ingested with and the book
// they are re-priced with: gpt-5 loses its price, kimi-k2 gains one,
// claude-sonnet-4-5 doubles.
func recomputeBooks(t *testing.T) (oldBook, newBook *usage.PriceBook) {
	t.Helper()
	oldBook = usage.DefaultPriceBook()
	p := oldBook.Prices()
	delete(p, "gpt-5")
	p["kimi-k2"] = usage.Price{Input: 0.6, Output: 2.5}
	s := p["claude-sonnet-4-5"]
	s.Input, s.Output = s.Input*2, s.Output*2
	p["claude-sonnet-4-5"] = s
	newBook, err := usage.NewPriceBook(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := newBook.Lookup("gpt-5", "alias-gpt-5"); ok {
		t.Fatal("gpt-5 still priced in the new book")
	}
	return oldBook, newBook
}

// pricedEvents makes n events over span from t0, costed with book.
func pricedEvents(seed uint64, n int, span time.Duration, book *usage.PriceBook) []usage.Event {
	evs := newGen(seed, t0, span).events(n)
	for i := range evs {
		evs[i].Cost, _ = book.Cost(evs[i].Model, evs[i].Alias, evs[i].Tokens)
	}
	return evs
}

// storedCosts reads the cost of every stored event by hash.
func storedCosts(t *testing.T, s *Store) map[[16]byte]usage.Cost {
	t.Helper()
	rows, err := s.rdb.Query("SELECT hash, cost, flags FROM events")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[[16]byte]usage.Cost{}
	for rows.Next() {
		var h []byte
		var c usage.Cost
		var flags int64
		if err := rows.Scan(&h, &c.MicroUSD, &flags); err != nil {
			t.Fatal(err)
		}
		c.Priced = flags&flagPriced != 0
		out[[16]byte(h)] = c
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkRollups compares the stored rollups of the buckets accepted by keep
// with a from-scratch recomputation from the events.
func checkRollups(t *testing.T, s *Store, keep func(bucket int64) bool) {
	t.Helper()
	want, got := recompute(t, s), storedRollups(t, s)
	n := 0
	for k, m := range got {
		if !keep(k.bucket) {
			continue
		}
		n++
		if want[k] != m {
			t.Fatalf("rollup %+v:\n got %v\nwant %v", k, m, want[k])
		}
	}
	for k := range want {
		if _, ok := got[k]; !ok && keep(k.bucket) {
			t.Fatalf("no rollup row for %+v", k)
		}
	}
	if n == 0 {
		t.Fatal("no rollup rows checked")
	}
}

func TestRecomputeCost(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	oldBook, newBook := recomputeBooks(t)
	evs := pricedEvents(11, 2000, 30*time.Hour, oldBook)
	for i := 0; i < len(evs); i += 1000 {
		mustCommit(t, s, Batch{Events: evs[i : i+1000]})
	}
	var buckets int
	if err := s.rdb.QueryRow("SELECT count(DISTINCT bucket) FROM rollup_15m").Scan(&buckets); err != nil {
		t.Fatal(err)
	}
	before, err := s.Summary(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}

	res, err := s.RecomputeCost(ctx, t0.Add(-time.Hour), t0.Add(31*time.Hour), newBook)
	if err != nil {
		t.Fatal(err)
	}
	wantRepriced := 0
	var gpt5 int64
	for _, e := range evs {
		c, _ := newBook.Cost(e.Model, e.Alias, e.Tokens)
		if c != e.Cost {
			wantRepriced++
		}
		if e.Model == "gpt-5" {
			gpt5++
		}
	}
	if res != (RecomputeResult{Events: len(evs), Repriced: wantRepriced, Buckets: buckets}) {
		t.Fatalf("result %+v, want %d events, %d repriced, %d buckets", res, len(evs), wantRepriced, buckets)
	}
	if wantRepriced == 0 || gpt5 == 0 {
		t.Fatal("test data re-prices nothing")
	}
	got := storedCosts(t, s)
	for _, e := range evs {
		want, _ := newBook.Cost(e.Model, e.Alias, e.Tokens)
		if got[e.Hash] != want {
			t.Fatalf("event %s/%s: cost %+v, want %+v", e.Model, e.Alias, got[e.Hash], want)
		}
		if e.Model == "gpt-5" && (want.Priced || want.MicroUSD != 0) {
			t.Fatalf("gpt-5 still priced: %+v", want)
		}
	}
	checkRollups(t, s, func(int64) bool { return true })

	after, err := s.Summary(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if after.Unpriced <= before.Unpriced || after.Attempts != before.Attempts || after.Tokens != before.Tokens ||
		after.LatencyP95 != before.LatencyP95 {
		t.Fatalf("summary before %+v\nafter %+v", before, after)
	}
	gs, err := s.Summary(ctx, Filter{Models: []string{"gpt-5"}})
	if err != nil || gs.Unpriced != gpt5 || gs.CostMicroUSD != 0 {
		t.Fatalf("gpt-5 summary %+v (%v), want %d unpriced and no cost", gs, err, gpt5)
	}

	// Again with the same book: nothing changes.
	res, err = s.RecomputeCost(ctx, time.Time{}, time.Time{}, newBook)
	if err != nil || res.Repriced != 0 || res.Events != len(evs) || res.Buckets != buckets {
		t.Fatalf("second run %+v (%v)", res, err)
	}
	if _, err := s.RecomputeCost(ctx, t0, t0.Add(time.Hour), nil); err == nil {
		t.Fatal("nil book accepted")
	}
}

func TestRecomputeCostPartialRange(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	oldBook, newBook := recomputeBooks(t)
	evs := pricedEvents(12, 1500, 20*time.Hour, oldBook)
	mustCommit(t, s, Batch{Events: evs})
	rollBefore := storedRollups(t, s)

	// Aligned outward to [t0+5h, t0+10h15m).
	from, to := t0.Add(5*time.Hour+7*time.Minute), t0.Add(10*time.Hour+time.Minute)
	lo, hi := t0.Add(5*time.Hour), t0.Add(10*time.Hour+15*time.Minute)
	res, err := s.RecomputeCost(ctx, from, to, newBook)
	if err != nil {
		t.Fatal(err)
	}
	if res.Buckets != 21 || res.SkippedBuckets != 0 {
		t.Fatalf("result %+v, want 21 buckets", res)
	}
	got := storedCosts(t, s)
	inside := 0
	for _, e := range evs {
		want := e.Cost
		if !e.Time.Before(lo) && e.Time.Before(hi) {
			want, _ = newBook.Cost(e.Model, e.Alias, e.Tokens)
			inside++
		}
		if got[e.Hash] != want {
			t.Fatalf("event at %v: cost %+v, want %+v", e.Time, got[e.Hash], want)
		}
	}
	if res.Events != inside {
		t.Fatalf("%d events re-priced, want %d", res.Events, inside)
	}
	checkRollups(t, s, func(int64) bool { return true })
	changed := 0
	for k, m := range storedRollups(t, s) {
		in := k.bucket >= lo.Unix() && k.bucket < hi.Unix()
		if m != rollBefore[k] {
			if !in {
				t.Fatalf("rollup outside the range changed: %+v", k)
			}
			changed++
		}
	}
	if changed == 0 {
		t.Fatal("no rollup row changed")
	}
}

func TestRecomputeCostSkipsExpiredBuckets(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	oldBook, newBook := recomputeBooks(t)
	evs := pricedEvents(13, 1500, 20*time.Hour, oldBook)
	mustCommit(t, s, Batch{Events: evs})
	rollBefore := storedRollups(t, s)

	// Retention cuts in the middle of the bucket at t0+8h.
	cut := t0.Add(8*time.Hour + 7*time.Minute)
	if _, err := s.DeleteEventsBefore(ctx, cut, 1000); err != nil {
		t.Fatal(err)
	}
	var wantSkipped int
	if err := s.rdb.QueryRow("SELECT count(DISTINCT bucket) FROM rollup_15m WHERE bucket < ?",
		t0.Add(8*time.Hour+15*time.Minute).Unix()).Scan(&wantSkipped); err != nil {
		t.Fatal(err)
	}
	res, err := s.RecomputeCost(ctx, t0, t0.Add(24*time.Hour), newBook)
	if err != nil {
		t.Fatal(err)
	}
	if res.SkippedBuckets != wantSkipped || res.Buckets != 80-wantSkipped {
		t.Fatalf("result %+v, want %d skipped of 80", res, wantSkipped)
	}
	firstFull := t0.Add(8*time.Hour + 15*time.Minute).Unix()
	after := storedRollups(t, s)
	for k, m := range after {
		if k.bucket < firstFull && m != rollBefore[k] {
			t.Fatalf("rollup of skipped bucket %v changed", time.Unix(k.bucket, 0).UTC())
		}
	}
	checkRollups(t, s, func(b int64) bool { return b >= firstFull })
	got := storedCosts(t, s)
	for _, e := range evs {
		c, ok := got[e.Hash]
		if !ok {
			continue
		}
		want := e.Cost
		if e.Time.Unix() >= firstFull {
			want, _ = newBook.Cost(e.Model, e.Alias, e.Tokens)
		}
		if c != want {
			t.Fatalf("event at %v: cost %+v, want %+v", e.Time, c, want)
		}
	}
}

func TestRecomputeCostConcurrentCommits(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	oldBook, newBook := recomputeBooks(t)
	const first = 2500 // stored before the re-pricing starts
	evs := pricedEvents(14, 4000, 30*time.Hour, oldBook)
	mustCommit(t, s, Batch{Events: evs[:first]})

	// New events (and duplicates) land in the same buckets while the
	// re-pricing runs.
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := first + w*100; i < len(evs); i += 200 {
				if _, err := s.Commit(ctx, Batch{Events: evs[i-50 : i+100]}); err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	var res RecomputeResult
	var rerr error
	for i := 0; i < 3; i++ {
		res, rerr = s.RecomputeCost(ctx, time.Time{}, time.Time{}, newBook)
		if rerr != nil {
			break
		}
	}
	wg.Wait()
	if rerr != nil {
		t.Fatal(rerr)
	}
	if res.Events < first || res.SkippedBuckets != 0 {
		t.Fatalf("result %+v", res)
	}
	if n := countRows(t, s, "events"); n != len(evs) {
		t.Fatalf("%d events stored, want %d", n, len(evs))
	}
	checkRollups(t, s, func(int64) bool { return true })
	got := storedCosts(t, s)
	for _, e := range evs[:first] {
		if want, _ := newBook.Cost(e.Model, e.Alias, e.Tokens); got[e.Hash] != want {
			t.Fatalf("event at %v: cost %+v, want %+v", e.Time, got[e.Hash], want)
		}
	}
	// A last pass after ingest stopped prices everything with the new book.
	if _, err := s.RecomputeCost(ctx, time.Time{}, time.Time{}, newBook); err != nil {
		t.Fatal(err)
	}
	got = storedCosts(t, s)
	for _, e := range evs {
		if want, _ := newBook.Cost(e.Model, e.Alias, e.Tokens); got[e.Hash] != want {
			t.Fatalf("event at %v: cost %+v, want %+v", e.Time, got[e.Hash], want)
		}
	}
	checkRollups(t, s, func(int64) bool { return true })
}
