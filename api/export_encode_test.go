package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cpam-caddy/cpam/store"
	"github.com/cpam-caddy/cpam/usage"
)

// referenceExportLine renders e as the export did before the fast
// encoder: encoding/json, HTML escaping off.
func referenceExportLine(e *store.StoredEvent) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(exportLine{Schema: exportSchema, eventJSON: eventView(e, time.UTC, true)})
	return buf.Bytes(), err
}

// checkExportLine fails t unless the fast encoder renders e byte for byte
// as encoding/json does. When fast is set the fast path itself must take
// the event: a fallback to encoding/json would hide its bugs.
func checkExportLine(t *testing.T, x *exportEncoder, e *store.StoredEvent, fast bool) {
	t.Helper()
	want, wantErr := referenceExportLine(e)
	prefix := []byte("prefix\n")
	got, err := x.appendLine(slices.Clone(prefix), e)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("event %+v:\nerror %v, encoding/json says %v", e, err, wantErr)
	}
	if !bytes.HasPrefix(got, prefix) {
		t.Fatalf("the encoder lost what the buffer held: %q", got)
	}
	got = got[len(prefix):]
	if err != nil {
		if len(got) != 0 {
			t.Fatalf("a failed line appended %q", got)
		}
		return
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("event %+v:\n got %s\nwant %s", e, got, want)
	}
	if fast {
		if line, ok := x.appendFast(nil, e); !ok || !bytes.Equal(line, want) {
			t.Fatalf("the fast path refused or differs (ok=%v) on %+v:\n got %s\nwant %s", ok, e, line, want)
		}
	}
}

// nastyStrings are strings that stress JSON string escaping.
var nastyStrings = func() []string {
	out := []string{
		"", "plain", `quo"te`, `back\slash`, `\"`, "<script>&amp;</script>", "\x7f", "del\x7fend",
		"\u2028", "\u2029", "a\u2028b\u2029c", "\u2027\u202a", "😀", "日本語", "é", "a\u0000b",
		"\xff", "\xc3", "\xc3\x28", "\xe2\x80", "\xe2\x80\xa8", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xef\xbf\xbd",
		"ok\xffok\xfe", "trailing\xe2", "\xf0\x9f\x98", "carol@example.com", "POST /v1/chat/completions",
		strings.Repeat("long ", 100), "\t\n\r\b\f", "\\u2028",
	}
	for b := 0; b < 0x20; b++ {
		out = append(out, string(rune(b)), "x"+string(rune(b))+"y")
	}
	return out
}()

// randomString returns a nasty string, random bytes or random runes.
func randomString(r *rand.Rand) string {
	switch r.IntN(4) {
	case 0, 1:
		return nastyStrings[r.IntN(len(nastyStrings))]
	case 2:
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		return string(b)
	default:
		var sb strings.Builder
		for n := r.IntN(8); n > 0; n-- {
			switch r.IntN(4) {
			case 0:
				sb.WriteRune(rune(r.IntN(0x80)))
			case 1:
				sb.WriteRune(rune(0x2020 + r.IntN(16)))
			default:
				sb.WriteRune(rune(r.IntN(0x110000)))
			}
		}
		return sb.String()
	}
}

// randomInt returns an extreme or a random int64.
func randomInt(r *rand.Rand) int64 {
	edges := []int64{0, 1, -1, 999999, 1000000, 1000001, 123456, math.MaxInt64, math.MinInt64, math.MaxInt32, 1 << 53, -(1 << 53)}
	if r.IntN(2) == 0 {
		return edges[r.IntN(len(edges))]
	}
	return r.Int64() >> r.IntN(64) * int64(1-2*r.IntN(2))
}

