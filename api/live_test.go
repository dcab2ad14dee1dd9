package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cpam-caddy/cpam/internal/ssetest"
	"github.com/cpam-caddy/cpam/store"
	"github.com/cpam-caddy/cpam/usage"
)

const liveAdminKey = "live-admin-key-0123456789"

// liveEnv is an API handler on a real store behind a real HTTP server.
type liveEnv struct {
	h   *Handler
	st  *store.Store
	srv *httptest.Server

	mu       sync.Mutex
	observed map[string]int
}

func newLiveEnv(t *testing.T) *liveEnv {
	t.Helper()
	st := openStore(t)
	auth := NewAuth(AuthOptions{Store: st})
	auth.SetConfig(AuthConfig{AdminKey: liveAdminKey})
	e := &liveEnv{st: st, observed: map[string]int{}}
	e.h = New(Options{Backend: &fakeBackend{s: st}, Auth: auth, ObserveQuery: func(route string, d time.Duration) {
		e.mu.Lock()
		e.observed[route]++
		e.mu.Unlock()
	}})
	e.srv = httptest.NewServer(e.h)
	t.Cleanup(func() {
		e.h.Close()
		e.srv.Close()
	})
	return e
}

// liveConn is an open stream.
type liveConn struct {
	resp   *http.Response
	frames chan ssetest.Frame
	cancel context.CancelFunc
}

// open connects to /api/v1/live?query; it fails the test unless the answer
// is 200 with the SSE headers, and reads the retry frame.
func (e *liveEnv) open(t *testing.T, query string, hdr http.Header) *liveConn {
	t.Helper()
	resp, cancel := e.request(t, query, hdr)
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		cancel()
		t.Fatalf("live?%s: %d %s", query, resp.StatusCode, body)
	}
	for k, v := range map[string]string{"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"} {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	c := &liveConn{resp: resp, frames: make(chan ssetest.Frame, 100), cancel: cancel}
	go ssetest.Read(resp.Body, c.frames)
	t.Cleanup(func() {
		cancel()
		resp.Body.Close()
	})
	if f := c.next(t, 5*time.Second); f.Retry != "3000" {
		t.Fatalf("first frame %+v, want retry: 3000", f)
	}
	return c
}

// request sends GET /api/v1/live with the admin key; the caller reads or
// closes the answer.
func (e *liveEnv) request(t *testing.T, query string, hdr http.Header) (*http.Response, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+"/api/v1/live?"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if req.Header.Get("Authorization") == "" {
		req.Header.Set("Authorization", "Bearer "+liveAdminKey)
	} else if req.Header.Get("Authorization") == "none" {
		req.Header.Del("Authorization")
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	return resp, cancel
}

// next returns the next frame that is not a comment; it fails the test
// after timeout or when the stream ends.
func (c *liveConn) next(t *testing.T, timeout time.Duration) ssetest.Frame {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				t.Fatal("the stream ended")
			}
			if f.Comment {
				continue
			}
			return f
		case <-deadline:
			t.Fatalf("no frame within %v", timeout)
		}
	}
}

// quiet fails the test if a frame other than a comment arrives within d.
func (c *liveConn) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				t.Fatal("the stream ended")
			}
			if !f.Comment {
				t.Fatalf("unexpected frame %+v", f)
			}
		case <-deadline:
			return
		}
	}
}

// events decodes an events frame.
func (c *liveConn) events(t *testing.T, timeout time.Duration) (int64, []eventJSON) {
	t.Helper()
	f := c.next(t, timeout)
	if f.Event != "events" {
		t.Fatalf("frame %+v, want an events frame", f)
	}
	var evs []eventJSON
	if err := json.Unmarshal([]byte(f.Data), &evs); err != nil {
		t.Fatalf("data %q: %v", f.Data, err)
	}
	id, err := strconv.ParseInt(f.ID, 10, 64)
	if err != nil || len(evs) == 0 || id != evs[len(evs)-1].ID {
		t.Fatalf("frame id %q does not name its last event (%d events)", f.ID, len(evs))
	}
	return id, evs
}

