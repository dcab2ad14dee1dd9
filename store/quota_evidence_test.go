package store

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cpam-caddy/cpam/usage"
)

// quotaEvent is an event of credential ai on upstream up at t0+min.
func quotaEvent(i int, up, ai string, min int, headers map[string]string) usage.Event {
	return usage.Event{
		Hash: hashOf("quota", i), Upstream: up, Time: t0.Add(time.Duration(min) * time.Minute),
		RequestID: fmt.Sprintf("%08x", 0x100+i), AuthIndex: ai, AuthType: "oauth", Provider: "codex",
		Model: "gpt-5-codex", Alias: "gpt-5-codex", Endpoint: "POST /v1/responses", StatusCode: 200,
		Account: usage.Account{Email: ai + "@example.com", Provider: "codex"},
		Headers: headers,
	}
}

func TestQuotaEvidence(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	codex := func(primary string) map[string]string {
		return map[string]string{"X-Codex-Primary-Used-Percent": primary, "X-Codex-Secondary-Used-Percent": "41", "X-Request-Id": "r"}
	}
	evs := []usage.Event{
		quotaEvent(1, "u1", "A", 10, codex("10")),
		quotaEvent(2, "u1", "A", 30, codex("30")), // A's newest evidence
		quotaEvent(3, "u1", "A", 40, map[string]string{"X-Request-Id": "newer, no quota"}),
		quotaEvent(4, "u1", "A", 50, nil),
		quotaEvent(5, "u1", "B", 20, map[string]string{"Retry-After": "3"}), // no quota header
		quotaEvent(6, "u2", "C", 25, map[string]string{"X-Ratelimit-Remaining-Requests": "99"}),
		quotaEvent(7, "u1", "D", -30, codex("99")), // before the period
		quotaEvent(8, "u1", "E", 5, map[string]string{"anthropic-ratelimit-tokens-remaining": "5"}),
		// A header value that merely starts like a quota header name is
		// not a quota header.
		quotaEvent(9, "u1", "F", 15, map[string]string{"X-Request-Id": `x-codex-primary-used-percent","a`}),
	}
	evs[6].FailBody = "old"
	mustCommit(t, s, Batch{Events: evs})

	got, err := s.QuotaEvidence(ctx, Filter{From: t0, To: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var summary []string
	for _, e := range got {
		summary = append(summary, fmt.Sprintf("%s@%s#%s", e.AuthIndex, e.Time.Format("15:04"), e.RequestID))
	}
	if want := "A@00:30#00000102 C@00:25#00000106 E@00:05#00000108"; strings.Join(summary, " ") != want {
		t.Fatalf("evidence %q, want %q", strings.Join(summary, " "), want)
	}
	a := got[0]
	if !reflect.DeepEqual(a.Headers, codex("30")) || a.Upstream != "u1" || a.Provider != "codex" || a.Account.Email != "A@example.com" {
		t.Fatalf("A: %+v", a)
	}
	if got[2].Headers["anthropic-ratelimit-tokens-remaining"] != "5" {
		t.Fatalf("E: %+v", got[2].Headers)
	}

	// The upstream filter and the period bound the scan.
	got, err = s.QuotaEvidence(ctx, Filter{From: t0, To: t0.Add(time.Hour), Upstreams: []string{"u2"}})
	if err != nil || len(got) != 1 || got[0].AuthIndex != "C" {
		t.Fatalf("u2: %+v %v", got, err)
	}
	got, err = s.QuotaEvidence(ctx, Filter{From: t0.Add(-time.Hour), To: t0.Add(20 * time.Minute)})
	if err != nil || len(got) != 3 || got[0].AuthIndex != "A" || got[0].Headers["X-Codex-Primary-Used-Percent"] != "10" ||
		got[1].AuthIndex != "E" || got[2].AuthIndex != "D" {
		t.Fatalf("earlier period: %+v %v", got, err)
	}
	if got, err := s.QuotaEvidence(ctx, Filter{From: t0, To: t0.Add(time.Hour), Upstreams: []string{"nope"}}); err != nil || len(got) != 0 {
		t.Fatalf("unknown upstream: %+v %v", got, err)
	}
	if _, err := s.QuotaEvidence(ctx, Filter{From: t0, To: t0.Add(time.Hour), Query: "x"}); err == nil {
		t.Fatal("a text search was accepted")
	}
}

// TestQuotaEvidencePlan checks that the evidence query walks the events of
// the period on the time index and probes event_extra by primary key, so
// its cost grows with the period, not with the table. SQLite answers:
//
//	SEARCH e USING INDEX events_ts_hash (ts>? AND ts<?)
//	BLOOM FILTER ON x (event_id=?)   (with statistics, for wide periods)
//	SEARCH x USING INTEGER PRIMARY KEY (rowid=?)
//	USE TEMP B-TREE FOR GROUP BY
func TestQuotaEvidencePlan(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	mustCommit(t, s, Batch{Events: newGen(5, t0.Add(-12*time.Hour), 24*time.Hour).events(2000)})
	// With statistics, as a long-running database has them.
	if err := s.do(ctx, func(w *writer) error { _, err := w.exec("ANALYZE"); return err }); err != nil {
		t.Fatal(err)
	}
	for _, f := range []Filter{
		{From: t0, To: t0.Add(time.Hour)},
		{From: t0, To: t0.Add(time.Hour), Upstreams: []string{"cpa-main"}},
		{From: t0.Add(-12 * time.Hour), To: t0.Add(12 * time.Hour), Upstreams: []string{"cpa-main"}, Providers: []string{"codex"}},
	} {
		q, args, err := s.quotaEvidenceQuery(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := s.rdb.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		all := strings.Join(plan, "\n")
		if len(plan) < 2 || !strings.HasPrefix(plan[0], "SEARCH e USING INDEX events_ts_hash (ts>? AND ts<?)") ||
			!strings.Contains(all, "SEARCH x USING INTEGER PRIMARY KEY") || strings.Contains(all, "SCAN") {
			t.Errorf("plan for %+v:\n%s", f, all)
		}
	}
}

// BenchmarkQuotaEvidence measures a day of 200k events, one in ten with
// rate-limit headers.
func BenchmarkQuotaEvidence(b *testing.B) {
	ctx := context.Background()
	s := openTest(b)
	g := newGen(9, t0, 24*time.Hour)
	for i := 0; i < 20; i++ {
		mustCommit(b, s, Batch{Events: g.events(10000)})
	}
	f := Filter{From: t0.Add(12 * time.Hour), To: t0.Add(24 * time.Hour)}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		got, err := s.QuotaEvidence(ctx, f)
		if err != nil || len(got) == 0 {
			b.Fatal(len(got), err)
		}
	}
}
