package api

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cpam-caddy/cpam/collector"
	"github.com/cpam-caddy/cpam/store"
	"github.com/cpam-caddy/cpam/usage"
)

// t0 is the start of the fixture's period.
var t0 = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

// fakeBackend serves a real store and canned collector statuses.
type fakeBackend struct {
	s             *store.Store
	cs            []collector.Status
	norm          *usage.Normalizer
	pricesChanged int
}

func (b *fakeBackend) Ping(ctx context.Context) error { return b.s.Ping(ctx) }
func (b *fakeBackend) Info() ServiceInfo {
	return ServiceInfo{Service: "caddy-cpam", Mode: "caddy", Version: "test", InstanceID: "i-1", StartedAt: t0}
}
func (b *fakeBackend) Store() *store.Store                 { return b.s }
func (b *fakeBackend) CollectorStatus() []collector.Status { return b.cs }
func (b *fakeBackend) Normalizer() *usage.Normalizer       { return b.norm }
func (b *fakeBackend) PricesChanged(ctx context.Context) error {
	b.pricesChanged++
	return nil
}

// openStore opens a fresh store in a temporary directory.
func openStore(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "cpam.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// hashOf makes a deterministic event hash.
func hashOf(parts ...any) [16]byte {
	h := sha256.Sum256([]byte(fmt.Sprint(parts...)))
	var out [16]byte
	copy(out[:], h[:16])
	return out
}

// m returns t0 plus n minutes.
func m(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }

// fixture commits seven hand-made events (minutes relative to t0):
//
//	#  min   up model alias prov auth key endpoint failed lat  ttft tokens(unc/out/cr) cost
//	1    0   u1 m1    a-m1  p1   A1   k1  E1       no     100  50   10/5/0            100
//	2    5   u1 m1    m1    p1   A1   k1  E1       no     100  -    20/10/0           200
//	3   20   u1 m2    m2    p2   A2   k2  E2       yes    1000 -    0                 unpriced
//	4   40   u2 m2    m2    p2   A3   k2  E1       no     100  -    0/0/30            300
//	5   70   u2 m1    m1    p1   A1   k1  E1       no     5    -    0                 50
//	6  -90   u1 m1    m1    p1   A1   -   E1       yes    200  -    0                 unpriced
//	7 -180   u1 m1    m1    p1   A1   k1  E1       no     100  -    0                 1000
//
// Event 1's account carries an email (also as label and in the file
// name), event 3 was paid by an email source.
func fixture(t testing.TB) (*Handler, *fakeBackend) {
	t.Helper()
	s := openStore(t)
	k1 := usage.Secret{Hash: "hash-k1", Mask: "sk-…k1"}
	k2 := usage.Secret{Hash: "hash-k2", Mask: "sk-…k2"}
	mk := func(i, min int, up, model, alias, prov, auth string, key usage.Secret, ep string, failed bool, lat, ttft int64, tok usage.Tokens, cost int64, priced bool) usage.Event {
		status := 200
		if failed {
			status = 429
		}
		return usage.Event{
			Hash: hashOf("api", i), Upstream: up, Time: m(min), RequestID: fmt.Sprintf("%08x", 0xabc00+i),
			AuthIndex: auth, AuthType: "oauth", Provider: prov, ExecutorType: "Exec", Model: model, Alias: alias,
			Endpoint: ep, APIKey: key, Failed: failed, StatusCode: status, LatencyMS: lat, TTFTMS: ttft, Tokens: tok,
			Cost: usage.Cost{MicroUSD: cost, Priced: priced}, Generate: true, ClientIP: "10.0.0.1", UserAgent: "curl/8",
		}
	}
	const e1, e2 = "POST /v1/chat/completions", "POST /v1/messages"
	evs := []usage.Event{
		mk(1, 0, "u1", "m1", "a-m1", "p1", "A1", k1, e1, false, 100, 50, usage.Tokens{Uncached: 10, Output: 5, Quality: usage.QualityComplete}, 100, true),
		mk(2, 5, "u1", "m1", "m1", "p1", "A1", k1, e1, false, 100, 0, usage.Tokens{Uncached: 20, Output: 10}, 200, true),
		mk(3, 20, "u1", "m2", "m2", "p2", "A2", k2, e2, true, 1000, 0, usage.Tokens{}, 0, false),
		mk(4, 40, "u2", "m2", "m2", "p2", "A3", k2, e1, false, 100, 0, usage.Tokens{CacheRead: 30}, 300, true),
		mk(5, 70, "u2", "m1", "m1", "p1", "A1", k1, e1, false, 5, 0, usage.Tokens{}, 50, true),
		mk(6, -90, "u1", "m1", "m1", "p1", "A1", usage.Secret{}, e1, true, 200, 0, usage.Tokens{}, 0, false),
		mk(7, -180, "u1", "m1", "m1", "p1", "A1", k1, e1, false, 100, 0, usage.Tokens{}, 1000, true),
	}
	evs[0].Account = usage.Account{Email: "alice@example.com", Label: "alice@example.com", Provider: "p1", FileName: "codex-alice@example.com.json"}
	evs[2].Source = usage.Source{Kind: usage.SourceEmail, Value: "bob@example.com"}
	evs[2].FailBody = "rate limited"
	evs[3].Source = usage.Source{Kind: usage.SourceAPIKey, Key: usage.Secret{Hash: "hash-up", Mask: "sk-u…up"}}
	if _, err := s.Commit(context.Background(), store.Batch{Events: evs}); err != nil {
		t.Fatal(err)
	}
	b := &fakeBackend{s: s}
	return New(Options{Backend: b}), b
}

// get serves an authenticated GET through the authenticated mux (the
// authentication middleware is tested with the auth code).
func get(t testing.TB, h *Handler, target string) (int, []byte) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec.Code, rec.Body.Bytes()
}