// randomEvent builds an event with every part optional and strings from
// randomString.
func randomEvent(r *rand.Rand) store.StoredEvent {
	str := func() string {
		if r.IntN(3) == 0 {
			return ""
		}
		return randomString(r)
	}
	secret := func() usage.Secret {
		switch r.IntN(3) {
		case 0:
			return usage.Secret{}
		case 1:
			return usage.Secret{Mask: str()} // no hash: absent
		default:
			return usage.Secret{Hash: randomString(r) + "h", Mask: str()}
		}
	}
	var e store.StoredEvent
	e.ID = randomInt(r)
	for i := range e.Hash {
		e.Hash[i] = byte(r.UintN(256))
	}
	zones := []*time.Location{time.UTC, time.FixedZone("X", 5*3600+1800), time.FixedZone("Y", -7*3600)}
	e.Time = time.Date(r.IntN(10000), time.Month(1+r.IntN(12)), 1+r.IntN(31), r.IntN(24), r.IntN(60), r.IntN(60),
		[]int{0, 0, r.IntN(1000) * 1e6, r.IntN(1e9), 1e8, 120e6}[r.IntN(6)], zones[r.IntN(len(zones))])
	switch y := e.Time.In(time.UTC).Year(); {
	case y < 0: // year 0 east of UTC
		e.Time = e.Time.AddDate(1, 0, 0)
	case y > 9999: // year 9999 west of UTC
		e.Time = e.Time.AddDate(-1, 0, 0)
	}
	e.Upstream, e.RequestID, e.AuthIndex, e.AuthType = str(), str(), str(), str()
	e.Provider, e.ExecutorType, e.Model, e.Alias, e.Endpoint = str(), str(), str(), str(), str()
	e.APIKey = secret()
	switch r.IntN(4) {
	case 0:
	case 1:
		e.Source = usage.Source{Kind: usage.SourceEmail, Value: str()}
	default:
		e.Source = usage.Source{Kind: str(), Key: secret(), Value: str()}
	}
	if r.IntN(2) == 0 {
		e.Account = usage.Account{Label: str(), Email: str(), Provider: str(), ProjectID: str(), FileName: str()}
	}
	e.ClientIP, e.XForwardedFor, e.UserAgent = str(), str(), str()
	e.Failed, e.StatusCode, e.FailBody = r.IntN(2) == 0, int(randomInt(r)), str()
	e.LatencyMS, e.TTFTMS, e.Generate = randomInt(r), randomInt(r), r.IntN(2) == 0
	e.ReasoningEffort, e.ServiceTier, e.ResponseServiceTier, e.AccessTokenSHA256 = str(), str(), str(), str()
	e.Tokens = usage.Tokens{Uncached: randomInt(r), CacheRead: randomInt(r), CacheWrite: randomInt(r), Output: randomInt(r),
		Reasoning: randomInt(r), Unclassified: randomInt(r), Quality: str()}
	switch r.IntN(3) {
	case 0:
	case 1:
		e.Headers = map[string]string{}
	default:
		e.Headers = map[string]string{}
		for n := 1 + r.IntN(5); n > 0; n-- {
			e.Headers[randomString(r)] = str()
		}
	}
	e.Cost = usage.Cost{MicroUSD: randomInt(r), Priced: r.IntN(2) == 0}
	return e
}

func TestExportLineMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var x exportEncoder
	for range 20000 {
		e := randomEvent(r)
		checkExportLine(t, &x, &e, true)
	}
	// Every nasty string in every string field, headers included.
	for _, s := range nastyStrings {
		e := randomEvent(r)
		e.Upstream, e.Model, e.FailBody, e.XForwardedFor = s, s, s, s
		e.Source = usage.Source{Kind: s, Key: usage.Secret{Hash: s + "h", Mask: s}, Value: s}
		e.Account = usage.Account{Label: s, Email: s, FileName: s}
		e.Headers = map[string]string{s: s, s + "2": "", "Retry-After": s}
		checkExportLine(t, &x, &e, true)
	}
	// Costs and counters at the edges.
	for _, micro := range []int64{0, 1, -1, 10, 100, 123456, 1e6, 1e6 + 1, 123456789012, 1e15, 1e18, math.MaxInt64, math.MinInt64} {
		e := randomEvent(r)
		e.Cost.MicroUSD = micro
		checkExportLine(t, &x, &e, true)
	}
	// Empty values everywhere: nulls and omitted fields.
	checkExportLine(t, &x, &store.StoredEvent{Event: usage.Event{Time: time.UnixMilli(0).UTC()}}, true)
	checkExportLine(t, &x, &store.StoredEvent{}, true)
	// Years without an RFC 3339 form: encoding/json fails, so must the
	// encoder, leaving the buffer as it was.
	for _, tm := range []time.Time{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 12, 31, 0, 0, 0, 0, time.UTC),
		time.UnixMilli(math.MaxInt64), time.UnixMilli(math.MinInt64)} {
		e := randomEvent(r)
		e.Time = tm
		checkExportLine(t, &x, &e, false)
	}
}

