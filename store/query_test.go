package store

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/cpam-caddy/cpam/usage"
)

// fixture commits five hand-made events (times relative to t0):
//
//	#  min  upstream model key auth failed latency ttft tokens(unc/out/cr) cost
//	1   0   u1       m1    k1  a1   no     100     50   10/5/0           100
//	2   5   u1       m1    k1  a1   no     100     -    20/10/0          200
//	3  20   u1       m2    k2  a2   yes    1000    -    0                unpriced
//	4  40   u2       m2    k2  a3   no     100     -    0/0/30           300
//	5  70   u2       m1    k1  a1   no     5       -    0                50
func fixture(t *testing.T) *Store {
	s := openTest(t)
	k1 := usage.Secret{Hash: "hash-k1", Mask: "sk-…k1"}
	k2 := usage.Secret{Hash: "hash-k2", Mask: "sk-…k2"}
	mk := func(i, min int, up, model string, key usage.Secret, auth string, failed bool, lat, ttft int64, tok usage.Tokens, cost int64, priced bool) usage.Event {
		return usage.Event{
			Hash: hashOf("fx", i), Upstream: up, Time: t0.Add(time.Duration(min) * time.Minute),
			RequestID: fmt.Sprintf("%08x", i), AuthIndex: auth, Provider: "p-" + model, Model: model, Alias: model,
			Endpoint: "POST /v1/chat/completions", APIKey: key, Failed: failed, StatusCode: map[bool]int{false: 200, true: 429}[failed],
			LatencyMS: lat, TTFTMS: ttft, Tokens: tok, Cost: usage.Cost{MicroUSD: cost, Priced: priced}, Generate: true,
			ServiceTier: "auto",
		}
	}
	evs := []usage.Event{
		mk(1, 0, "u1", "m1", k1, "a1", false, 100, 50, usage.Tokens{Uncached: 10, Output: 5}, 100, true),
		mk(2, 5, "u1", "m1", k1, "a1", false, 100, 0, usage.Tokens{Uncached: 20, Output: 10}, 200, true),
		mk(3, 20, "u1", "m2", k2, "a2", true, 1000, 0, usage.Tokens{}, 0, false),
		mk(4, 40, "u2", "m2", k2, "a3", false, 100, 0, usage.Tokens{CacheRead: 30}, 300, true),
		mk(5, 70, "u2", "m1", k1, "a1", false, 5, 0, usage.Tokens{}, 50, true),
	}
	evs[2].FailBody = "rate limited"
	mustCommit(t, s, Batch{Events: evs})
	return s
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestSummary(t *testing.T) {
	ctx := context.Background()
	s := fixture(t)
	sum, err := s.Summary(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	want := Summary{Attempts: 5, Failed: 1, Tokens: usage.Tokens{Uncached: 30, Output: 15, CacheRead: 30},
		CostMicroUSD: 650, Unpriced: 1, LatencyAvgMS: 261, TTFTCount: 1, TTFTAvgMS: 50}
	// Latency bins: 5 -> bin 0 [0,10); 100 x3 -> bin 5 [74,122); 1000 -> bin 10 [900,1484).
	// p50: rank 2.5, bin 5, (2.5-1)/3 = .5 -> 74+.5*48 = 98.
	// p95: rank 4.75, bin 10, .75 -> 900+.75*584 = 1338; p99: 900+.95*584 = 1454.8.
	// TTFT 50 -> bin 4 [45,74): p50 rank .5 -> 59.5; p95 -> 45+.95*29; p99 -> 45+.99*29.
	want.LatencyP50, want.LatencyP95, want.LatencyP99 = 98, 1338, 1454.8
	want.TTFTP50, want.TTFTP95, want.TTFTP99 = 59.5, 45+.95*29, 45+.99*29
	for _, c := range [][2]float64{{sum.LatencyP50, want.LatencyP50}, {sum.LatencyP95, want.LatencyP95}, {sum.LatencyP99, want.LatencyP99},
		{sum.TTFTP50, want.TTFTP50}, {sum.TTFTP95, want.TTFTP95}, {sum.TTFTP99, want.TTFTP99}} {
		if !near(c[0], c[1]) {
			t.Fatalf("percentile %v, want %v (summary %+v)", c[0], c[1], sum)
		}
	}
	sum.LatencyP50, sum.LatencyP95, sum.LatencyP99 = want.LatencyP50, want.LatencyP95, want.LatencyP99
	sum.TTFTP50, sum.TTFTP95, sum.TTFTP99 = want.TTFTP50, want.TTFTP95, want.TTFTP99
	if sum != want {
		t.Fatalf("summary\n got %+v\nwant %+v", sum, want)
	}

	f := false
	for _, c := range []struct {
		name     string
		f        Filter
		attempts int64
		cost     int64
	}{
		{"upstream", Filter{Upstreams: []string{"u1"}}, 3, 300},
		{"model+ok", Filter{Models: []string{"m1"}, Failed: &f}, 3, 350},
		{"time", Filter{From: t0.Add(15 * time.Minute), To: t0.Add(60 * time.Minute)}, 2, 300},
		{"key", Filter{APIKeys: []string{"hash-k2"}}, 2, 300},
		{"auth", Filter{AuthIndexes: []string{"a1", "a3"}}, 4, 650},
		{"provider+endpoint", Filter{Providers: []string{"p-m2"}, Endpoints: []string{"POST /v1/chat/completions"}}, 2, 300},
		{"unknown", Filter{Models: []string{"nope"}}, 0, 0},
	} {
		got, err := s.Summary(ctx, c.f)
		if err != nil || got.Attempts != c.attempts || got.CostMicroUSD != c.cost {
			t.Errorf("%s: %d attempts, cost %d (%v); want %d, %d", c.name, got.Attempts, got.CostMicroUSD, err, c.attempts, c.cost)
		}
	}

	cur, prev, err := s.SummaryWithPrevious(ctx, Filter{From: t0.Add(time.Hour), To: t0.Add(2 * time.Hour)})
	if err != nil || cur.Attempts != 1 || prev.Attempts != 4 || prev.Failed != 1 {
		t.Fatalf("with previous: %d / %d (%v)", cur.Attempts, prev.Attempts, err)
	}
}

func TestTimeSeries(t *testing.T) {
	ctx := context.Background()
	s := fixture(t)
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	kathmandu, err := time.LoadLocation("Asia/Kathmandu")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	m := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
	for _, c := range []struct {
		name     string
		loc      *time.Location
		step     time.Duration
		from, to time.Time
		starts   []time.Time
		attempts []int64
	}{
		{"utc 30m", time.UTC, 30 * time.Minute, m(0), m(90), []time.Time{m(0), m(30), m(60)}, []int64{3, 1, 1}},
		{"utc 15m empty buckets", time.UTC, 15 * time.Minute, m(0), m(90), []time.Time{m(0), m(15), m(30), m(45), m(60), m(75)}, []int64{2, 1, 1, 0, 1, 0}},
		// 05:30 local: hours start at :30 UTC.
		{"kolkata 1h", kolkata, time.Hour, m(0), m(120), []time.Time{m(-30), m(30), m(90)}, []int64{3, 2, 0}},
		// 05:45 local: hours start at :15 UTC.
		{"kathmandu 1h", kathmandu, time.Hour, m(0), m(120), []time.Time{m(-45), m(15), m(75)}, []int64{2, 3, 0}},
		{"kathmandu 45m", kathmandu, 45 * time.Minute, m(0), m(60), []time.Time{m(-30), m(15)}, []int64{2, 2}},
		// Local midnight of Nov 27 in India is 18:30 UTC on Nov 26.
		{"kolkata day", kolkata, 24 * time.Hour, m(0), m(120), []time.Time{m(-330)}, []int64{5}},
	} {
		pts, err := s.TimeSeries(ctx, Filter{From: c.from, To: c.to}, c.step, c.loc)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if len(pts) != len(c.starts) {
			t.Fatalf("%s: %d points, want %d: %+v", c.name, len(pts), len(c.starts), pts)
		}
		for i, p := range pts {
			if !p.Start.Equal(c.starts[i]) || p.Attempts != c.attempts[i] || p.Start.Location() != c.loc {
				t.Errorf("%s: point %d starts %v (%v) with %d attempts; want %v with %d",
					c.name, i, p.Start, p.Start.Location(), p.Attempts, c.starts[i].In(c.loc), c.attempts[i])
			}
		}
	}
	if _, err := s.TimeSeries(ctx, Filter{From: m(0), To: m(60)}, 10*time.Minute, time.UTC); err == nil {
		t.Fatal("10m step accepted")
	}
}

func TestBreakdown(t *testing.T) {
	ctx := context.Background()
	s := fixture(t)
	rows, err := s.Breakdown(ctx, Filter{}, "model", 0, ByAttempts)
	if err != nil || len(rows) != 2 || rows[0].Key != "m1" || rows[0].Attempts != 3 || rows[1].Key != "m2" || rows[1].Failed != 1 {
		t.Fatalf("by model: %+v %v", rows, err)
	}
	rows, err = s.Breakdown(ctx, Filter{}, "model", 1, ByAttempts)
	if err != nil || len(rows) != 2 || rows[0].Key != "m1" || !rows[1].Other || rows[1].Attempts != 2 || rows[1].CostMicroUSD != 300 {
		t.Fatalf("top 1: %+v %v", rows, err)
	}
	rows, err = s.Breakdown(ctx, Filter{}, "auth_index", 0, ByCost)
	// costs: a1 350, a3 300, a2 0
	if err != nil || len(rows) != 3 || rows[0].Key != "a1" || rows[1].Key != "a3" || rows[2].Key != "a2" || rows[2].Unpriced != 1 {
		t.Fatalf("by cost: %+v %v", rows, err)
	}
	rows, err = s.Breakdown(ctx, Filter{Upstreams: []string{"u1"}}, "api_key", 0, ByAttempts)
	if err != nil || len(rows) != 2 || rows[0].Key != "hash-k1" || rows[0].Label != "sk-…k1" || rows[0].Attempts != 2 {
		t.Fatalf("by key: %+v %v", rows, err)
	}
	rows, err = s.Breakdown(ctx, Filter{}, "failed", 0, ByAttempts)
	if err != nil || len(rows) != 2 || rows[0].Key != "false" || rows[0].Attempts != 4 || rows[1].Key != "true" {
		t.Fatalf("by failed: %+v %v", rows, err)
	}
	if _, err := s.Breakdown(ctx, Filter{}, "events; DROP TABLE x", 0, ByAttempts); err == nil {
		t.Fatal("bad dimension accepted")
	}
}

func TestDistinctAndCounts(t *testing.T) {
	ctx := context.Background()
	s := fixture(t)
	for _, c := range []struct {
		dim  string
		f    Filter
		want string
	}{
		{"model", Filter{}, "[m1 m2]"},
		{"upstream", Filter{From: t0.Add(time.Hour)}, "[u2]"},
		{"auth_index", Filter{Upstreams: []string{"u1"}}, "[a1 a2]"},
		{"service_tier", Filter{}, "[auto]"},
		{"failed", Filter{}, "[false true]"},
	} {
		got, err := s.Distinct(ctx, c.dim, c.f)
		if err != nil || fmt.Sprint(got) != c.want {
			t.Errorf("distinct %s: %v %v, want %s", c.dim, got, err, c.want)
		}
	}
	n, err := s.CountEvents(ctx, "u1", time.Time{}, time.Time{})
	if err != nil || n != 3 {
		t.Fatalf("events of u1: %d %v", n, err)
	}
	n, err = s.CountEvents(ctx, "u2", t0, t0.Add(time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("events of u2 in the first hour: %d %v", n, err)
	}
}

func TestEventsAndFailures(t *testing.T) {
	ctx := context.Background()
	s := fixture(t)
	evs, next, err := s.Events(ctx, Filter{APIKeys: []string{"hash-k1"}}, Page{Limit: 10})
	if err != nil || next != "" || len(evs) != 3 || evs[0].RequestID != "00000005" || evs[2].RequestID != "00000001" {
		t.Fatalf("events by key: %+v %q %v", evs, next, err)
	}
	if evs[0].APIKey.Mask != "sk-…k1" || evs[0].Model != "m1" || evs[0].Upstream != "u2" {
		t.Fatalf("decoded event: %+v", evs[0])
	}
	fails, err := s.RecentFailures(ctx, Filter{}, 10)
	if err != nil || len(fails) != 1 || fails[0].RequestID != "00000003" || fails[0].FailBody != "rate limited" || fails[0].StatusCode != 429 {
		t.Fatalf("failures: %+v %v", fails, err)
	}
	evs, _, err = s.Events(ctx, Filter{From: t0.Add(5 * time.Minute), To: t0.Add(40 * time.Minute)}, Page{})
	if err != nil || len(evs) != 2 {
		t.Fatalf("exact time range: %d %v", len(evs), err)
	}
	if _, _, err := s.Events(ctx, Filter{}, Page{After: "garbage"}); err == nil {
		t.Fatal("bad cursor accepted")
	}
}

func TestEventsPagination(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	g := newGen(11, t0, time.Hour)
	evs := g.events(25)
	for i := range evs {
		if i < 17 {
			evs[i].Time = t0.Add(time.Minute) // many equal timestamps
		}
	}
	// Two commits so ids are not in time order either.
	mustCommit(t, s, Batch{Events: evs[10:]})
	mustCommit(t, s, Batch{Events: evs[:10]})
	var all []StoredEvent
	var cur Cursor
	pages := 0
	for {
		page, next, err := s.Events(ctx, Filter{}, Page{Limit: 4, After: cur})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		all = append(all, page...)
		if next == "" {
			break
		}
		cur = next
	}
	if len(all) != 25 || pages != 7 {
		t.Fatalf("%d events in %d pages", len(all), pages)
	}
	seen := map[int64]bool{}
	for i, e := range all {
		if seen[e.ID] {
			t.Fatalf("event %d twice", e.ID)
		}
		seen[e.ID] = true
		if i > 0 {
			p := all[i-1]
			if e.Time.After(p.Time) || e.Time.Equal(p.Time) && e.ID >= p.ID {
				t.Fatalf("order broken at %d: %v/%d after %v/%d", i, e.Time, e.ID, p.Time, p.ID)
			}
		}
	}
}

func TestCountEventsIsExact(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	base := time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)
	g := newGen(9, base, time.Hour)
	evs := g.events(200)
	for i := range evs {
		evs[i].Upstream = []string{"a", "b"}[i%2]
	}
	mustCommit(t, s, Batch{Events: evs})
	// An odd window that no 15-minute rollup bucket matches.
	from, to := base.Add(7*time.Minute), base.Add(23*time.Minute)
	var want int64
	for _, e := range evs {
		if e.Upstream == "a" && !e.Time.Before(from) && e.Time.Before(to) {
			want++
		}
	}
	got, err := s.CountEvents(ctx, "a", from, to)
	if err != nil || got != want || want == 0 {
		t.Errorf("CountEvents = %d, %v; want %d", got, err, want)
	}
	if n, err := s.CountEvents(ctx, "nobody", from, to); err != nil || n != 0 {
		t.Errorf("unknown upstream: %d, %v", n, err)
	}
}
