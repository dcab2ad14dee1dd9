package store

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// openNoCompaction opens a fresh store that compacts only when told.
func openNoCompaction(t testing.TB) *Store {
	t.Helper()
	s, err := OpenOptions(context.Background(), filepath.Join(t.TempDir(), "cpam.db"), Options{NoBackgroundCompaction: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// cubeBase is not aligned to an hour, and the three days after it cross
// the start of daylight saving time in New York (2026-03-08).
var cubeBase = time.Date(2026, 3, 6, 22, 37, 11, 0, time.UTC)

// rollupAnswers runs a battery of rollup queries and returns their
// results by name. Every filter shape, step and zone the cubes answer is
// there, and some they cannot (two filtered dimensions).
func rollupAnswers(t *testing.T, s *Store) map[string]any {
	t.Helper()
	ctx := context.Background()
	out := map[string]any{}
	yes, no := true, false
	var aKey string
	for _, k := range []string{"api_key"} {
		vals, err := s.Distinct(ctx, k, Filter{})
		if err != nil || len(vals) < 2 {
			t.Fatalf("distinct %s: %v %v", k, vals, err)
		}
		aKey = vals[1]
	}
	filters := map[string]Filter{
		"none":           {},
		"upstream":       {Upstreams: []string{"cpa-backup"}},
		"model":          {Models: []string{"gpt-5", "claude-opus-4-1"}},
		"failed":         {Failed: &yes},
		"model+failed":   {Models: []string{"gpt-5"}, Failed: &no, Upstreams: []string{"cpa-main"}},
		"api_key":        {APIKeys: []string{aKey}},
		"alias":          {Aliases: []string{"alias-gpt-5"}},
		"model+provider": {Models: []string{"gpt-5"}, Providers: []string{"codex"}},
		"unknown model":  {Models: []string{"no-such-model"}},
	}
	periods := map[string][2]time.Time{
		"all":       {},
		"unaligned": {cubeBase.Add(37 * time.Minute), cubeBase.Add(61*time.Hour + 13*time.Minute)},
		"from only": {cubeBase.Add(26 * time.Hour), {}},
		"days":      {time.Date(2026, 3, 7, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)},
	}
	// Every dimension for the unfiltered and the one-model reads; the
	// other filters by model and by failed.
	if raceDetector {
		for _, fn := range []string{"upstream", "failed", "api_key", "alias", "unknown model", "model+failed"} {
			delete(filters, fn)
		}
		delete(periods, "all")
		delete(periods, "from only")
	}
	for fn, f := range filters {
		for pn, p := range periods {
			f := f
			f.From, f.To = p[0], p[1]
			name := fn + "/" + pn
			sum, err := s.Summary(ctx, f)
			if err != nil {
				t.Fatalf("summary %s: %v", name, err)
			}
			out["summary "+name] = sum
			dims := []string{"model", "failed"}
			if (fn == "none" || fn == "model") && pn == "unaligned" {
				dims = Dimensions()
			}
			for _, dim := range dims {
				rows, err := s.Breakdown(ctx, f, dim, 0, ByAttempts)
				if err != nil {
					t.Fatalf("breakdown %s by %s: %v", name, dim, err)
				}
				out["breakdown "+name+" by "+dim] = rows
			}
		}
	}
	for _, fn := range []string{"none", "model"} {
		f := filters[fn]
		f.From, f.To = periods["unaligned"][0], periods["unaligned"][1]
		for _, dim := range []string{"api_key", "auth_index"} {
			vals, err := s.Distinct(ctx, dim, f)
			if err != nil {
				t.Fatalf("distinct %s %s: %v", fn, dim, err)
			}
			out["distinct "+fn+" "+dim] = vals
		}
		bt, err := s.BucketTotals(ctx, f)
		if err != nil {
			t.Fatalf("bucket totals %s: %v", fn, err)
		}
		out["buckets "+fn] = bt
	}
	zones := []string{"UTC", "Asia/Kolkata", "Asia/Kathmandu", "America/New_York"}
	if raceDetector {
		zones = zones[2:3]
	}
	for _, zn := range zones {
		loc, err := time.LoadLocation(zn)
		if err != nil {
			t.Fatal(err)
		}
		for _, step := range []time.Duration{time.Hour, 24 * time.Hour} {
			for _, fn := range []string{"none", "model"} {
				f := filters[fn]
				f.From, f.To = cubeBase.Add(-3*time.Hour), cubeBase.Add(75*time.Hour)
				pts, err := s.TimeSeries(ctx, f, step, loc)
				if err != nil {
					t.Fatalf("time series %s %v %s: %v", zn, step, fn, err)
				}
				out[fmt.Sprintf("series %s %v %s", zn, step, fn)] = pts
			}
		}
	}
	return out
}

// compareWithRollups checks that every answer equals the answer read
// from rollup_15m alone.
func compareWithRollups(t *testing.T, s *Store, phase string) {
	t.Helper()
	got := rollupAnswers(t, s)
	s.noCubes = true
	want := rollupAnswers(t, s)
	s.noCubes = false
	for k, w := range want {
		if !reflect.DeepEqual(got[k], w) {
			t.Errorf("%s: %s differs from the rollup_15m answer:\n got %+v\nwant %+v", phase, k, got[k], w)
		}
	}
}

func TestCubesAnswerLikeRollups(t *testing.T) {
	ctx := context.Background()
	s := openNoCompaction(t)
	span, total, late := 72*time.Hour, 2500, 500
	if raceDetector {
		span, total, late = 27*time.Hour, 800, 150
	}
	g := newGen(31, cubeBase, span)
	evs := g.events(total)
	// The last events arrive after compaction, in compacted quarter hours.
	mustCommit(t, s, Batch{Events: evs[:total-late]})
	if p := planSpans(0, 1<<40, nil, &coverage{}, cubesAll, false); len(p) != 1 || len(p["rollup_15m"]) != 1 {
		t.Fatalf("before compaction the plan is %v, want rollup_15m only", p)
	}

	n, err := s.Compact(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.CompactionStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var hi int64
	if err := s.rdb.QueryRow("SELECT max(bucket) FROM rollup_15m").Scan(&hi); err != nil {
		t.Fatal(err)
	}
	if want := time.Unix(hi, 0).UTC(); !st.Watermark.Equal(want) || st.Pending != 0 {
		t.Fatalf("after compacting %d quarter hours: watermark %v pending %d, want %v and 0", n, st.Watermark, st.Pending, want)
	}
	if n < int(span/(15*time.Minute))-8 || countRows(t, s, "cube_1d") == 0 {
		t.Fatalf("compacted %d quarter hours and %d day rows; want all of %v and the whole days", n, countRows(t, s, "cube_1d"), span)
	}
	if !raceDetector {
		compareWithRollups(t, s, "compacted")
	}

	mustCommit(t, s, Batch{Events: evs[total-late:]})
	if countRows(t, s, "cube_dirty") == 0 {
		t.Fatal("late events in compacted quarter hours listed none as changed")
	}
	compareWithRollups(t, s, "late events, not yet compacted")

	_, newBook := recomputeBooks(t)
	if _, err := s.RecomputeCost(ctx, cubeBase.Add(5*time.Hour), cubeBase.Add(30*time.Hour), newBook); err != nil {
		t.Fatal(err)
	}
	if !raceDetector {
		compareWithRollups(t, s, "costs recomputed, not yet compacted")
	}

	if _, err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, s, "cube_dirty"); n != 0 {
		t.Fatalf("%d changed quarter hours left after compaction", n)
	}
	compareWithRollups(t, s, "compacted again")
}

// TestCubesAreRead makes sure the comparisons above compare something:
// a change made to the cubes alone shows in the answers.
func TestCubesAreRead(t *testing.T) {
	ctx := context.Background()
	s := openNoCompaction(t)
	mustCommit(t, s, Batch{Events: newGen(5, cubeBase, 30*time.Hour).events(1000)})
	if _, err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	day := Filter{From: time.Date(2026, 3, 7, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC)}
	before, err := s.Summary(ctx, day)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.do(ctx, func(w *writer) error {
		_, err := w.exec("UPDATE cube_1d SET attempts = attempts + 1000 WHERE dim = 0 AND bucket = ?", day.From.Unix())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	after, err := s.Summary(ctx, day)
	if err != nil {
		t.Fatal(err)
	}
	if after.Attempts < before.Attempts+1000 {
		t.Fatalf("a whole compacted day was not read from cube_1d: %d attempts before the change, %d after", before.Attempts, after.Attempts)
	}

	// The same for a pair: one model, by credential.
	pair := day
	pair.Models = []string{"gpt-5"}
	sum := func() int64 {
		rows, err := s.Breakdown(ctx, pair, "auth_index", 0, ByAttempts)
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, r := range rows {
			n += r.Attempts
		}
		return n
	}
	was := sum()
	code, _, _ := cubePairCode("model", "auth_index")
	if err := s.do(ctx, func(w *writer) error {
		_, err := w.exec("UPDATE cube_1d SET attempts = attempts + 1000 WHERE dim = ? AND bucket = ?", code, day.From.Unix())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if now := sum(); now < was+1000 {
		t.Fatalf("a model filter broken down by credential did not read the pair rows of cube_1d: %d attempts before the change, %d after", was, now)
	}
}

func TestPlanSpans(t *testing.T) {
	const h, d = 3600, 86400
	day0 := int64(20000 * d)
	cov := coverage{watermark: day0 + 2*d + 5*h + 1800, dirty: []int64{day0 + d + 7*h + 900}}
	lo, hi := day0-2*900, day0+3*d
	cuts := []int64{day0 + 30*60, day0 + d + 30*60, day0 + 2*d + 30*60}
	for _, c := range []struct {
		name        string
		cuts        []int64
		fine        bool
		wantDay     bool // some whole day comes from cube_1d
		wantRollups bool
	}{
		{"no cuts", nil, false, true, true},
		{"cuts at half hours", cuts, false, false, true},
		{"fine", nil, true, false, true},
	} {
		p := planSpans(lo, hi, c.cuts, &cov, cubesAll, c.fine)
		// The spans cover [lo, hi) exactly once, respect the coverage and
		// never cross a cut.
		covered := map[int64]string{}
		for table, spans := range p {
			unit := map[string]int64{"rollup_15m": 900, "cube_15m": 900, "cube_1h": h, "cube_1d": d}[table]
			for _, sp := range spans {
				if sp.lo%unit != 0 || sp.hi%unit != 0 {
					t.Errorf("%s: %s span %v not aligned to %d", c.name, table, sp, unit)
				}
				for b := sp.lo; b < sp.hi; b += 900 {
					if prev, dup := covered[b]; dup {
						t.Errorf("%s: bucket %d read from %s and %s", c.name, b, prev, table)
					}
					covered[b] = table
					inCubes := cov.covers(b, 900)
					if (table == "rollup_15m") == inCubes {
						t.Errorf("%s: bucket %d (compacted %v) read from %s", c.name, b, inCubes, table)
					}
				}
				for _, cut := range c.cuts {
					if table != "rollup_15m" && table != "cube_15m" && sp.lo < cut && cut < sp.hi {
						for b := sp.lo; b < sp.hi; b += unit {
							if b < cut && cut < b+unit {
								t.Errorf("%s: %s row %d crosses cut %d", c.name, table, b, cut)
							}
						}
					}
				}
			}
		}
		if len(covered) != int((hi-lo)/900) {
			t.Errorf("%s: %d buckets covered, want %d", c.name, len(covered), (hi-lo)/900)
		}
		if got := len(p["cube_1d"]) > 0; got != c.wantDay {
			t.Errorf("%s: days from cube_1d %v, want %v (%v)", c.name, got, c.wantDay, p)
		}
		if c.fine && (len(p["cube_1h"]) > 0 || len(p["cube_1d"]) > 0) {
			t.Errorf("fine read uses coarse rows: %v", p)
		}
		if got := len(p["rollup_15m"]) > 0; got != c.wantRollups {
			t.Errorf("%s: rollup_15m used %v, want %v", c.name, got, c.wantRollups)
		}
	}
	if p := planSpans(lo, hi, nil, &cov, cubesNone, false); len(p) != 1 || len(p["rollup_15m"]) != 1 {
		t.Errorf("without cubes the plan is %v, want one rollup_15m span", p)
	}
	// Pairs: whole compacted days from cube_1d, everything else from
	// rollup_15m.
	p := planSpans(lo, hi, nil, &cov, cubesDays, false)
	if len(p) != 2 || !reflect.DeepEqual(p["cube_1d"], []span{{lo: day0, hi: day0 + d}}) {
		t.Errorf("pairs: plan %v, want day0 (the only whole clean day) from cube_1d and the rest from rollup_15m", p)
	}
	// Pairs with model: hours as well.
	p = planSpans(lo, hi, nil, &cov, cubesHours, false)
	wantHours := []span{{lo: day0 + d, hi: day0 + d + 7*h}, {lo: day0 + d + 8*h, hi: day0 + 2*d + 5*h}}
	if len(p) != 3 || !reflect.DeepEqual(p["cube_1d"], []span{{lo: day0, hi: day0 + d}}) || !reflect.DeepEqual(p["cube_1h"], wantHours) {
		t.Errorf("hourly pairs: plan %v, want day0 from cube_1d and the clean hours %v from cube_1h", p, wantHours)
	}
}

// TestCubesBuiltForUpgradedDatabase upgrades a version 4 database with
// data: the background compaction builds the cubes, and the answers stay
// the same throughout.
func TestCubesBuiltForUpgradedDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cpam.db")
	old := openAtVersion(t, path, 4)
	mustCommit(t, old, Batch{Events: newGen(8, cubeBase, 30*time.Hour).events(1000)})
	s := reopenUpgraded(t, old, path)
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := s.CompactionStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.LastError != "" {
			t.Fatalf("background compaction failed: %s", st.LastError)
		}
		if st.Pending == 0 && !st.Watermark.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("background compaction has not caught up after 30s: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if countRows(t, s, "cube_1d") == 0 {
		t.Fatal("no day rows after the background compaction")
	}
	compareWithRollups(t, s, "compacted in the background")
}

func TestHistEncoding(t *testing.T) {
	for _, bins := range [][]int64{
		make([]int64, histBins),
		{0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 << 40},
		func() []int64 {
			b := make([]int64, histBins)
			for i := range b {
				b[i] = int64(i*i + 1)
			}
			return b
		}(),
	} {
		enc := appendHist(nil, bins)
		got := make([]int64, histBins)
		got[5] = 7 // addHist adds
		if err := addHist(got, enc); err != nil {
			t.Fatal(err)
		}
		got[5] -= 7
		if !reflect.DeepEqual(got, bins) {
			t.Errorf("round trip of %v gave %v", bins, got)
		}
	}
	for _, bad := range [][]byte{{0x80}, {1}, {histBins, 1}, {1, 0x80}} {
		if err := addHist(make([]int64, histBins), bad); err == nil {
			t.Errorf("corrupt histogram %x accepted", bad)
		}
	}
}