func TestAppendJSONFloat(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	values := []float64{0, math.Copysign(0, -1), 1, -1, 1e-6, 1e-7, -1e-7, 1.5e-7, 9.99999e-7, 1e-9, 1.5e-10, 1e-100,
		5e-324, 1e20, 1e21, -1e21, 1e22, 1.2345e25, 1e100, math.MaxFloat64, math.SmallestNonzeroFloat64, 123456,
		0.000001, 0.1, 0.3, 1.0 / 3, 9.2233720368547758e12}
	for range 20000 {
		values = append(values, math.Float64frombits(r.Uint64()), float64(r.Int64())/1e6, r.NormFloat64()*math.Pow(10, float64(r.IntN(60)-30)))
	}
	for _, f := range values {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		want, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONFloat(nil, f); !bytes.Equal(got, want) {
			t.Fatalf("%v (%x): got %s, want %s", f, math.Float64bits(f), got, want)
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	strs := slices.Clone(nastyStrings)
	for range 50000 {
		strs = append(strs, randomString(r))
	}
	for _, s := range strs {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		want := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	}
}

// TestExportOutputUnchanged exports stored events with nasty strings
// through the route, plain and gzip, and compares the body with what
// encoding/json makes of the same events.
func TestExportOutputUnchanged(t *testing.T) {
	s := openStore(t)
	r := rand.New(rand.NewPCG(7, 8))
	var evs []usage.Event
	for i := range 2600 {
		e := randomEvent(r).Event
		e.Hash = hashOf("unchanged", i)
		e.Time = t0.Add(-time.Duration(r.Int64N(int64(48 * time.Hour)))).Truncate(time.Millisecond)
		if i%7 == 0 {
			e.Time = t0 // a run of equal times: the order falls back to the id
		}
		e.Tokens = usage.Tokens{Uncached: r.Int64N(1e6), Output: r.Int64N(1e5), Quality: []string{"", usage.QualityComplete}[r.IntN(2)]}
		e.Cost.MicroUSD = r.Int64N(1e7)
		e.RequestID = []string{"", "0000abcd", "not-hex", "\u2028"}[r.IntN(4)]
		e.AuthType = []string{"apikey", "oauth", "unknown"}[r.IntN(3)]
		if r.IntN(2) == 0 {
			e.Source = usage.Source{Kind: usage.SourceEmail, Value: randomString(r)}
		}
		evs = append(evs, e)
	}
	if _, err := s.Commit(context.Background(), store.Batch{Events: evs}); err != nil {
		t.Fatal(err)
	}
	stored := storedEvents(t, s)
	slices.Reverse(stored)
	var want []byte
	for i := range stored {
		line, err := referenceExportLine(&stored[i])
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, line...)
	}
	if len(stored) < 2500 {
		t.Fatalf("stored %d events", len(stored))
	}
	h := New(Options{Backend: &fakeBackend{s: s}})
	for _, enc := range []string{"", "gzip"} {
		rec := compatDo(t, h, http.MethodGet, "/v0/management/usage/export", nil, map[string]string{"Accept-Encoding": enc})
		body := rec.Body.Bytes()
		if enc == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if body, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		if rec.Code != http.StatusOK || !bytes.Equal(body, want) {
			t.Errorf("%q: status %d, %d bytes, want %d bytes identical to encoding/json", enc, rec.Code, len(body), len(want))
		}
	}
}

func FuzzExportLine(f *testing.F) {
	for i, s := range nastyStrings {
		f.Add(s, nastyStrings[(i+1)%len(nastyStrings)], int64(i)*7919, int64(-i), int64(1e6+i), uint8(i))
	}
	f.Add("", "", int64(math.MaxInt64), int64(math.MinInt64), int64(253402300799999), uint8(255))
	f.Add("k", "v", int64(1), int64(-1), int64(-62135596800001), uint8(0))
	f.Fuzz(func(t *testing.T, a, b string, n, micro, ms int64, bits uint8) {
		e := store.StoredEvent{ID: n, Event: usage.Event{
			Time: time.UnixMilli(ms), Upstream: a, RequestID: b, AuthIndex: a + b, Model: b, Endpoint: a,
			ClientIP: b, UserAgent: a, StatusCode: int(n), LatencyMS: micro, TTFTMS: -n,
			Failed: bits&1 != 0, Generate: bits&2 != 0, Cost: usage.Cost{MicroUSD: micro, Priced: bits&4 != 0},
			Tokens: usage.Tokens{Uncached: n, Output: micro, Quality: b},
		}}
		e.Time = e.Time.Add(time.Duration(bits)) // sub-millisecond digits too
		if bits&8 != 0 {
			e.APIKey = usage.Secret{Hash: a, Mask: b}
			e.XForwardedFor, e.FailBody = b, a
		}
		if bits&16 != 0 {
			e.Source = usage.Source{Kind: a, Key: usage.Secret{Hash: b, Mask: a}, Value: b}
		}
		if bits&32 != 0 {
			e.Account = usage.Account{Label: a, Email: b, Provider: a, ProjectID: b, FileName: a}
		}
		if bits&64 != 0 {
			e.Headers = map[string]string{a: b, b: a, "Retry-After": a}
		}
		if bits&128 != 0 {
			e.ReasoningEffort, e.ServiceTier, e.ResponseServiceTier, e.AccessTokenSHA256 = a, b, a, b
		}
		copy(e.Hash[:], a+b)
		var x exportEncoder
		y := e.Time.UTC().Year()
		checkExportLine(t, &x, &e, y >= 0 && y <= 9999)
		// Any finite float, not only the costs events can have.
		if fl := math.Float64frombits(uint64(n)); !math.IsNaN(fl) && !math.IsInf(fl, 0) {
			want, err := json.Marshal(fl)
			if got := appendJSONFloat(nil, fl); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("float %x: got %s, want %s (%v)", n, got, want, err)
			}
		}
	})
}