// getJSON serves target, expects 200 and decodes the answer into v.
func getJSON(t testing.TB, h *Handler, target string, v any) {
	t.Helper()
	code, body := get(t, h, target)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", target, code, body)
	}
	reflect.ValueOf(v).Elem().SetZero() // no leftovers from a previous answer
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v in %s", target, err, body)
	}
}

// period is the fixture's main period, [t0, t0+2h).
const period = "from=2026-11-27T00:00:00Z&to=2026-11-27T02:00:00Z"

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestSummary(t *testing.T) {
	h, _ := fixture(t)
	var got struct {
		From, To time.Time
		TZ       string
		Current  summaryJSON
		Previous struct {
			From, To time.Time
			summaryJSON
		}
	}
	getJSON(t, h, "/api/v1/summary?"+period, &got)
	// Latency bins (store/hist.go): 5 -> [0,10); 100 x3 -> [74,122); 1000 -> [900,1484).
	want := summaryJSON{Attempts: 5, Failed: 1, Succeeded: 4, FailureRate: 0.2,
		Tokens:       tokensJSON{Uncached: 30, CacheRead: 30, Output: 15, Input: 60, OutputTotal: 15, Total: 75},
		CostMicroUSD: 650, CostUSD: 0.00065, Unpriced: 1, LatencyAvgMS: 261,
		LatencyP50MS: 98, LatencyP95MS: 1338, LatencyP99MS: 1454.8,
		TTFTCount: 1, TTFTAvgMS: 50, TTFTP50MS: 59.5, TTFTP95MS: 45 + .95*29, TTFTP99MS: 45 + .99*29}
	checkSummary(t, "current", got.Current, want)
	if !got.From.Equal(t0) || !got.To.Equal(m(120)) || got.TZ != "UTC" {
		t.Errorf("period %v %v %q", got.From, got.To, got.TZ)
	}
	// The previous period is [t0-2h, t0): event 6 only (event 7 is older).
	if !got.Previous.From.Equal(m(-120)) || !got.Previous.To.Equal(t0) {
		t.Errorf("previous period %v - %v", got.Previous.From, got.Previous.To)
	}
	// 200 ms lies in bin [122, 201): p = 122 + p*79.
	wantPrev := summaryJSON{Attempts: 1, Failed: 1, FailureRate: 1, Unpriced: 1, LatencyAvgMS: 200,
		LatencyP50MS: 122 + .5*79, LatencyP95MS: 122 + .95*79, LatencyP99MS: 122 + .99*79}
	checkSummary(t, "previous", got.Previous.summaryJSON, wantPrev)

	// Filters: repeatable, and every dimension.
	for _, c := range []struct {
		q        string
		attempts int64
		cost     int64
	}{
		{"upstream=u1", 3, 300},
		{"model=m1&failed=false", 3, 350},
		{"model=m1&model=m2", 5, 650},
		{"alias=a-m1&alias=m2", 3, 400},
		{"provider=p2", 2, 300},
		{"account=A1&account=A3", 4, 650},
		{"api_key=hash-k2", 2, 300},
		{"endpoint=POST+%2Fv1%2Fmessages", 1, 0},
		{"failed=true", 1, 0},
		{"model=nope", 0, 0},
		{"model=", 5, 650}, // empty values do not filter
		// Whole 15-minute buckets: [00:15, 01:00) holds events 3 and 4.
		{"from=2026-11-27T00:15:00Z&to=2026-11-27T01:00:00Z", 2, 300},
	} {
		target := "/api/v1/summary?" + period + "&" + c.q
		if strings.HasPrefix(c.q, "from=") {
			target = "/api/v1/summary?" + c.q
		}
		var s struct{ Current summaryJSON }
		getJSON(t, h, target, &s)
		if s.Current.Attempts != c.attempts || s.Current.CostMicroUSD != c.cost {
			t.Errorf("%s: %d attempts, cost %d; want %d, %d", c.q, s.Current.Attempts, s.Current.CostMicroUSD, c.attempts, c.cost)
		}
	}
}