// liveEvent makes event i.
func liveEvent(i int, model string, failed bool) usage.Event {
	return usage.Event{Hash: hashOf("live", i), Upstream: "u1", Time: t0.Add(time.Duration(i) * time.Second),
		RequestID: fmt.Sprintf("%08x", i), Model: model, Alias: model, Provider: "p1", AuthIndex: "A1",
		Endpoint: "POST /v1/chat/completions", Failed: failed, StatusCode: 200, LatencyMS: int64(i),
		Account: usage.Account{Email: "alice@example.com"}}
}

func commit(t *testing.T, st *store.Store, evs ...usage.Event) {
	t.Helper()
	if _, err := st.Commit(context.Background(), store.Batch{Events: evs}); err != nil {
		t.Fatal(err)
	}
}

func TestLiveStreamsNewEvents(t *testing.T) {
	e := newLiveEnv(t)
	e.h.liveHub.poll = time.Minute // only the change signal can deliver in time
	commit(t, e.st, liveEvent(1, "m1", false))

	c := e.open(t, "", nil)
	// Events stored before the stream opened are not sent.
	c.quiet(t, 300*time.Millisecond)

	start := time.Now()
	commit(t, e.st, liveEvent(2, "m1", false), liveEvent(3, "m2", true))
	id, evs := c.events(t, 3*time.Second)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("delivered after %v", d)
	}
	if len(evs) != 2 || evs[0].LatencyMS != 2 || evs[1].LatencyMS != 3 || evs[1].ID != id {
		t.Fatalf("events %+v", evs)
	}
	if evs[0].Account == nil || evs[0].Account.Email == "alice@example.com" {
		t.Errorf("email not masked: %+v", evs[0].Account)
	}
	// A late event with an older time comes next: the feed follows storage.
	old := liveEvent(4, "m1", false)
	old.Time = t0.Add(-48 * time.Hour)
	commit(t, e.st, old)
	if id2, evs := c.events(t, 3*time.Second); len(evs) != 1 || evs[0].LatencyMS != 4 || id2 <= id {
		t.Fatalf("late event: id %d, %+v", id2, evs)
	}
	// Duplicates send nothing.
	commit(t, e.st, old)
	c.quiet(t, 400*time.Millisecond)

	// The stream is not a query: no latency observation for it, one for
	// other routes.
	e.mu.Lock()
	obs := e.observed[livePattern]
	e.mu.Unlock()
	if obs != 0 {
		t.Errorf("the live stream was observed %d times", obs)
	}
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/api/v1/summary", nil)
	req.Header.Set("Authorization", "Bearer "+liveAdminKey)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	e.mu.Lock()
	obs = e.observed["GET /api/v1/summary"]
	e.mu.Unlock()
	if resp.StatusCode != 200 || obs != 1 {
		t.Errorf("summary: %d, observed %d times", resp.StatusCode, obs)
	}

	// Without credentials: 401.
	resp, cancel := e.request(t, "", http.Header{"Authorization": {"none"}})
	resp.Body.Close()
	cancel()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without credentials: %d", resp.StatusCode)
	}

	// A client that leaves frees its slot.
	c.cancel()
	waitUntil(t, "the stream to end", func() bool { return e.h.liveHub.open() == 0 })
}

