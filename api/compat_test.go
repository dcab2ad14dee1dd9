package api

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cpam-caddy/cpam/collector"
	"github.com/cpam-caddy/cpam/cpasim"
	"github.com/cpam-caddy/cpam/store"
	"github.com/cpam-caddy/cpam/usage"
)

// compatSecret is the normaliser secret of these tests.
var compatSecret = []byte("compat-test-secret-0123456789abcdef")

// compatNow fixes the clock of the default periods.
func compatNow(t testing.TB, now time.Time) {
	t.Helper()
	old := timeNow
	timeNow = func() time.Time { return now }
	t.Cleanup(func() { timeNow = old })
}

// compatNormalizer returns a normaliser like the collector's.
func compatNormalizer(t testing.TB) *usage.Normalizer {
	t.Helper()
	n, err := usage.NewNormalizer(compatSecret, nil, usage.DefaultPriceBook())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// compatDo serves one request through the authenticated mux.
func compatDo(t testing.TB, h *Handler, method, target string, body io.Reader, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, body)
	for k, v := range header {
		r.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.mux.ServeHTTP(rec, r)
	return rec
}

// compatImportBody posts body to the import route and decodes the answer.
func compatImportBody(t testing.TB, h *Handler, query string, body []byte, header map[string]string) (int, importResultBody) {
	t.Helper()
	target := "/v0/management/usage/import"
	if query != "" {
		target += "?" + query
	}
	rec := compatDo(t, h, http.MethodPost, target, bytes.NewReader(body), header)
	var out importResultBody
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("import answer %d %q: %v", rec.Code, rec.Body, err)
	}
	return rec.Code, out
}

// importResultBody is an import answer, with the error fields.
type importResultBody struct {
	importResult
	Error string `json:"error"`
	Code  string `json:"code"`
}