// checkSummary compares summaries, floats approximately.
func checkSummary(t *testing.T, name string, got, want summaryJSON) {
	t.Helper()
	floats := [][2]float64{{got.FailureRate, want.FailureRate}, {got.CostUSD, want.CostUSD}, {got.LatencyAvgMS, want.LatencyAvgMS},
		{got.LatencyP50MS, want.LatencyP50MS}, {got.LatencyP95MS, want.LatencyP95MS}, {got.LatencyP99MS, want.LatencyP99MS},
		{got.TTFTAvgMS, want.TTFTAvgMS}, {got.TTFTP50MS, want.TTFTP50MS}, {got.TTFTP95MS, want.TTFTP95MS}, {got.TTFTP99MS, want.TTFTP99MS}}
	for i, f := range floats {
		if !near(f[0], f[1]) {
			t.Errorf("%s: float %d is %v, want %v", name, i, f[0], f[1])
		}
	}
	got.FailureRate, got.CostUSD, got.LatencyAvgMS = want.FailureRate, want.CostUSD, want.LatencyAvgMS
	got.LatencyP50MS, got.LatencyP95MS, got.LatencyP99MS = want.LatencyP50MS, want.LatencyP95MS, want.LatencyP99MS
	got.TTFTAvgMS, got.TTFTP50MS, got.TTFTP95MS, got.TTFTP99MS = want.TTFTAvgMS, want.TTFTP50MS, want.TTFTP95MS, want.TTFTP99MS
	if got != want {
		t.Errorf("%s:\n got %+v\nwant %+v", name, got, want)
	}
}

func TestSummaryDefaultPeriod(t *testing.T) {
	h, _ := fixture(t)
	timeNow = func() time.Time { return m(120) }
	defer func() { timeNow = time.Now }()
	var got struct {
		From, To time.Time
		Current  summaryJSON
	}
	getJSON(t, h, "/api/v1/summary", &got)
	if !got.From.Equal(m(120-24*60)) || !got.To.Equal(m(120)) || got.Current.Attempts != 7 {
		t.Errorf("default period %v - %v: %d attempts", got.From, got.To, got.Current.Attempts)
	}
	getJSON(t, h, "/api/v1/summary?from=2026-11-27T00:00:00Z", &got)
	if !got.From.Equal(t0) || !got.To.Equal(m(120)) || got.Current.Attempts != 5 {
		t.Errorf("from only %v - %v: %d attempts", got.From, got.To, got.Current.Attempts)
	}
	getJSON(t, h, "/api/v1/summary?to=2026-11-27T00:00:00Z", &got)
	if !got.From.Equal(m(-24*60)) || !got.To.Equal(t0) || got.Current.Attempts != 2 {
		t.Errorf("to only %v - %v: %d attempts", got.From, got.To, got.Current.Attempts)
	}
}