func TestLivePollsForCommitsItWasNotTold(t *testing.T) {
	e := newLiveEnv(t)
	e.h.liveHub.poll = 200 * time.Millisecond
	// A second Store on the same file commits without this store's signal.
	other, err := store.Open(context.Background(), e.st.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	c := e.open(t, "", nil)
	commit(t, other, liveEvent(1, "m1", false))
	if _, evs := c.events(t, 3*time.Second); len(evs) != 1 || evs[0].LatencyMS != 1 {
		t.Fatalf("events %+v", evs)
	}
}

func TestLiveResumes(t *testing.T) {
	e := newLiveEnv(t)
	commit(t, e.st, liveEvent(1, "m1", false), liveEvent(2, "m1", false), liveEvent(3, "m1", false))
	all, err := e.st.EventsAfter(context.Background(), store.Filter{}, 0, 10)
	if err != nil || len(all) != 3 {
		t.Fatal(len(all), err)
	}

	// Last-Event-ID (what EventSource sends) wins over the after parameter.
	c := e.open(t, "after=0", http.Header{"Last-Event-ID": {strconv.FormatInt(all[0].ID, 10)}})
	id, evs := c.events(t, 3*time.Second)
	if len(evs) != 2 || evs[0].ID != all[1].ID || id != all[2].ID {
		t.Fatalf("resumed after #1: %+v", evs)
	}
	commit(t, e.st, liveEvent(4, "m1", false))
	if _, evs := c.events(t, 3*time.Second); len(evs) != 1 || evs[0].LatencyMS != 4 {
		t.Fatalf("after the backlog: %+v", evs)
	}

	c2 := e.open(t, "after="+strconv.FormatInt(all[1].ID, 10), nil)
	if _, evs := c2.events(t, 3*time.Second); len(evs) != 2 || evs[0].ID != all[2].ID {
		t.Fatalf("after=#2: %+v", evs)
	}
	// Caught up: nothing more.
	c2.quiet(t, 300*time.Millisecond)

	// An id from the future starts at the latest event.
	c3 := e.open(t, "after=999999", nil)
	c3.quiet(t, 300*time.Millisecond)
	commit(t, e.st, liveEvent(5, "m1", false))
	if _, evs := c3.events(t, 3*time.Second); len(evs) != 1 || evs[0].LatencyMS != 5 {
		t.Fatalf("after a future id: %+v", evs)
	}

	for _, bad := range []struct {
		query string
		hdr   http.Header
	}{
		{"after=x", nil},
		{"after=-1", nil},
		{"", http.Header{"Last-Event-ID": {"abc"}}},
		{"from=2026-11-27", nil},
		{"limit=5", nil},
		{"tz=Nowhere/City", nil},
		{"failed=maybe", nil},
		{"reveal=keys", nil},
	} {
		resp, cancel := e.request(t, bad.query, bad.hdr)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "bad_parameter") {
			t.Errorf("%q %v: %d %s", bad.query, bad.hdr, resp.StatusCode, body)
		}
	}
}

func TestLiveBacklogIsCapped(t *testing.T) {
	e := newLiveEnv(t)
	var evs []usage.Event
	for i := range liveBacklog + 100 {
		evs = append(evs, liveEvent(i+1, "m1", false))
	}
	commit(t, e.st, evs...)
	latest, err := e.st.LatestEventID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := e.open(t, "after=0", nil)
	f := c.next(t, 3*time.Second)
	var gap struct{ SkippedAfter, SkippedTo int64 }
	if f.Event != "gap" || json.Unmarshal([]byte(f.Data), &gap) != nil || gap.SkippedAfter != 0 || gap.SkippedTo != latest-liveBacklog {
		t.Fatalf("first frame %+v, want a gap up to %d", f, latest-liveBacklog)
	}
	got := 0
	var last int64
	for got < liveBacklog {
		id, evs := c.events(t, 3*time.Second)
		got += len(evs)
		last = id
	}
	if got != liveBacklog || last != latest {
		t.Fatalf("replayed %d events up to %d, want %d up to %d", got, last, liveBacklog, latest)
	}
	c.quiet(t, 300*time.Millisecond)
}

