package api

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cpam-caddy/cpam/store"
	"github.com/cpam-caddy/cpam/usage"
)

// quotaFixture commits events with response headers (minutes relative to
// t0) to the fixture's store:
//
//	#   min  up  auth  headers
//	q1   10  u1  A1    codex 10/40
//	q2   30  u1  A1    codex 30/41  ← A1's newest evidence
//	q3   45  u1  A1    request id only
//	q4   20  u2  A3    x-ratelimit only
//	q5   50  u1  Q9    Retry-After only (no evidence)
//	q6  -30h u1  A2    codex (older than the default period)
func quotaFixture(t *testing.T) (*Handler, *fakeBackend) {
	t.Helper()
	h, b := fixture(t)
	codex := func(p, s string) map[string]string {
		return map[string]string{"X-Codex-Primary-Used-Percent": p, "X-Codex-Primary-Window-Minutes": "300",
			"X-Codex-Secondary-Used-Percent": s, "X-Request-Id": "req-x", "Retry-After": "3"}
	}
	mk := func(i, min int, up, auth string, hdr map[string]string) usage.Event {
		return usage.Event{Hash: hashOf("quota", i), Upstream: up, Time: m(min), RequestID: fmt.Sprintf("%08x", 0xbeef0+i),
			AuthIndex: auth, AuthType: "oauth", Provider: "codex", Model: "gpt-5-codex", Alias: "gpt-5-codex",
			Endpoint: "POST /v1/responses", StatusCode: 200, Headers: hdr}
	}
	evs := []usage.Event{
		mk(1, 10, "u1", "A1", codex("10", "40")),
		mk(2, 30, "u1", "A1", codex("30", "41")),
		mk(3, 45, "u1", "A1", map[string]string{"X-Request-Id": "req-newer"}),
		mk(4, 20, "u2", "A3", map[string]string{"X-Ratelimit-Remaining-Requests": "99", "X-Request-Id": "r4"}),
		mk(5, 50, "u1", "Q9", map[string]string{"Retry-After": "3"}),
		mk(6, -30*60, "u1", "A2", codex("99", "99")),
	}
	evs[1].Account = usage.Account{Email: "alice@example.com", Provider: "codex", FileName: "codex-alice@example.com-plus.json"}
	if _, err := b.s.Commit(context.Background(), store.Batch{Events: evs}); err != nil {
		t.Fatal(err)
	}
	return h, b
}

func TestQuotaEvidence(t *testing.T) {
	h, b := quotaFixture(t)
	timeNow = func() time.Time { return m(120) }
	t.Cleanup(func() { timeNow = time.Now })

	type item struct {
		Account, Name, Provider, Upstream string
		ObservedAt                        time.Time `json:"observed_at"`
		RequestID                         string    `json:"request_id"`
		Headers                           map[string]string
	}
	var got struct{ Items []item }
	// Default period: the 24 hours before now.
	getJSON(t, h, "/api/v1/quota-evidence", &got)
	if len(got.Items) != 2 {
		t.Fatalf("items: %+v", got.Items)
	}
	a1, a3 := got.Items[0], got.Items[1]
	wantA1 := item{Account: "A1", Name: "a***@example.com", Provider: "codex", Upstream: "u1", ObservedAt: m(30), RequestID: "000beef2",
		Headers: map[string]string{"X-Codex-Primary-Used-Percent": "30", "X-Codex-Primary-Window-Minutes": "300", "X-Codex-Secondary-Used-Percent": "41"}}
	if !a1.ObservedAt.Equal(wantA1.ObservedAt) {
		t.Fatalf("A1 observed at %v", a1.ObservedAt)
	}
	a1.ObservedAt = wantA1.ObservedAt
	if !reflect.DeepEqual(a1, wantA1) {
		t.Fatalf("A1:\n got %+v\nwant %+v", a1, wantA1)
	}
	// A3 has no attribution on its event; the fixture's older events of
	// A3 carry none either, so its name is unknown.
	if a3.Account != "A3" || a3.Upstream != "u2" || a3.Name != "" ||
		!reflect.DeepEqual(a3.Headers, map[string]string{"X-Ratelimit-Remaining-Requests": "99"}) {
		t.Fatalf("A3: %+v", a3)
	}

	// The backend's current name wins over the frozen one.
	getJSON(t, New(Options{Backend: labelledBackend{b}}), "/api/v1/quota-evidence", &got)
	if got.Items[1].Account != "A3" || got.Items[1].Name != "Team Claude" {
		t.Fatalf("labelled: %+v", got.Items)
	}

	// Period and upstream filters.
	getJSON(t, h, "/api/v1/quota-evidence?upstream=u2", &got)
	if len(got.Items) != 1 || got.Items[0].Account != "A3" {
		t.Fatalf("u2: %+v", got.Items)
	}
	getJSON(t, h, "/api/v1/quota-evidence?from=2026-11-27T00:00:00Z&to=2026-11-27T00:15:00Z", &got)
	if len(got.Items) != 1 || got.Items[0].Headers["X-Codex-Primary-Used-Percent"] != "10" {
		t.Fatalf("first quarter hour: %+v", got.Items)
	}
	getJSON(t, h, "/api/v1/quota-evidence?from=2026-11-25T00:00:00Z", &got)
	if len(got.Items) != 3 || got.Items[2].Account != "A2" {
		t.Fatalf("two days: %+v", got.Items)
	}
	getJSON(t, h, "/api/v1/quota-evidence?provider=claude", &got)
	if got.Items == nil || len(got.Items) != 0 {
		t.Fatalf("provider=claude: %+v", got.Items)
	}

	for _, q := range []string{"from=yesterday", "model=m1", "from=2026-11-27T02:00:00Z&to=2026-11-27T01:00:00Z", "to=1&to=2"} {
		code, body := get(t, h, "/api/v1/quota-evidence?"+q)
		if c, msg := errorOf(t, body); code != http.StatusBadRequest || c != "bad_parameter" || msg == "" {
			t.Errorf("%s: %d %s", q, code, body)
		}
	}
	code, body := get(t, New(Options{Backend: &fakeBackend{}}), "/api/v1/quota-evidence")
	if c, _ := errorOf(t, body); code != http.StatusServiceUnavailable || c != "unavailable" {
		t.Errorf("without database: %d %s", code, body)
	}
	if code, body := get(t, h, "/api/v1/quota-evidence"); code != 200 || strings.Contains(string(body), "Retry-After") || strings.Contains(string(body), "req-x") {
		t.Errorf("non-quota headers answered: %s", body)
	}
}