// storedEvents lists every event of s, newest first.
func storedEvents(t testing.TB, s *store.Store) []store.StoredEvent {
	t.Helper()
	var out []store.StoredEvent
	var cur store.Cursor
	for {
		page, next, err := s.Events(context.Background(), store.Filter{}, store.Page{Limit: 1000, After: cur})
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

// withoutIDs returns the events of evs without their row ids.
func withoutIDs(evs []store.StoredEvent) []usage.Event {
	out := make([]usage.Event, len(evs))
	for i, e := range evs {
		out[i] = e.Event
	}
	return out
}

// legacyAnswer is the answer of GET /usage.
type legacyAnswer struct {
	Usage          legacyUsageJSON `json:"usage"`
	FailedRequests int64           `json:"failed_requests"`
	QueryLimit     int             `json:"query_limit"`
	Truncated      bool            `json:"truncated"`
}

func getUsage(t *testing.T, h *Handler, query string) legacyAnswer {
	t.Helper()
	rec := compatDo(t, h, http.MethodGet, "/v0/management/usage?"+query, nil, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /usage?%s: %d %s", query, rec.Code, rec.Body)
	}
	var a legacyAnswer
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// countDetails counts the details of u.
func countDetails(u *legacyUsageJSON) int {
	n := 0
	for _, api := range u.APIs {
		for _, m := range api.Models {
			n += len(m.Details)
		}
	}
	return n
}

func TestCompatUsageAggregate(t *testing.T) {
	compatNow(t, t0.Add(48*time.Hour))
	_, fb := fixture(t)
	h := New(Options{Backend: fb, QueryLimit: 3})
	const e1, e2 = "POST /v1/chat/completions", "POST /v1/messages"

	a := getUsage(t, h, "")
	u := &a.Usage
	if u.TotalRequests != 7 || u.SuccessCount != 5 || u.FailureCount != 2 || u.TotalTokens != 75 || a.FailedRequests != 2 {
		t.Errorf("totals: %+v failed_requests %d", u, a.FailedRequests)
	}
	if a.QueryLimit != 3 || !a.Truncated || countDetails(u) != 3 {
		t.Errorf("query_limit %d truncated %v details %d", a.QueryLimit, a.Truncated, countDetails(u))
	}
	// Totals per endpoint and model cover every event, details only the
	// newest three (minutes 70, 40 and 20).
	want := map[string]map[string][3]int64{ // requests, tokens, details
		e1: {"m1": {5, 45, 1}, "m2": {1, 30, 1}},
		e2: {"m2": {1, 0, 1}},
	}
	if len(u.APIs) != len(want) {
		t.Fatalf("apis: %v", u.APIs)
	}
	for ep, models := range want {
		api := u.APIs[ep]
		if api == nil || len(api.Models) != len(models) {
			t.Fatalf("api %s: %+v", ep, api)
		}
		var req, tok int64
		for name, w := range models {
			m := api.Models[name]
			if m == nil || m.TotalRequests != w[0] || m.TotalTokens != w[1] || int64(len(m.Details)) != w[2] {
				t.Errorf("%s %s: %+v, want %v", ep, name, m, w)
			}
			req, tok = req+w[0], tok+w[1]
		}
		if api.TotalRequests != req || api.TotalTokens != tok {
			t.Errorf("%s totals %d/%d, want %d/%d", ep, api.TotalRequests, api.TotalTokens, req, tok)
		}
	}
	d := u.APIs[e1].Models["m2"].Details[0] // event 4
	wantD := legacyDetailJSON{Timestamp: m(40).Format(time.RFC3339Nano), LatencyMS: 100, Source: "sk-u…up", AuthIndex: "A3",
		Tokens: legacyTokensJSON{InputTokens: 30, CachedTokens: 30, TotalTokens: 30}}
	if d != wantD {
		t.Errorf("detail of event 4: %+v, want %+v", d, wantD)
	}
	d = u.APIs[e2].Models["m2"].Details[0] // event 3: paid by an email, failed
	if d.Source != "bob@example.com" || !d.Failed || d.AuthIndex != "A2" {
		t.Errorf("detail of event 3: %+v", d)
	}
	if !reflect.DeepEqual(u.RequestsByDay, map[string]int64{"2026-11-26": 2, "2026-11-27": 5}) ||
		!reflect.DeepEqual(u.TokensByDay, map[string]int64{"2026-11-26": 0, "2026-11-27": 75}) {
		t.Errorf("by day: %v %v", u.RequestsByDay, u.TokensByDay)
	}
	if len(u.RequestsByHour) != 24 || u.RequestsByHour["00"] != 4 || u.RequestsByHour["01"] != 1 || u.RequestsByHour["21"] != 1 ||
		u.RequestsByHour["22"] != 1 || u.TokensByHour["00"] != 75 || u.RequestsByHour["12"] != 0 {
		t.Errorf("by hour: %v %v", u.RequestsByHour, u.TokensByHour)
	}

	// In Asia/Kolkata (+05:30) every event falls on the 27th.
	a = getUsage(t, h, "tz=Asia/Kolkata")
	u = &a.Usage
	if !reflect.DeepEqual(u.RequestsByDay, map[string]int64{"2026-11-27": 7}) || u.RequestsByHour["02"] != 1 ||
		u.RequestsByHour["04"] != 1 || u.RequestsByHour["05"] != 3 || u.RequestsByHour["06"] != 2 || u.TokensByHour["05"] != 45 {
		t.Errorf("Kolkata: %v %v %v", u.RequestsByDay, u.RequestsByHour, u.TokensByHour)
	}
	if ts := u.APIs[e1].Models["m1"].Details[0].Timestamp; ts != "2026-11-27T06:40:00+05:30" {
		t.Errorf("Kolkata detail time %s", ts)
	}

	// A period and an upstream.
	a = getUsage(t, h, "from=2026-11-27T00:00:00Z&to=2026-11-27T01:00:00Z")
	if a.Usage.TotalRequests != 4 || countDetails(&a.Usage) != 3 || !a.Truncated {
		t.Errorf("first hour: %d requests, %d details, truncated %v", a.Usage.TotalRequests, countDetails(&a.Usage), a.Truncated)
	}
	a = getUsage(t, h, "upstream=u2")
	if a.Usage.TotalRequests != 2 || countDetails(&a.Usage) != 2 || a.Truncated {
		t.Errorf("u2: %d requests, %d details, truncated %v", a.Usage.TotalRequests, countDetails(&a.Usage), a.Truncated)
	}
	// A date-only period in the zone, and an empty one.
	a = getUsage(t, h, "from=2026-11-26&to=2026-11-27")
	if a.Usage.TotalRequests != 2 || countDetails(&a.Usage) != 2 {
		t.Errorf("the 26th: %+v", a.Usage)
	}
	a = getUsage(t, h, "from=2020-01-01&to=2020-01-02")
	if a.Usage.TotalRequests != 0 || len(a.Usage.APIs) != 0 || a.Truncated || a.Usage.RequestsByDay == nil {
		t.Errorf("empty period: %+v", a)
	}

	// A limit above the event count lists every event, oldest first.
	h = New(Options{Backend: fb, QueryLimit: 100})
	a = getUsage(t, h, "")
	if a.Truncated || countDetails(&a.Usage) != 7 || a.QueryLimit != 100 {
		t.Errorf("limit 100: truncated %v, %d details", a.Truncated, countDetails(&a.Usage))
	}
	ds := a.Usage.APIs[e1].Models["m1"].Details
	for i := 1; i < len(ds); i++ {
		if ds[i-1].Timestamp >= ds[i].Timestamp {
			t.Errorf("details not oldest first: %v", ds)
		}
	}
	// Totals count whole 15-minute buckets; the details follow them, so a
	// period starting at 00:03 lists neither the event of 00:05 nor counts it.
	a = getUsage(t, h, "from=2026-11-27T00:03:00Z")
	if a.Usage.TotalRequests != 3 || countDetails(&a.Usage) != 3 {
		t.Errorf("from 00:03: %d requests, %d details", a.Usage.TotalRequests, countDetails(&a.Usage))
	}

	for _, bad := range []string{"from=2026-11-27&to=2026-11-26", "tz=Mars/Base", "limit=5", "from=yesterday"} {
		rec := compatDo(t, h, http.MethodGet, "/v0/management/usage?"+bad, nil, nil)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"bad_parameter"`) {
			t.Errorf("%s: %d %s", bad, rec.Code, rec.Body)
		}
	}
}

// TestCompatUsageDetailsAreCapped checks the cap over several pages of
// events and that totals still count everything.
func TestCompatUsageDetailsAreCapped(t *testing.T) {
	compatNow(t, t0.Add(time.Hour))
	s := openStore(t)
	evs := benchEvents(2600)
	if _, err := s.Commit(context.Background(), store.Batch{Events: evs}); err != nil {
		t.Fatal(err)
	}
	h := New(Options{Backend: &fakeBackend{s: s}, QueryLimit: 2100})
	a := getUsage(t, h, "")
	if a.Usage.TotalRequests != 2600 || countDetails(&a.Usage) != 2100 || !a.Truncated {
		t.Fatalf("%d requests, %d details, truncated %v", a.Usage.TotalRequests, countDetails(&a.Usage), a.Truncated)
	}
	// The details are the newest 2100 events.
	var newest time.Time
	oldest := t0
	for _, api := range a.Usage.APIs {
		for _, m := range api.Models {
			for _, d := range m.Details {
				ts, err := time.Parse(time.RFC3339Nano, d.Timestamp)
				if err != nil {
					t.Fatal(err)
				}
				oldest = minTime(oldest, ts)
				if ts.After(newest) {
					newest = ts
				}
			}
		}
	}
	var dayReq, hourReq int64
	for _, n := range a.Usage.RequestsByDay {
		dayReq += n
	}
	for _, n := range a.Usage.RequestsByHour {
		hourReq += n
	}
	if dayReq != 2600 || hourReq != 2600 {
		t.Errorf("by day %d, by hour %d", dayReq, hourReq)
	}
	older := 0
	for _, e := range evs {
		if e.Time.Before(oldest) {
			older++
		}
	}
	if older != 500 {
		t.Errorf("%d events are older than the oldest detail, want 500", older)
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// readExport fetches an export and returns its lines, decompressing when
// the answer says gzip.
func readExport(t *testing.T, h *Handler, query string, header map[string]string) (*httptest.ResponseRecorder, []map[string]any, []byte) {
	t.Helper()
	rec := compatDo(t, h, http.MethodGet, "/v0/management/usage/export?"+query, nil, header)
	if rec.Code != http.StatusOK {
		t.Fatalf("export: %d %s", rec.Code, rec.Body)
	}
	body := rec.Body.Bytes()
	if rec.Header().Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	var lines []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		lines = append(lines, l)
	}
	return rec, lines, body
}

func TestCompatExportImportRoundTrip(t *testing.T) {
	h, fb := fixture(t)
	// One event with every optional part.
	extra := usage.Event{
		Hash: hashOf("extra"), Upstream: "u1", Time: m(90).Add(123 * time.Millisecond), RequestID: "not-hex-id",
		AuthIndex: "A9", AuthType: "apikey", Provider: "claude", ExecutorType: "ClaudeExecutor", Model: "claude-x",
		Alias: "cx", Endpoint: "POST /v1/messages", APIKey: usage.Secret{Hash: "hash-k9", Mask: "sk-…k9"},
		Source: usage.Source{Kind: usage.SourceProject, Value: "my-project-1"}, ClientIP: "10.1.1.1", XForwardedFor: "1.2.3.4",
		UserAgent: "claude-cli/2", Failed: true, StatusCode: 529, FailBody: "overloaded", LatencyMS: 1234, TTFTMS: 99,
		ReasoningEffort: "high", ServiceTier: "priority", ResponseServiceTier: "default", AccessTokenSHA256: strings.Repeat("ab", 32),
		Tokens:  usage.Tokens{Uncached: 1, CacheRead: 2, CacheWrite: 3, Output: 4, Reasoning: 5, Unclassified: 6, Quality: usage.QualityUnclassified},
		Headers: map[string]string{"Retry-After": "3", "X-Request-Id": "abc"},
		Account: usage.Account{Label: "Work", Email: "carol@example.com", Provider: "claude", ProjectID: "p", FileName: "claude-carol.json"},
		Cost:    usage.Cost{MicroUSD: 4242, Priced: true},
	}
	if _, err := fb.s.Commit(context.Background(), store.Batch{Events: []usage.Event{extra}}); err != nil {
		t.Fatal(err)
	}
	orig := withoutIDs(storedEvents(t, fb.s))

	rec, lines, body := readExport(t, h, "", nil)
	if ct, cd := rec.Header().Get("Content-Type"), rec.Header().Get("Content-Disposition"); ct != "application/x-ndjson" ||
		cd != `attachment; filename="usage-events.jsonl"` || rec.Header().Get("Content-Encoding") != "" {
		t.Errorf("headers: %v", rec.Header())
	}
	if len(lines) != 8 {
		t.Fatalf("%d lines", len(lines))
	}
	var prev time.Time
	for i, l := range lines {
		if l["schema"] != exportSchema {
			t.Errorf("line %d schema %v", i, l["schema"])
		}
		ts, _ := time.Parse(time.RFC3339Nano, l["time"].(string))
		if ts.Before(prev) {
			t.Errorf("line %d is older than the line before", i)
		}
		prev = ts
	}
	if !bytes.Contains(body, []byte("alice@example.com")) || !bytes.Contains(body, []byte(`"time":"2026-11-27T01:30:00.123Z"`)) {
		t.Errorf("the export masks emails or loses precision:\n%s", body)
	}

	// Into a fresh store: the same events.
	s2 := openStore(t)
	h2 := New(Options{Backend: &fakeBackend{s: s2}})
	code, res := compatImportBody(t, h2, "", body, map[string]string{"Content-Type": "application/x-ndjson"})
	if code != http.StatusOK || res.Format != fmtCPAM || res.Added != 8 || res.Skipped != 0 || res.Failed != 0 || res.Total != 8 {
		t.Fatalf("import: %d %+v", code, res)
	}
	got := withoutIDs(storedEvents(t, s2))
	if !reflect.DeepEqual(got, orig) {
		for i := range got {
			if !reflect.DeepEqual(got[i], orig[i]) {
				t.Errorf("event %d differs:\n got %+v\nwant %+v", i, got[i], orig[i])
			}
		}
		t.FailNow()
	}
	// The rollups follow.
	sum1, _ := fb.s.Summary(context.Background(), store.Filter{})
	sum2, _ := s2.Summary(context.Background(), store.Filter{})
	if sum1 != sum2 {
		t.Errorf("summaries differ: %+v vs %+v", sum1, sum2)
	}
	// Again, into the same store and into the original: nothing added.
	for name, hh := range map[string]*Handler{"copy": h2, "original": h} {
		code, res = compatImportBody(t, hh, "", body, nil)
		if code != http.StatusOK || res.Added != 0 || res.Skipped != 8 || res.Failed != 0 {
			t.Errorf("re-import into the %s: %d %+v", name, code, res)
		}
	}
	if n := len(storedEvents(t, s2)); n != 8 {
		t.Errorf("the copy holds %d events", n)
	}

	// The same lines as a JSON array.
	var arr bytes.Buffer
	arr.WriteString("[\n")
	for i, l := range bytes.Split(bytes.TrimSpace(body), []byte("\n")) {
		if i > 0 {
			arr.WriteString(",\n")
		}
		arr.Write(l)
	}
	arr.WriteString("\n]\n")
	s3 := openStore(t)
	code, res = compatImportBody(t, New(Options{Backend: &fakeBackend{s: s3}}), "", arr.Bytes(), nil)
	if code != http.StatusOK || res.Format != fmtCPAM || res.Added != 8 {
		t.Fatalf("array import: %d %+v", code, res)
	}
	if got := withoutIDs(storedEvents(t, s3)); !reflect.DeepEqual(got, orig) {
		t.Error("the array import differs")
	}
}

func TestCompatExportFiltersAndBatches(t *testing.T) {
	s := openStore(t)
	evs := benchEvents(2500)
	if _, err := s.Commit(context.Background(), store.Batch{Events: evs}); err != nil {
		t.Fatal(err)
	}
	h := New(Options{Backend: &fakeBackend{s: s}})
	from, to := t0.Add(-10*24*time.Hour), t0.Add(-5*24*time.Hour)
	want := 0
	for _, e := range evs {
		if e.Upstream == "cpa-b" && !e.Time.Before(from) && e.Time.Before(to) {
			want++
		}
	}
	for _, c := range []struct {
		query string
		n     int
	}{
		{"", 2500},
		{"upstream=cpa-b&from=" + from.Format(time.RFC3339) + "&to=" + to.Format(time.RFC3339), want},
		{"upstream=nobody", 0},
	} {
		rec, lines, _ := readExport(t, h, c.query, nil)
		if len(lines) != c.n {
			t.Errorf("%q: %d lines, want %d", c.query, len(lines), c.n)
		}
		if rec.Header().Get("Content-Type") != "application/x-ndjson" {
			t.Errorf("%q: headers %v", c.query, rec.Header())
		}
		seen := map[string]bool{}
		var prev time.Time
		for _, l := range lines {
			ts, err := time.Parse(time.RFC3339Nano, l["time"].(string))
			if err != nil || ts.Before(prev) {
				t.Fatalf("%q: not oldest first (%v)", c.query, err)
			}
			prev = ts
			if seen[l["hash"].(string)] {
				t.Fatalf("%q: event twice", c.query)
			}
			seen[l["hash"].(string)] = true
			if c.query != "" && l["upstream"] != "cpa-b" {
				t.Fatalf("%q: upstream %v", c.query, l["upstream"])
			}
		}
	}
	rec := compatDo(t, h, http.MethodGet, "/v0/management/usage/export?bogus=1", nil, nil)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("unknown parameter: %d", rec.Code)
	}
}

func TestCompatExportGzip(t *testing.T) {
	h, _ := fixture(t)
	_, plain, plainBody := readExport(t, h, "", nil)
	rec, zipped, zippedBody := readExport(t, h, "", map[string]string{"Accept-Encoding": "br;q=1.0, gzip;q=0.8"})
	if rec.Header().Get("Content-Encoding") != "gzip" || !strings.Contains(rec.Header().Get("Vary"), "Accept-Encoding") {
		t.Fatalf("headers: %v", rec.Header())
	}
	if bytes.Equal(rec.Body.Bytes(), zippedBody) {
		t.Fatal("the body is not compressed")
	}
	if !bytes.Equal(plainBody, zippedBody) || len(zipped) != len(plain) || len(plain) != 7 {
		t.Error("the decompressed export differs from the plain one")
	}
	rec, _, _ = readExport(t, h, "", map[string]string{"Accept-Encoding": "gzip;q=0, *"})
	if rec.Header().Get("Content-Encoding") != "" {
		t.Error("gzip;q=0 was answered compressed")
	}
	for header, want := range map[string]bool{
		"": false, "gzip": true, "GZIP": true, "deflate, gzip": true, "gzip;q=0": false, "*": true, "*;q=0": false,
		"x-gzip": true, "br": false, "gzip; q=0.5": true, "identity": false,
	} {
		if got := acceptsGzip(header); got != want {
			t.Errorf("acceptsGzip(%q) = %v", header, got)
		}
	}
}

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestCompatImportGzip(t *testing.T) {
	h, _ := fixture(t)
	_, _, body := readExport(t, h, "", nil)
	for name, header := range map[string]map[string]string{
		"Content-Encoding": {"Content-Encoding": "gzip"},
		"magic bytes":      nil,
	} {
		s := openStore(t)
		code, res := compatImportBody(t, New(Options{Backend: &fakeBackend{s: s}}), "", gzipped(t, body), header)
		if code != http.StatusOK || res.Added != 7 || res.Failed != 0 {
			t.Errorf("%s: %d %+v", name, code, res)
		}
	}
	code, res := compatImportBody(t, h, "", []byte("not gzip at all"), map[string]string{"Content-Encoding": "gzip"})
	if code != http.StatusBadRequest || res.Code != "bad_body" {
		t.Errorf("corrupt gzip: %d %+v", code, res)
	}
	rec := compatDo(t, h, http.MethodPost, "/v0/management/usage/import", bytes.NewReader(body), map[string]string{"Content-Encoding": "br"})
	if rec.Code != http.StatusUnsupportedMediaType {
		t.Errorf("brotli: %d %s", rec.Code, rec.Body)
	}
}

// cpaRecord returns a raw CPA record (v7.2 shape) of the simulator.
func cpaRecord(t testing.TB, i int, apiKey string) []byte {
	t.Helper()
	tok := cpasim.DefaultUsage.Tokens()
	r := cpasim.Record{
		Timestamp: t0.Add(time.Duration(i)*time.Second + 613320096), LatencyMs: 7 + int64(i), TTFTMs: 6,
		Source: "sk-mock-upstream-key-0001", AuthIndex: "3805471f4b0ffac9", ClientIP: "127.0.0.1", UserAgent: "curl/7.88.1",
		Tokens: tok, Generate: true, Fail: cpasim.Fail{StatusCode: 200},
		AccountingVersion: cpasim.AccountingVersion,
		TokenBreakdown:    cpasim.BuildBreakdown(cpasim.ProviderFamily("openai-compatible-mock"), tok),
		Provider:          "openai-compatible-mock", ExecutorType: "OpenAICompatExecutor",
		Model: "gpt-5", Alias: "gpt-5", Endpoint: "POST /v1/chat/completions",
		AuthType: "apikey", APIKey: apiKey, RequestID: fmt.Sprintf("%08x", 0xf936c100+i), ServiceTier: "auto",
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCompatImportRawRecordsDedupAgainstIngest(t *testing.T) {
	s := openStore(t)
	norm := compatNormalizer(t)
	fb := &fakeBackend{s: s, norm: norm, cs: []collector.Status{{Upstream: "cpa-main"}}}
	h := New(Options{Backend: fb})
	const clientKey = "sk-client-secret-key-4711"
	var recs [][]byte
	for i := range 5 {
		recs = append(recs, cpaRecord(t, i, clientKey))
	}
	// The collector stored the first three.
	var ingested []usage.Event
	for _, r := range recs[:3] {
		e, err := norm.Normalize("cpa-main", r)
		if err != nil {
			t.Fatal(err)
		}
		ingested = append(ingested, e)
	}
	if _, err := s.Commit(context.Background(), store.Batch{Events: ingested}); err != nil {
		t.Fatal(err)
	}
	body := bytes.Join(recs, []byte("\n"))
	// No upstream parameter: the first configured upstream.
	code, res := compatImportBody(t, h, "", body, map[string]string{"Content-Type": "application/x-ndjson"})
	if code != http.StatusOK || res.Format != fmtRecords || res.Added != 2 || res.Skipped != 3 || res.Failed != 0 {
		t.Fatalf("import: %d %+v", code, res)
	}
	// Under another upstream they are other events.
	code, res = compatImportBody(t, h, "upstream=cpa-old", body, nil)
	if code != http.StatusOK || res.Added != 5 {
		t.Fatalf("import as cpa-old: %d %+v", code, res)
	}
	// Records wrapped in JSON strings, as an array: all known.
	var arr []string
	for _, r := range recs {
		arr = append(arr, string(r))
	}
	wrapped, _ := json.Marshal(arr)
	code, res = compatImportBody(t, h, "upstream=cpa-main", wrapped, nil)
	if code != http.StatusOK || res.Added != 0 || res.Skipped != 5 {
		t.Fatalf("string-wrapped array: %d %+v", code, res)
	}
	evs := storedEvents(t, s)
	if len(evs) != 10 {
		t.Fatalf("%d events stored", len(evs))
	}
	want := norm.Secret(clientKey)
	for _, e := range evs {
		if e.APIKey != want || e.Source.Kind != usage.SourceAPIKey || !e.Cost.Priced {
			t.Errorf("event %+v: key %+v source %+v cost %+v", e.Hash, e.APIKey, e.Source, e.Cost)
		}
	}
	_, _, exp := readExport(t, h, "", nil)
	if bytes.Contains(exp, []byte(clientKey)) || bytes.Contains(exp, []byte("sk-mock-upstream-key-0001")) {
		t.Error("a raw key was stored")
	}
	// Bad upstream names are refused.
	rec := compatDo(t, h, http.MethodPost, "/v0/management/usage/import?upstream=Bad%20Name", bytes.NewReader(body), nil)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("bad upstream: %d %s", rec.Code, rec.Body)
	}
}

func TestCompatImportNeedsNormalizer(t *testing.T) {
	h, _ := fixture(t)
	_, _, export := readExport(t, h, "", nil)
	s := openStore(t)
	h2 := New(Options{Backend: &fakeBackend{s: s}})
	// Our export needs no normaliser...
	if code, res := compatImportBody(t, h2, "", export, nil); code != http.StatusOK || res.Added != 7 {
		t.Fatalf("export without normaliser: %d %+v", code, res)
	}
	// ... raw records do.
	code, res := compatImportBody(t, h2, "", cpaRecord(t, 1, "sk-x"), nil)
	if code != http.StatusServiceUnavailable || res.Code != "unavailable" || !strings.Contains(res.Error, "not running") {
		t.Errorf("records without normaliser: %d %+v", code, res)
	}
	// Lines before the first record are kept and counted.
	mixed := append(append(append([]byte{}, export...), '\n'), cpaRecord(t, 1, "sk-x")...)
	s3 := openStore(t)
	code, res = compatImportBody(t, New(Options{Backend: &fakeBackend{s: s3}}), "", mixed, nil)
	if code != http.StatusServiceUnavailable || res.Added != 7 {
		t.Errorf("mixed without normaliser: %d %+v", code, res)
	}
}

// legacyBody builds a legacy usage object: details under an endpoint and
// under a client API key (older CPA versions).
func legacyBody(apiKey string) map[string]any {
	detail := func(min int, in, out, cached, total int64, failed bool) map[string]any {
		return map[string]any{
			"timestamp": m(min).Format(time.RFC3339Nano), "latency_ms": 120 + min, "source": "dave@example.com",
			"auth_index": "a1b2c3d4e5f60718", "failed": failed,
			"tokens": map[string]any{"input_tokens": in, "output_tokens": out, "reasoning_tokens": 0, "cached_tokens": cached, "total_tokens": total},
		}
	}
	return map[string]any{
		"total_requests": 3, "success_count": 2, "failure_count": 1, "total_tokens": 360,
		"apis": map[string]any{
			"POST /v1/chat/completions": map[string]any{"total_requests": 2, "total_tokens": 300, "models": map[string]any{
				"gpt-5": map[string]any{"total_requests": 2, "total_tokens": 300, "details": []any{
					detail(1, 100, 50, 10, 150, false), detail(2, 100, 50, 0, 150, false),
				}},
			}},
			apiKey: map[string]any{"total_requests": 1, "total_tokens": 60, "models": map[string]any{
				"claude-sonnet-4-5": map[string]any{"total_requests": 1, "total_tokens": 60, "details": []any{
					detail(3, 40, 20, 0, 60, true),
				}},
			}},
		},
		"requests_by_day": map[string]any{"2026-11-27": 3},
	}
}

func TestCompatImportLegacy(t *testing.T) {
	const clientKey = "sk-legacy-client-key-0123456789"
	payload := legacyBody(clientKey)
	payload["failed_requests"] = 1
	exportDoc, err := json.MarshalIndent(map[string]any{"version": 1, "exported_at": t0.Format(time.RFC3339), "usage": legacyBody(clientKey)}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	payloadDoc, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	norm := compatNormalizer(t)
	for _, c := range []struct {
		name, format string
		body         []byte
	}{
		{"export, pretty-printed", fmtLegacyExport, exportDoc},
		{"payload, one line", fmtLegacyPayload, payloadDoc},
	} {
		t.Run(c.name, func(t *testing.T) {
			compatNow(t, t0.Add(time.Hour))
			s := openStore(t)
			h := New(Options{Backend: &fakeBackend{s: s, norm: norm}})
			code, res := compatImportBody(t, h, "upstream=old-cpa", c.body, nil)
			if code != http.StatusOK || res.Format != c.format || res.Added != 3 || res.Failed != 0 || res.Total != 3 {
				t.Fatalf("import: %d %+v", code, res)
			}
			// Both models tell their token accounting: no "unclassified" warning.
			if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "1 legacy details were grouped by client API key") {
				t.Errorf("warnings: %q", res.Warnings)
			}
			for _, w := range append(res.Warnings, res.Error) {
				if strings.Contains(w, clientKey) {
					t.Errorf("the answer echoes the key: %q", w)
				}
			}
			evs := storedEvents(t, s)
			if len(evs) != 3 {
				t.Fatalf("%d events", len(evs))
			}
			byModel := map[string][]store.StoredEvent{}
			for _, e := range evs {
				if e.Upstream != "old-cpa" {
					t.Errorf("upstream %q", e.Upstream)
				}
				byModel[e.Model] = append(byModel[e.Model], e)
			}
			var cacheReads int64
			for _, e := range byModel["gpt-5"] {
				if e.Endpoint != "POST /v1/chat/completions" || !e.APIKey.IsZero() || e.Failed || e.Tokens.Total() != 150 ||
					e.AuthIndex != "a1b2c3d4e5f60718" || e.Source.Value != "dave@example.com" {
					t.Errorf("endpoint detail: %+v", e.Event)
				}
				// OpenAI counts cached tokens inside input: 100 in, 10 cached
				// → 90 uncached + 10 cache reads, 50 out; priced, not unclassified.
				if e.Tokens.Unclassified != 0 || e.Tokens.Output != 50 || e.Tokens.Uncached+e.Tokens.CacheRead != 100 || !e.Cost.Priced {
					t.Errorf("gpt-5 tokens: %+v cost %+v", e.Tokens, e.Cost)
				}
				cacheReads += e.Tokens.CacheRead
			}
			if cacheReads != 10 {
				t.Errorf("gpt-5 cache reads %d, want 10", cacheReads)
			}
			k := byModel["claude-sonnet-4-5"]
			if len(k) != 1 || k[0].Endpoint != "" || k[0].APIKey != norm.Secret(clientKey) || !k[0].Failed || k[0].Tokens.Total() != 60 {
				t.Fatalf("key detail: %+v", k)
			}
			if tok := k[0].Tokens; tok.Uncached != 40 || tok.Output != 20 || tok.Unclassified != 0 {
				t.Errorf("claude tokens: %+v", tok)
			}
			// The raw key appears nowhere: not in the events route, not in
			// the export, not in the aggregate.
			for _, target := range []string{
				"/api/v1/events?reveal=emails&from=2026-11-26T00:00:00Z&to=2026-11-28T00:00:00Z",
				"/v0/management/usage/export",
				"/v0/management/usage",
				"/api/v1/filters?from=2026-11-26T00:00:00Z&to=2026-11-28T00:00:00Z",
			} {
				code, body := get(t, h, target)
				if code != http.StatusOK || bytes.Contains(body, []byte(clientKey)) || bytes.Contains(body, []byte("legacy-client")) {
					t.Errorf("%s: %d, key present: %v", target, code, bytes.Contains(body, []byte(clientKey)))
				}
			}
			// The aggregate shows what was imported.
			a := getUsage(t, h, "")
			if a.Usage.TotalRequests != 3 || a.Usage.APIs["POST /v1/chat/completions"].Models["gpt-5"].TotalRequests != 2 ||
				a.Usage.APIs[unknownKey].Models["claude-sonnet-4-5"].TotalRequests != 1 {
				t.Errorf("aggregate after import: %+v", a.Usage)
			}
			// Importing the same file again adds nothing.
			code, res = compatImportBody(t, h, "upstream=old-cpa", c.body, nil)
			if code != http.StatusOK || res.Added != 0 || res.Skipped != 3 {
				t.Errorf("re-import: %d %+v", code, res)
			}
		})
	}

	// A bad detail fails alone, by index.
	bad := legacyBody(clientKey)
	bad["apis"].(map[string]any)["POST /v1/chat/completions"].(map[string]any)["models"].(map[string]any)["gpt-5"].(map[string]any)["details"].([]any)[1].(map[string]any)["timestamp"] = "yesterday"
	body, _ := json.Marshal(bad)
	s := openStore(t)
	code, res := compatImportBody(t, New(Options{Backend: &fakeBackend{s: s, norm: norm}}), "", body, nil)
	if code != http.StatusOK || res.Added != 2 || res.Failed != 1 || len(res.Errors) != 1 || res.Errors[0].Index == nil ||
		*res.Errors[0].Index != 1 || !strings.Contains(res.Errors[0].Error, "timestamp") {
		t.Errorf("bad detail: %d %+v", code, res)
	}
}

func TestCompatImportAggregateOnly(t *testing.T) {
	h := New(Options{Backend: &fakeBackend{s: openStore(t), norm: compatNormalizer(t)}})
	for name, body := range map[string]string{
		"export":  `{"version":1,"exported_at":"2026-11-27T00:00:00Z","usage":{"total_requests":5,"apis":{"POST /v1/x":{"total_requests":5,"models":{"m":{"total_requests":5,"details":[]}}}}}}`,
		"payload": `{"total_requests":3,"success_count":3,"apis":{},"requests_by_day":{"2026-11-27":3}}`,
		"pretty":  "{\n  \"usage\": {\n    \"total_requests\": 1,\n    \"apis\": {\"k\": {\"models\": {\"m\": {\"total_requests\": 1}}}}\n  }\n}\n",
	} {
		code, res := compatImportBody(t, h, "", []byte(body), nil)
		if code != http.StatusBadRequest || res.Code != "aggregate_only" || !strings.Contains(res.Error, "aggregate-only export") {
			t.Errorf("%s: %d %+v", name, code, res)
		}
	}
}

func TestCompatImportBadLines(t *testing.T) {
	h, _ := fixture(t)
	_, _, export := readExport(t, h, "", nil)
	lines := bytes.Split(bytes.TrimSpace(export), []byte("\n"))
	badHash := bytes.Replace(lines[2], []byte(`"hash":"`), []byte(`"hash":"zz`), 1)
	body := bytes.Join([][]byte{
		lines[0],
		[]byte("this is garbage"),
		[]byte(`{"schema":"cpam.event.v1","time":`),
		{},
		lines[1],
		badHash,
		[]byte(`{"schema":"cpam.event.v2","time":"2026-11-27T00:00:00Z"}`),
		[]byte(`{"schema":"cpam.event.v1","time":"noon"}`),
		[]byte(`{"hello":"world"}`),
		[]byte(`[1,2,3]`),
		[]byte(`{"schema":"cpam.event.v1","time":"2026-11-27T00:00:00Z","latencyMs":"slow"}`),
	}, []byte("\n"))
	s := openStore(t)
	h2 := New(Options{Backend: &fakeBackend{s: s}})
	code, res := compatImportBody(t, h2, "", body, nil)
	if code != http.StatusOK || res.Added != 2 || res.Failed != 8 || res.Total != 10 || res.Format != fmtCPAM {
		t.Fatalf("import: %d %+v", code, res)
	}
	wantLines := []int{2, 3, 6, 7, 8, 9, 10, 11}
	if len(res.Errors) != len(wantLines) {
		t.Fatalf("errors: %+v", res.Errors)
	}
	for i, e := range res.Errors {
		if e.Line != wantLines[i] || e.Index != nil || e.Error == "" {
			t.Errorf("error %d: %+v, want line %d", i, e, wantLines[i])
		}
	}
	for _, want := range []struct {
		i    int
		text string
	}{{0, "not valid JSON"}, {1, "not valid JSON"}, {2, `"hash" must be 32 hex digits`}, {3, "unknown schema"}, {4, "RFC 3339"}, {5, "not a usage record"}, {6, "not a JSON object"}, {7, `"latencyMs" is string, expected an integer`}} {
		if !strings.Contains(res.Errors[want.i].Error, want.text) {
			t.Errorf("error %d %q does not say %q", want.i, res.Errors[want.i].Error, want.text)
		}
	}
	if n := len(storedEvents(t, s)); n != 2 {
		t.Errorf("%d events stored", n)
	}
	// More than 50 failures: 50 listed, the rest counted.
	many := bytes.Repeat([]byte("garbage\n"), 60)
	code, res = compatImportBody(t, h2, "", append(append([]byte{}, lines[0]...), append([]byte("\n"), many...)...), nil)
	if code != http.StatusOK || res.Failed != 60 || len(res.Errors) != 50 || !strings.Contains(strings.Join(res.Warnings, " "), "10 more failures") {
		t.Errorf("many failures: %d failed %d, %d listed, warnings %q", code, res.Failed, len(res.Errors), res.Warnings)
	}
}

func TestCompatImportUnknownFormat(t *testing.T) {
	h := New(Options{Backend: &fakeBackend{s: openStore(t), norm: compatNormalizer(t)}})
	for name, c := range map[string]struct {
		body, code string
	}{
		"empty":         {"", "empty_body"},
		"blank":         {"  \n\n ", "empty_body"},
		"text":          {"hello world\n", "unknown_format"},
		"object":        {`{"hello":"world"}`, "unknown_format"},
		"objects":       {"{\"a\":1}\n{\"b\":2}\n", "unknown_format"},
		"empty array":   {"[]", "unknown_format"},
		"number array":  {"[1,2]", "unknown_format"},
		"csv":           {"timestamp,model\n2026-11-27,gpt\n", "unknown_format"},
		"gzipped empty": {string(gzipped(t, nil)), "empty_body"},
	} {
		code, res := compatImportBody(t, h, "", []byte(c.body), nil)
		if code != http.StatusBadRequest || res.Code != c.code || !strings.Contains(res.Error, "cpam.event.v1") {
			t.Errorf("%s: %d %+v", name, code, res)
		}
	}
}

func TestCompatImportTruncatedDocument(t *testing.T) {
	h := New(Options{Backend: &fakeBackend{s: openStore(t), norm: compatNormalizer(t)}})
	code, res := compatImportBody(t, h, "", []byte("{\n  \"usage\": {\n"), nil)
	if code != http.StatusBadRequest || res.Code != "bad_body" || !strings.Contains(res.Error, "ends early") {
		t.Errorf("truncated document: %d %+v", code, res)
	}
	// A truncated array keeps the complete elements.
	_, _, export := readExport(t, func() *Handler { h, _ := fixture(t); return h }(), "", nil)
	lines := bytes.Split(bytes.TrimSpace(export), []byte("\n"))
	body := append(append(append([]byte("["), lines[0]...), ',', '\n'), lines[1][:20]...)
	code, res = compatImportBody(t, h, "", body, nil)
	if code != http.StatusBadRequest || res.Code != "bad_body" || res.Added != 1 {
		t.Errorf("truncated array: %d %+v", code, res)
	}
}

// failingReader fails the test when the handler reads the body.
type failingReader struct{ t *testing.T }

func (f failingReader) Read([]byte) (int, error) {
	f.t.Error("the body was read")
	return 0, io.EOF
}

// chunked hides the length of a body, as a chunked upload does.
type chunked struct{ r io.Reader }

func (c chunked) Read(p []byte) (int, error) { return c.r.Read(p) }

func TestCompatImportTooLarge(t *testing.T) {
	h0, _ := fixture(t)
	_, _, export := readExport(t, h0, "", nil)
	lines := bytes.Split(bytes.TrimSpace(export), []byte("\n"))
	limit := int64(len(lines[0]) + len(lines[1]) + len(lines[2]) + 3 + 10) // three lines and a bit
	s := openStore(t)
	h := New(Options{Backend: &fakeBackend{s: s}, MaxImportSize: limit})

	// A declared length over the limit: refused before reading.
	r := httptest.NewRequest(http.MethodPost, "/v0/management/usage/import", failingReader{t})
	r.ContentLength = limit + 1
	rec := httptest.NewRecorder()
	h.mux.ServeHTTP(rec, r)
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), `"too_large"`) {
		t.Errorf("Content-Length over the limit: %d %s", rec.Code, rec.Body)
	}

	// A chunked body: what came before the limit is imported and counted.
	r = httptest.NewRequest(http.MethodPost, "/v0/management/usage/import", chunked{bytes.NewReader(export)})
	r.ContentLength = -1
	rec = httptest.NewRecorder()
	h.mux.ServeHTTP(rec, r)
	var out importResultBody
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusRequestEntityTooLarge || out.Code != "too_large" || out.Added != 3 || out.Total != 3 {
		t.Errorf("chunked over the limit: %d %+v", rec.Code, out)
	}
	if n := len(storedEvents(t, s)); n != 3 {
		t.Errorf("%d events stored", n)
	}

	// Compressed under the limit, decompressed over it.
	big := bytes.Repeat(append(append([]byte{}, lines[0]...), '\n'), 50)
	z := gzipped(t, big)
	if int64(len(z)) >= limit {
		t.Fatalf("the compressed body (%d bytes) is not under the limit", len(z))
	}
	code, res := compatImportBody(t, h, "", z, map[string]string{"Content-Encoding": "gzip"})
	if code != http.StatusRequestEntityTooLarge || res.Code != "too_large" || res.Skipped == 0 {
		t.Errorf("gzip bomb: %d %+v", code, res)
	}
}

// TestCompatImportCSRF checks that a panel can upload NDJSON with its
// header under a session cookie, and that the rule still holds without it.
func TestCompatImportCSRF(t *testing.T) {
	e := newAuthEnv(t, AuthConfig{AdminKey: testAdminKey})
	cookie := e.login(testAdminKey, "")
	ev := store.StoredEvent{ID: 1, Event: usage.Event{Hash: hashOf("csrf"), Upstream: "u", Time: t0, Model: "m"}}
	line, _ := json.Marshal(exportLine{Schema: exportSchema, eventJSON: eventView(&ev, time.UTC, true)})
	ndjson := map[string]string{"Content-Type": "application/x-ndjson"}
	rec := e.do(req{method: http.MethodPost, path: "/v0/management/usage/import", body: string(line), header: ndjson, cookie: cookie})
	if rec.Code != http.StatusForbidden || codeOf(t, rec) != "csrf" {
		t.Errorf("without the panel header: %d %s", rec.Code, rec.Body)
	}
	rec = e.do(req{method: http.MethodPost, path: "/v0/management/usage/import", body: string(line),
		header: map[string]string{"Content-Type": "application/x-ndjson", CSRFHeader: "1"}, cookie: cookie})
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"added":1`) {
		t.Errorf("with the panel header: %d %s", rec.Code, rec.Body)
	}
	rec = e.do(req{path: "/v0/management/usage/export", cookie: cookie})
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), exportSchema) {
		t.Errorf("export by session: %d %s", rec.Code, rec.Body)
	}
	rec = e.do(req{path: "/v0/management/usage"})
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("aggregate without credentials: %d", rec.Code)
	}
}

func TestServeUsageCompat(t *testing.T) {
	compatNow(t, t0.Add(48*time.Hour))
	h, _ := fixture(t)
	serve := func(method, path string, body io.Reader) (*httptest.ResponseRecorder, bool) {
		r := httptest.NewRequest(method, "/v0/management"+path, body)
		r.URL.Path = path
		rec := httptest.NewRecorder()
		return rec, h.ServeUsageCompat(rec, r)
	}
	rec, ok := serve(http.MethodGet, "/usage", nil)
	if !ok || rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"total_requests":7`) {
		t.Errorf("/usage: %v %d %s", ok, rec.Code, rec.Body)
	}
	rec, ok = serve(http.MethodGet, "/usage/export", nil)
	if !ok || rec.Code != http.StatusOK || strings.Count(rec.Body.String(), "\n") != 7 {
		t.Errorf("/usage/export: %v %d", ok, rec.Code)
	}
	export := rec.Body.String()
	rec, ok = serve(http.MethodPost, "/usage/import", strings.NewReader(export))
	if !ok || rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"skipped":7`) {
		t.Errorf("/usage/import: %v %d %s", ok, rec.Code, rec.Body)
	}
	for _, c := range []struct{ method, path string }{
		{http.MethodPost, "/usage"}, {http.MethodGet, "/usage/import"}, {http.MethodDelete, "/usage/export"},
		{http.MethodGet, "/usage/"}, {http.MethodGet, "/config"}, {http.MethodGet, "/usage-queue"},
	} {
		rec, ok := serve(c.method, c.path, nil)
		if ok || rec.Body.Len() != 0 || len(rec.Header()) != 0 {
			t.Errorf("%s %s: served=%v, wrote %d %v", c.method, c.path, ok, rec.Body.Len(), rec.Header())
		}
	}
}