func TestLiveFilters(t *testing.T) {
	e := newLiveEnv(t)
	byModel := e.open(t, "model=m2", nil)
	failed := e.open(t, "failed=true&reveal=emails&tz=Asia/Kolkata", nil)
	search := e.open(t, "q=00000003&min_latency_ms=2", nil)

	commit(t, e.st, liveEvent(1, "m1", false), liveEvent(2, "m2", false), liveEvent(3, "m1", true), liveEvent(4, "m2", true))
	if _, evs := byModel.events(t, 3*time.Second); len(evs) != 2 || evs[0].Model != "m2" || evs[1].Model != "m2" {
		t.Errorf("model=m2: %+v", evs)
	}
	_, evs := failed.events(t, 3*time.Second)
	if len(evs) != 2 || !evs[0].Failed || !evs[1].Failed {
		t.Errorf("failed=true: %+v", evs)
	} else {
		if evs[0].Account == nil || evs[0].Account.Email != "alice@example.com" {
			t.Errorf("reveal=emails: %+v", evs[0].Account)
		}
		if _, off := evs[0].Time.Zone(); off != 5*3600+1800 {
			t.Errorf("tz=Asia/Kolkata: time %v", evs[0].Time)
		}
	}
	if _, evs := search.events(t, 3*time.Second); len(evs) != 1 || evs[0].RequestID != "00000003" {
		t.Errorf("q: %+v", evs)
	}
	// Events that match nothing send nothing.
	commit(t, e.st, liveEvent(5, "m1", false))
	byModel.quiet(t, 400*time.Millisecond)
	// A model first seen after the stream opened still matches.
	late := e.open(t, "model=m3", nil)
	commit(t, e.st, liveEvent(6, "m3", false))
	if _, evs := late.events(t, 3*time.Second); len(evs) != 1 || evs[0].Model != "m3" {
		t.Errorf("model=m3: %+v", evs)
	}
}

func TestLiveCloseEndsStreams(t *testing.T) {
	e := newLiveEnv(t)
	c1 := e.open(t, "", nil)
	c2 := e.open(t, "model=m1", nil)
	start := time.Now()
	e.h.Close()
	e.h.Close() // idempotent
	for _, c := range []*liveConn{c1, c2} {
		f := c.next(t, 2*time.Second)
		if f.Event != "close" || f.Data != `{"reason":"server stopping"}` {
			t.Fatalf("frame %+v, want the close event", f)
		}
		select {
		case _, ok := <-c.frames:
			if ok {
				t.Fatal("a frame after close")
			}
		case <-time.After(2 * time.Second):
			t.Fatal("the stream did not end after the close event")
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("closing took %v", d)
	}
	resp, cancel := e.request(t, "", nil)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	cancel()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), `"code":"stopping"`) {
		t.Errorf("after Close: %d %s", resp.StatusCode, body)
	}
	// The other routes keep working.
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/health", nil)
	if resp, err := e.srv.Client().Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("health after Close: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	waitUntil(t, "the streams to end", func() bool { return e.h.liveHub.open() == 0 })
}

func TestLiveStreamLimit(t *testing.T) {
	e := newLiveEnv(t)
	e.h.liveHub.max = 2
	c1 := e.open(t, "", nil)
	e.open(t, "", nil)
	resp, cancel := e.request(t, "", nil)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	cancel()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), `"code":"too_many_streams"`) ||
		!strings.Contains(string(body), "2 live streams are open") || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("third stream: %d %s", resp.StatusCode, body)
	}
	c1.cancel()
	waitUntil(t, "a slot to free up", func() bool { return e.h.liveHub.open() == 1 })
	c3 := e.open(t, "", nil)
	commit(t, e.st, liveEvent(1, "m1", false))
	if _, evs := c3.events(t, 3*time.Second); len(evs) != 1 {
		t.Fatalf("events %+v", evs)
	}
}

func TestLiveWithoutStore(t *testing.T) {
	h := New(Options{Backend: &fakeBackend{}})
	rec := httptest.NewRecorder()
	h.mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/live", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("without a store: %d %s", rec.Code, rec.Body)
	}
}

// waitUntil polls cond for up to 5 seconds.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