func TestTimeSeries(t *testing.T) {
	h, _ := fixture(t)
	type point struct {
		Start, End   string
		Attempts     int64
		Failed       int64
		CostMicroUSD int64 `json:"costMicroUsd"`
	}
	var got struct {
		From, To, TZ, Bucket string
		Points               []point
	}
	// 05:30 local: hours start at :30 UTC; from is given with its offset.
	getJSON(t, h, "/api/v1/timeseries?tz=Asia/Kolkata&bucket=1h&from=2026-11-27T05:30:00%2B05:30&to=2026-11-27T02:00:00Z", &got)
	want := []point{
		{"2026-11-27T05:00:00+05:30", "2026-11-27T06:00:00+05:30", 3, 1, 300},
		{"2026-11-27T06:00:00+05:30", "2026-11-27T07:00:00+05:30", 2, 0, 350},
		{"2026-11-27T07:00:00+05:30", "2026-11-27T08:00:00+05:30", 0, 0, 0},
	}
	if fmt.Sprint(got.Points) != fmt.Sprint(want) || got.From != "2026-11-27T05:30:00+05:30" || got.To != "2026-11-27T07:30:00+05:30" ||
		got.TZ != "Asia/Kolkata" || got.Bucket != "1h" {
		t.Errorf("kolkata 1h:\n got %+v\nwant %v", got, want)
	}
	// An unencoded + arrives as a space; it is accepted.
	getJSON(t, h, "/api/v1/timeseries?tz=Asia/Kolkata&bucket=1h&from=2026-11-27T05:30:00+05:30&to=2026-11-27T02:00:00Z", &got)
	if fmt.Sprint(got.Points) != fmt.Sprint(want) {
		t.Errorf("unencoded +: %+v", got.Points)
	}
	// A local day starts at 18:30 UTC the day before: it holds all seven
	// events (from is rounded down to the day's start).
	getJSON(t, h, "/api/v1/timeseries?tz=Asia/Kolkata&bucket=1d&"+period, &got)
	if fmt.Sprint(got.Points) != fmt.Sprint([]point{{"2026-11-27T00:00:00+05:30", "2026-11-28T00:00:00+05:30", 7, 2, 1650}}) {
		t.Errorf("kolkata 1d: %+v", got.Points)
	}
	// Dates without a time are local midnights. 00:00-06:00 local is
	// 18:30-00:30 UTC: events 7, 6, 1, 2, 3; then events 4 and 5.
	getJSON(t, h, "/api/v1/timeseries?tz=Asia/Kolkata&bucket=6h&from=2026-11-27&to=2026-11-28", &got)
	if len(got.Points) != 4 || got.Points[0].Start != "2026-11-27T00:00:00+05:30" || got.Points[0].Attempts != 5 ||
		got.Points[0].CostMicroUSD != 1300 || got.Points[1].Attempts != 2 || got.Points[2].Attempts != 0 || got.Points[3].End != "2026-11-28T00:00:00+05:30" {
		t.Errorf("kolkata 6h by date: %+v", got.Points)
	}
	// Default bucket 1h in UTC, with a filter; 15m and 30m.
	getJSON(t, h, "/api/v1/timeseries?model=m2&"+period, &got)
	if got.Bucket != "1h" || fmt.Sprint(got.Points) != fmt.Sprint([]point{
		{"2026-11-27T00:00:00Z", "2026-11-27T01:00:00Z", 2, 1, 300}, {"2026-11-27T01:00:00Z", "2026-11-27T02:00:00Z", 0, 0, 0}}) {
		t.Errorf("utc 1h model m2: %+v", got)
	}
	getJSON(t, h, "/api/v1/timeseries?bucket=15m&from=2026-11-27T00:00:00Z&to=2026-11-27T01:30:00Z", &got)
	var counts []int64
	for _, p := range got.Points {
		counts = append(counts, p.Attempts)
	}
	if fmt.Sprint(counts) != "[2 1 1 0 1 0]" {
		t.Errorf("utc 15m: %v", counts)
	}
	getJSON(t, h, "/api/v1/timeseries?bucket=30m&from=2026-11-27T00:00:00Z&to=2026-11-27T01:30:00Z", &got)
	counts = nil
	for _, p := range got.Points {
		counts = append(counts, p.Attempts)
	}
	if fmt.Sprint(counts) != "[3 1 1]" {
		t.Errorf("utc 30m: %v", counts)
	}
}

func TestBreakdown(t *testing.T) {
	h, _ := fixture(t)
	type row struct {
		Key, Label   string
		Other        bool
		Attempts     int64
		Failed       int64
		CostMicroUSD int64 `json:"costMicroUsd"`
		Unpriced     int64
	}
	var got struct {
		By, Sort string
		Top      int64
		Rows     []row
	}
	for _, c := range []struct {
		q    string
		want string
	}{
		{"by=model", "[{m1 m1 false 3 0 350 0} {m2 m2 false 2 1 300 1}]"},
		{"by=alias", "[{m1 m1 false 2 0 250 0} {m2 m2 false 2 1 300 1} {a-m1 a-m1 false 1 0 100 0}]"},
		{"by=alias&top=1", "[{m1 m1 false 2 0 250 0} {other other true 3 1 400 1}]"},
		// A1's newest event has no attribution; an older one names it (email masked).
		{"by=account&sort=cost", "[{A1 a***@example.com false 3 0 350 0} {A3 A3 false 1 0 300 0} {A2 A2 false 1 1 0 1}]"},
		{"by=account&sort=cost&top=1", "[{A1 a***@example.com false 3 0 350 0} {other other true 2 1 300 1}]"},
		{"by=api_key", "[{hash-k1 sk-…k1 false 3 0 350 0} {hash-k2 sk-…k2 false 2 1 300 1}]"},
		{"by=provider&upstream=u2", "[{p1 p1 false 1 0 50 0} {p2 p2 false 1 0 300 0}]"},
		{"by=endpoint", "[{POST /v1/chat/completions POST /v1/chat/completions false 4 0 650 0} {POST /v1/messages POST /v1/messages false 1 1 0 1}]"},
		{"by=upstream&sort=cost", "[{u2 u2 false 2 0 350 0} {u1 u1 false 3 1 300 1}]"},
		{"by=status", "[{ok ok false 4 0 650 0} {failed failed false 1 1 0 1}]"},
		{"by=status&failed=true", "[{failed failed false 1 1 0 1}]"},
		{"by=model&top=0", "[{m1 m1 false 3 0 350 0} {m2 m2 false 2 1 300 1}]"},
	} {
		getJSON(t, h, "/api/v1/breakdown?"+period+"&"+c.q, &got)
		if s := fmt.Sprint(got.Rows); s != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.q, s, c.want)
		}
	}
	getJSON(t, h, "/api/v1/breakdown?by=model&"+period, &got)
	if got.By != "model" || got.Sort != "attempts" || got.Top != 10 {
		t.Errorf("defaults: %+v", got)
	}
}

