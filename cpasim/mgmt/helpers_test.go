package mgmt

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var testStart = time.Date(2026, 11, 27, 1, 7, 8, 0, time.UTC)

// newTestState returns a State with a fake clock in UTC and synchronous
// reloads, after applying edit to the options.
func newTestState(t *testing.T, edit func(*Options)) (*State, *fakeClock) {
	t.Helper()
	clock := &fakeClock{t: testStart}
	opts := Options{SecretKey: "test-mgmt-key", Now: clock.Now, Location: time.UTC}
	if edit != nil {
		edit(&opts)
	}
	s, err := LoadState(opts)
	if err != nil {
		t.Fatalf("LoadState: %v", err)
	}
	t.Cleanup(s.Close)
	return s, clock
}

// do sends a request to the management handler. body may be nil, a
// string or []byte (sent raw), or any value (sent as JSON).
func do(t *testing.T, s *State, method, path string, body any) *httptest.ResponseRecorder {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("marshal body: %v", err)
		}
		rd = bytes.NewReader(data)
	}
	req := httptest.NewRequest(method, "http://127.0.0.1:8317/v0/management"+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return rec
}

// expect asserts the status and the exact JSON body (compared as values).
func expect(t *testing.T, rec *httptest.ResponseRecorder, status int, want string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status = %d, want %d; body %s", rec.Code, status, rec.Body.String())
	}
	if want == "" {
		return
	}
	var got, exp any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("response is not JSON: %v: %s", err, rec.Body.String())
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatalf("bad expectation %s: %v", want, err)
	}
	g, _ := json.Marshal(got)
	e, _ := json.Marshal(exp)
	if !bytes.Equal(g, e) {
		t.Fatalf("body = %s, want %s", g, e)
	}
}

// decode decodes a JSON response into a generic value.
func decode(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("decode %s: %v", rec.Body.String(), err)
	}
	return m
}

const mockIndex = "3805471f4b0ffac9"

func TestUnknownPathsAndMethods(t *testing.T) {
	s, _ := newTestState(t, nil)
	for _, tc := range []struct{ method, path string }{
		{"GET", "/nope"},
		{"POST", "/config"},
		{"DELETE", "/debug"},
		{"GET", "/request-error-logs/a/b"},
	} {
		rec := do(t, s, tc.method, tc.path, nil)
		if rec.Code != http.StatusNotFound || rec.Body.Len() != 0 {
			t.Errorf("%s %s = %d %q, want bare 404", tc.method, tc.path, rec.Code, rec.Body.String())
		}
	}
}

func TestMiscRoutes(t *testing.T) {
	s, _ := newTestState(t, nil)
	rec := do(t, s, "GET", "/latest-version", nil)
	if rec.Code != http.StatusBadGateway || decode(t, rec)["error"] != "request_failed" || decode(t, rec)["message"] == "" {
		t.Fatalf("latest-version offline = %d %s", rec.Code, rec.Body.String())
	}
	s2, _ := newTestState(t, func(o *Options) { o.LatestVersion = "v7.2.141" })
	expect(t, do(t, s2, "GET", "/latest-version", nil), 200, `{"latest-version":"v7.2.141"}`)

	expect(t, do(t, s, "GET", "/plugins", nil), 200, `{"plugins_enabled":false,"plugins_dir":"plugins","plugins":[]}`)
	rec = do(t, s, "GET", "/plugin-store", nil)
	if rec.Code != http.StatusBadGateway || decode(t, rec)["error"] != "plugin_discovery_failed" {
		t.Fatalf("plugin-store = %d %s", rec.Code, rec.Body.String())
	}
	expect(t, do(t, s, "PATCH", "/plugins/foo/enabled", map[string]any{"enabled": true}), 404,
		`{"error":"plugin_not_found","message":"plugin foo not found"}`)

	rec = do(t, s, "GET", "/model-definitions/claude", nil)
	m := decode(t, rec)
	if rec.Code != 200 || m["channel"] != "claude" || len(m["models"].([]any)) == 0 {
		t.Fatalf("model-definitions = %d %s", rec.Code, rec.Body.String())
	}
	first := m["models"].([]any)[0].(map[string]any)
	for _, k := range []string{"id", "object", "created", "owned_by", "type", "display_name", "context_length", "max_completion_tokens"} {
		if _, ok := first[k]; !ok {
			t.Errorf("model definition lacks %q", k)
		}
	}
	expect(t, do(t, s, "GET", "/model-definitions/nope", nil), 400, `{"error":"unknown channel","channel":"nope"}`)
}