// discardWriter is a ResponseWriter that throws the body away.
type discardWriter struct {
	h http.Header
	n int64
}

func (d *discardWriter) Header() http.Header { return d.h }
func (d *discardWriter) WriteHeader(int)     {}
func (d *discardWriter) Write(p []byte) (int, error) {
	d.n += int64(len(p))
	return len(p), nil
}

// BenchmarkExport streams 100,000 events through the export route and
// reports events per second: "ingest-order" stores them in time order, as
// live collection does (row ids follow time), "random-order" in random
// order, as after imports of old data (every row is a random lookup).
func BenchmarkExport(b *testing.B) {
	const n = 100_000
	for _, order := range []string{"ingest-order", "random-order"} {
		s := openStore(b)
		evs := benchEvents(n)
		if order == "ingest-order" {
			slices.SortFunc(evs, func(a, b usage.Event) int { return a.Time.Compare(b.Time) })
		}
		for i := 0; i < len(evs); i += 10_000 {
			if _, err := s.Commit(context.Background(), store.Batch{Events: evs[i:min(i+10_000, len(evs))]}); err != nil {
				b.Fatal(err)
			}
		}
		// Finish the background compaction the commits started, so it
		// does not compete with the export for CPU while it is measured.
		if _, err := s.Compact(context.Background()); err != nil {
			b.Fatal(err)
		}
		h := New(Options{Backend: &fakeBackend{s: s}})
		for _, enc := range []string{"plain", "gzip"} {
			b.Run(order+"/"+enc, func(b *testing.B) {
				req := httptest.NewRequest(http.MethodGet, "/v0/management/usage/export", nil)
				if enc == "gzip" {
					req.Header.Set("Accept-Encoding", "gzip")
				}
				var bytesOut int64
				for b.Loop() {
					w := &discardWriter{h: http.Header{}}
					h.mux.ServeHTTP(w, req)
					if w.n == 0 {
						b.Fatal("empty export")
					}
					bytesOut = w.n
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
				b.ReportMetric(float64(bytesOut)/n, "bytes/event")
			})
		}
	}
}