// labelledBackend knows the current name of credential A3.
type labelledBackend struct{ *fakeBackend }

func (labelledBackend) Account(authIndex string) (usage.Account, bool) {
	if authIndex == "A3" {
		return usage.Account{Label: "Team Claude", Email: "team@example.com"}, true
	}
	return usage.Account{}, false
}

// TestBreakdownLabels shows the names people know instead of raw ids:
// CPA's current credential names, and API key aliases with the mask as a
// hint.
func TestBreakdownLabels(t *testing.T) {
	_, b := fixture(t)
	h := New(Options{Backend: labelledBackend{b}})
	if err := b.s.PutAPIKeyAlias(context.Background(), "hash-k2", "CI runners"); err != nil {
		t.Fatal(err)
	}
	type row struct{ Key, Label, Hint string }
	var got struct{ Rows []row }
	getJSON(t, h, "/api/v1/breakdown?by=account&sort=cost&"+period, &got)
	if s := fmt.Sprint(got.Rows); s != "[{A1 a***@example.com A1} {A3 Team Claude A3} {A2 A2 }]" {
		t.Errorf("accounts: %s", s)
	}
	getJSON(t, h, "/api/v1/breakdown?by=api_key&"+period, &got)
	if s := fmt.Sprint(got.Rows); s != "[{hash-k1 sk-…k1 } {hash-k2 CI runners sk-…k2}]" {
		t.Errorf("api keys: %s", s)
	}
}

// eventPage is the part of an events answer the tests read.
type eventPage struct {
	Limit      int64
	Events     []eventJSON
	Failures   []eventJSON
	NextCursor *string
}

// requestIDs lists the fixture numbers of evs (request id 0xabc00+i).
func requestIDs(evs []eventJSON) string {
	var out []string
	for _, e := range evs {
		var n int
		fmt.Sscanf(e.RequestID, "%x", &n)
		out = append(out, fmt.Sprint(n-0xabc00))
	}
	return "[" + strings.Join(out, " ") + "]"
}