// failingWriter is a ResponseWriter whose body writes fail after limit
// bytes, as when the client goes away; cancel, when set, is called then.
type failingWriter struct {
	h      http.Header
	n      int
	limit  int
	cancel context.CancelFunc
}

func (w *failingWriter) Header() http.Header { return w.h }
func (w *failingWriter) WriteHeader(int)     {}
func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n+len(p) > w.limit {
		if w.cancel != nil {
			w.cancel()
		}
		return 0, io.ErrClosedPipe
	}
	w.n += len(p)
	return len(p), nil
}

// TestExportClientGoneStopsReader checks that an export whose client goes
// away (a failing write, a cancelled request) returns without a panic and
// leaves no read-ahead goroutine behind.
func TestExportClientGoneStopsReader(t *testing.T) {
	s := openStore(t)
	if _, err := s.Commit(context.Background(), store.Batch{Events: benchEvents(5500)}); err != nil {
		t.Fatal(err)
	}
	h := New(Options{Backend: &fakeBackend{s: s}})
	for _, c := range []struct {
		name   string
		cancel bool
		gzip   bool
		limit  int
	}{
		{"write fails", false, false, 1000 * 600},
		{"write fails at once", false, false, 0},
		{"gzip write fails", false, true, 10},
		{"request cancelled", true, false, 2500 * 600},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		req := httptest.NewRequest(http.MethodGet, "/v0/management/usage/export", nil).WithContext(ctx)
		if c.gzip {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		w := &failingWriter{h: http.Header{}, limit: c.limit}
		if c.cancel {
			w.cancel = cancel
		}
		h.mux.ServeHTTP(w, req)
		cancel()
		buf := make([]byte, 1<<20)
		if stacks := string(buf[:runtime.Stack(buf, true)]); strings.Contains(stacks, "readEventBatches") {
			t.Fatalf("%s: the read-ahead goroutine outlived the export:\n%s", c.name, stacks)
		}
	}
}