func TestEvents(t *testing.T) {
	h, _ := fixture(t)
	var p eventPage
	for _, c := range []struct {
		q    string
		want string
	}{
		{"", "[5 4 3 2 1]"},
		{"failed=true", "[3]"},
		{"failed=false&upstream=u1", "[2 1]"},
		{"min_latency_ms=100", "[4 3 2 1]"},
		{"min_latency_ms=101", "[3]"},
		{"q=ALICE", "[1]"},
		{"q=abc03", "[3]"},
		{"q=a-m", "[1]"},
		{"q=a3", "[4]"},
		{"model=m2&model=nope", "[4 3]"},
		{"alias=a-m1", "[1]"},
		{"provider=p1&account=A1", "[5 2 1]"},
		{"api_key=hash-k2", "[4 3]"},
		{"endpoint=POST+/v1/messages", "[3]"},
		{"from=2026-11-27T00:05:00Z&to=2026-11-27T00:40:00Z", "[3 2]"}, // exact times, not buckets
		{"from=2026-11-26T00:00:00Z&to=2026-11-27T02:00:00Z", "[5 4 3 2 1 6 7]"},
	} {
		target := "/api/v1/events?" + period + "&" + c.q
		if strings.HasPrefix(c.q, "from=") {
			target = "/api/v1/events?" + c.q
		}
		getJSON(t, h, target, &p)
		if got := requestIDs(p.Events); got != c.want || p.NextCursor != nil {
			t.Errorf("%s: %s (next %v), want %s", c.q, got, p.NextCursor, c.want)
		}
	}

	// One event in full, in the requested zone, emails masked.
	getJSON(t, h, "/api/v1/events?tz=Asia/Kolkata&q=000abc01&"+period, &p)
	if len(p.Events) != 1 {
		t.Fatalf("event 1: %+v", p.Events)
	}
	e := p.Events[0]
	want := eventJSON{ID: e.ID, Hash: fmt.Sprintf("%x", hashOf("api", 1)), Time: time.Date(2026, 11, 27, 5, 30, 0, 0, e.Time.Location()),
		Upstream: "u1", RequestID: "000abc01", AuthIndex: "A1", AuthType: "oauth", Provider: "p1", ExecutorType: "Exec",
		Model: "m1", Alias: "a-m1", Endpoint: "POST /v1/chat/completions", APIKey: &secretJSON{Hash: "hash-k1", Mask: "sk-…k1"},
		Account:  &accountJSON{Label: "a***@example.com", Email: "a***@example.com", Provider: "p1", FileName: "c***@example.com.json"},
		ClientIP: "10.0.0.1", UserAgent: "curl/8", StatusCode: 200, LatencyMS: 100, TTFTMS: 50, Generate: true,
		Tokens:       tokensJSON{Uncached: 10, Output: 5, Input: 10, OutputTotal: 5, Total: 15, Quality: "complete"},
		CostMicroUSD: 100, CostUSD: 0.0001, Priced: true}
	if _, off := e.Time.Zone(); off != 5*3600+1800 {
		t.Errorf("event time %v not in +05:30", e.Time)
	}
	if !reflect.DeepEqual(e, want) {
		t.Errorf("event 1:\n got %+v %+v %+v\nwant %+v %+v %+v", e, e.APIKey, e.Account, want, want.APIKey, want.Account)
	}
	// reveal=emails shows them.
	getJSON(t, h, "/api/v1/events?reveal=emails&q=000abc01&"+period, &p)
	if a := p.Events[0].Account; a.Email != "alice@example.com" || a.Label != "alice@example.com" || a.FileName != "codex-alice@example.com.json" {
		t.Errorf("revealed account: %+v", a)
	}
	// Email sources are masked too; provider keys are hashes and masks.
	getJSON(t, h, "/api/v1/events?upstream=u1&model=m2&"+period, &p)
	if s := p.Events[0].Source; s == nil || s.Kind != "email" || s.Value != "b***@example.com" || s.Key != nil {
		t.Errorf("email source: %+v", s)
	}
	getJSON(t, h, "/api/v1/events?upstream=u2&model=m2&"+period, &p)
	if s := p.Events[0].Source; s == nil || s.Key == nil || *s.Key != (secretJSON{Hash: "hash-up", Mask: "sk-u…up"}) || s.Value != "" {
		t.Errorf("key source: %+v", s)
	}
	// Event 6 has no key and no source: null, not empty objects.
	code, body := get(t, h, "/api/v1/events?failed=true&upstream=u1&from=2026-11-26T22:00:00Z&to=2026-11-27T00:00:00Z")
	if code != 200 || !strings.Contains(string(body), `"apiKey":null,"source":null,"account":null`) {
		t.Errorf("event 6: %d %s", code, body)
	}
	// Emails never leave unmasked by default.
	for _, target := range []string{"/api/v1/events?from=2026-11-26T00:00:00Z", "/api/v1/failures?from=2026-11-26T00:00:00Z"} {
		if _, body := get(t, h, target+"&to=2026-11-28T00:00:00Z"); strings.Contains(string(body), "alice@") || strings.Contains(string(body), "bob@") {
			t.Errorf("%s leaks an email: %s", target, body)
		}
	}
}

func TestEventsPagination(t *testing.T) {
	h, _ := fixture(t)
	// Add events sharing one timestamp, so pages split equal times.
	var evs []usage.Event
	for i := range 9 {
		evs = append(evs, usage.Event{Hash: hashOf("same", i), Upstream: "u3", Time: m(30), RequestID: fmt.Sprintf("%08x", 0xabc00+100+i),
			Model: "m3", StatusCode: 200, Generate: true})
	}
	if _, err := h.opts.Backend.Store().Commit(context.Background(), store.Batch{Events: evs}); err != nil {
		t.Fatal(err)
	}
	var all []string
	seen := map[int64]bool{}
	cursor, pages := "", 0
	for {
		target := "/api/v1/events?limit=4&" + period
		if cursor != "" {
			target += "&cursor=" + url.QueryEscape(cursor)
		}
		var p eventPage
		getJSON(t, h, target, &p)
		pages++
		if p.Limit != 4 || len(p.Events) > 4 {
			t.Fatalf("page %d: limit %d, %d events", pages, p.Limit, len(p.Events))
		}
		for _, e := range p.Events {
			if seen[e.ID] {
				t.Fatalf("event %d twice", e.ID)
			}
			seen[e.ID] = true
		}
		all = append(all, strings.Trim(requestIDs(p.Events), "[]"))
		if p.NextCursor == nil {
			break
		}
		cursor = *p.NextCursor
		if strings.Contains(cursor, ".") {
			t.Fatalf("cursor %q is not opaque", cursor)
		}
	}
	// 5 fixture events + 9 at minute 30 = 14: pages of 4, 4, 4, 2. Equal
	// times are ordered by id, newest first.
	if pages != 4 || strings.Join(all, " | ") != "5 4 108 107 | 106 105 104 103 | 102 101 100 3 | 2 1" {
		t.Fatalf("%d pages: %s", pages, strings.Join(all, " | "))
	}
	// limit=500 is the maximum and gets everything in one page.
	var p eventPage
	getJSON(t, h, "/api/v1/events?limit=500&"+period, &p)
	if len(p.Events) != 14 || p.NextCursor != nil || p.Limit != 500 {
		t.Fatalf("limit 500: %d events, next %v", len(p.Events), p.NextCursor)
	}
	getJSON(t, h, "/api/v1/events?"+period, &p)
	if p.Limit != 100 {
		t.Fatalf("default limit %d", p.Limit)
	}
}

func TestFailures(t *testing.T) {
	h, _ := fixture(t)
	var p eventPage
	getJSON(t, h, "/api/v1/failures?"+period, &p)
	if requestIDs(p.Failures) != "[3]" || p.Failures[0].FailBody != "rate limited" || p.Failures[0].StatusCode != 429 || p.Limit != 50 {
		t.Fatalf("failures: %+v", p)
	}
	getJSON(t, h, "/api/v1/failures?from=2026-11-26T00:00:00Z&to=2026-11-28T00:00:00Z", &p)
	if requestIDs(p.Failures) != "[3 6]" {
		t.Fatalf("failures over two days: %s", requestIDs(p.Failures))
	}
	getJSON(t, h, "/api/v1/failures?limit=1&from=2026-11-26T00:00:00Z&to=2026-11-28T00:00:00Z", &p)
	if requestIDs(p.Failures) != "[3]" {
		t.Fatalf("limit 1: %s", requestIDs(p.Failures))
	}
	getJSON(t, h, "/api/v1/failures?min_latency_ms=500&q=m1&from=2026-11-26T00:00:00Z&to=2026-11-28T00:00:00Z", &p)
	if requestIDs(p.Failures) != "[]" {
		t.Fatalf("latency and text: %s", requestIDs(p.Failures))
	}
	getJSON(t, h, "/api/v1/failures?model=m2&account=A2&"+period, &p)
	if requestIDs(p.Failures) != "[3]" || p.Failures[0].Source.Value != "b***@example.com" {
		t.Fatalf("filtered: %+v", p.Failures)
	}
}

func TestFilters(t *testing.T) {
	h, _ := fixture(t)
	type filters struct {
		Upstreams, Models, Aliases, Providers, Accounts, Endpoints, Statuses []string
		APIKeys                                                              []secretJSON
	}
	var got filters
	getJSON(t, h, "/api/v1/filters?"+period, &got)
	want := filters{Upstreams: []string{"u1", "u2"}, Models: []string{"m1", "m2"}, Aliases: []string{"a-m1", "m1", "m2"},
		Providers: []string{"p1", "p2"}, Accounts: []string{"A1", "A2", "A3"},
		Endpoints: []string{"POST /v1/chat/completions", "POST /v1/messages"}, Statuses: []string{"failed", "ok"},
		APIKeys: []secretJSON{{Hash: "hash-k1", Mask: "sk-…k1"}, {Hash: "hash-k2", Mask: "sk-…k2"}}}
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("filters:\n got %+v\nwant %+v", got, want)
	}
	// Each list ignores its own filter but honours the others'.
	getJSON(t, h, "/api/v1/filters?model=m2&failed=true&"+period, &got)
	want = filters{Upstreams: []string{"u1"}, Models: []string{"m2"}, Aliases: []string{"m2"}, Providers: []string{"p2"},
		Accounts: []string{"A2"}, Endpoints: []string{"POST /v1/messages"}, Statuses: []string{"failed", "ok"},
		APIKeys: []secretJSON{{Hash: "hash-k2", Mask: "sk-…k2"}}}
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("faceted filters:\n got %+v\nwant %+v", got, want)
	}
	// An empty period answers empty lists, not null.
	code, body := get(t, h, "/api/v1/filters?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z")
	if code != 200 || !strings.Contains(string(body), `"upstreams":[],"models":[],"aliases":[],"providers":[],"accounts":[],"apiKeys":[],"endpoints":[],"statuses":[]`) {
		t.Errorf("empty filters: %d %s", code, body)
	}
}

func TestBadParameters(t *testing.T) {
	h, _ := fixture(t)
	for _, c := range []struct {
		target string
		want   string // in the message
	}{
		{"/api/v1/summary?tz=Mars/Olympus", "unknown time zone"},
		{"/api/v1/summary?tz=Local", "IANA"},
		{"/api/v1/summary?tz=UTC&tz=UTC", "send it once"},
		{"/api/v1/summary?from=yesterday", "RFC 3339"},
		{"/api/v1/summary?to=2026-13-01T00:00:00Z", "RFC 3339"},
		{"/api/v1/summary?from=2026-11-27T02:00:00Z&to=2026-11-27T00:00:00Z", "must be before"},
		{"/api/v1/summary?from=2026-11-27T00:00:00Z&to=2026-11-27T00:00:00Z", "must be before"},
		{"/api/v1/summary?from=2025-01-01T00:00:00Z&to=2026-11-27T00:00:00Z", "longer than 400 days"},
		{"/api/v1/summary?modle=m1", "unknown query parameter modle"},
		{"/api/v1/summary?q=x", "unknown query parameter q"},
		{"/api/v1/summary?failed=maybe", "failed=true"},
		{"/api/v1/summary?failed=1", "failed=true"},
		{"/api/v1/summary?model=" + strings.Repeat("x", 513), "longer than 512"},
		{"/api/v1/summary?" + strings.Repeat("model=x&", 101), "at most 100"},
		{"/api/v1/timeseries?bucket=2h", "unknown bucket"},
		{"/api/v1/timeseries?bucket=15m&from=2026-01-01T00:00:00Z&to=2026-11-27T00:00:00Z", "larger bucket"},
		{"/api/v1/breakdown", "by is required"},
		{"/api/v1/breakdown?by=color", "unknown by"},
		{"/api/v1/breakdown?by=service_tier", "unknown by"},
		{"/api/v1/breakdown?by=model&sort=name", "unknown sort"},
		{"/api/v1/breakdown?by=model&top=-1", "top"},
		{"/api/v1/breakdown?by=model&top=1001", "top"},
		{"/api/v1/breakdown?by=model&top=ten", "top"},
		{"/api/v1/events?limit=0", "limit"},
		{"/api/v1/events?limit=501", "from 1 to 500"},
		{"/api/v1/events?min_latency_ms=-1", "min_latency_ms"},
		{"/api/v1/events?q=" + strings.Repeat("a", 201), "q is longer"},
		{"/api/v1/events?cursor=garbage!", "not a cursor"},
		{"/api/v1/events?cursor=" + encodeCursor("123"), "not a cursor"},
		{"/api/v1/events?cursor=" + encodeCursor("1.x"), "not a cursor"},
		{"/api/v1/events?reveal=keys", "reveal=emails"},
		{"/api/v1/failures?failed=true", "unknown query parameter failed"},
		{"/api/v1/failures?limit=501", "limit"},
		{"/api/v1/failures?cursor=x", "unknown query parameter cursor"},
		{"/api/v1/filters?by=model", "unknown query parameter by"},
		{"/status?verbose=1", "takes no parameters"},
	} {
		code, body := get(t, h, c.target)
		var e struct{ Error, Code string }
		if err := json.Unmarshal(body, &e); err != nil || code != http.StatusBadRequest || e.Code != "bad_parameter" || !strings.Contains(e.Error, c.want) {
			t.Errorf("%s: %d %s, want 400 bad_parameter mentioning %q", c.target, code, body, c.want)
		}
	}
}

func TestNoStore(t *testing.T) {
	h := New(Options{Backend: &fakeBackend{}})
	code, body := get(t, h, "/api/v1/summary")
	if code != http.StatusServiceUnavailable || !strings.Contains(string(body), `"code":"unavailable"`) {
		t.Fatalf("without a store: %d %s", code, body)
	}
	code, body = get(t, h, "/status")
	if code != 200 || !strings.Contains(string(body), `"database":null,"collectors":[],"warnings":[]`) {
		t.Fatalf("status without a store: %d %s", code, body)
	}
}

func TestBreakdownPricedAs(t *testing.T) {
	h, b := fixture(t)
	read := func(q string) map[string]json.RawMessage {
		t.Helper()
		var got struct{ Rows []map[string]json.RawMessage }
		getJSON(t, h, "/api/v1/breakdown?"+period+"&"+q, &got)
		out := map[string]json.RawMessage{}
		for _, r := range got.Rows {
			var key string
			if err := json.Unmarshal(r["key"], &key); err != nil {
				t.Fatal(err)
			}
			out[key] = r["priced_as"]
		}
		return out
	}
	// No book loaded (collection not running): the field is absent.
	if got := read("by=model"); got["m1"] != nil || got["m2"] != nil {
		t.Fatalf("priced_as without a price book: %s", got)
	}
	// "M1-2025-01-01" prices as "m1" through the normalised form; m2 has none.
	book, err := usage.NewPriceBook(map[string]usage.Price{"M1-2025-01-01": {Input: 1, Output: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if b.norm, err = usage.NewNormalizer([]byte("0123456789abcdef0123456789abcdef"), nil, book); err != nil {
		t.Fatal(err)
	}
	got := read("by=model")
	if string(got["m1"]) != `"M1-2025-01-01"` || string(got["m2"]) != "null" {
		t.Fatalf("priced_as: m1=%s m2=%s", got["m1"], got["m2"])
	}
	// Only the model breakdown names prices; the rest row never does.
	if got := read("by=alias"); got["m1"] != nil {
		t.Fatalf("priced_as on an alias breakdown: %s", got["m1"])
	}
	if got := read("by=model&top=1"); got["other"] != nil {
		t.Fatalf("priced_as on the rest row: %s", got["other"])
	}
}
