package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
)

// quotaHeaderPrefixes are the (lower-case) name prefixes of response
// headers that report a credential's quota or rate limits. Only allowlisted
// headers are stored (see usage.HeaderAllowed), so these are the quota
// families of that allowlist.
var quotaHeaderPrefixes = []string{"x-codex-", "x-ratelimit-", "anthropic-ratelimit-", "ratelimit-"}

// IsQuotaHeader reports whether a response header name reports quota or
// rate limits (x-codex-*, x-ratelimit-*, anthropic-ratelimit-*,
// ratelimit-*), ignoring case.
func IsQuotaHeader(name string) bool {
	n := strings.ToLower(name)
	for _, p := range quotaHeaderPrefixes {
		if len(n) > len(p) && strings.HasPrefix(n, p) {
			return true
		}
	}
	return false
}

// quotaHeadersCond is the SQL condition "event_extra.headers (alias x)
// holds a quota header". headers is a compact JSON object written by
// encoding/json, so a key is always preceded by '{' or ',' and a quote,
// while a '"' inside a value is escaped: matching `{"name` or `,"name`
// finds keys only. LIKE ignores ASCII case.
var quotaHeadersCond = func() string {
	var conds []string
	for _, p := range quotaHeaderPrefixes {
		conds = append(conds, `x.headers LIKE '%{"`+p+`%'`, `x.headers LIKE '%,"`+p+`%'`)
	}
	return "(" + strings.Join(conds, " OR ") + ")"
}()

// quotaEvidenceChunk bounds the ids read back per statement.
const quotaEvidenceChunk = 500

// QuotaEvidence returns, for each credential (auth_index) with events
// matching f, its newest event whose stored response headers include a
// quota header (see IsQuotaHeader), newest first. Only the period,
// upstream and provider of f should be set; the other dimensions apply as
// in Events.
//
// The scan is bounded by the period on the events_ts_hash index: each event
// in [f.From, f.To) costs an index step and a primary-key probe of
// event_extra. INDEXED BY keeps SQLite on the time index even when its
// statistics suggest a table scan (e.g. with an upstream filter), and the
// CROSS JOIN keeps events as the outer loop, so SQLite cannot choose to
// walk all of event_extra instead. The query plan is checked in
// TestQuotaEvidencePlan.
func (s *Store) QuotaEvidence(ctx context.Context, f Filter) ([]StoredEvent, error) {
	if f.eventsOnly() {
		return nil, fmt.Errorf("store: quota evidence takes a period and dimension filters only")
	}
	q, args, err := s.quotaEvidenceQuery(ctx, f)
	if err != nil {
		return nil, err
	}
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: finding quota evidence: %w", err)
	}
	var ids []any
	for rows.Next() {
		var id, ts int64
		if err := rows.Scan(&id, &ts); err != nil {
			_ = rows.Close()
			return nil, fmt.Errorf("store: finding quota evidence: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		_ = rows.Close()
		return nil, fmt.Errorf("store: finding quota evidence: %w", err)
	}
	_ = rows.Close()

	out := make([]StoredEvent, 0, len(ids))
	for start := 0; start < len(ids); start += quotaEvidenceChunk {
		chunk := ids[start:min(start+quotaEvidenceChunk, len(ids))]
		rows, err := s.rdb.QueryContext(ctx, eventSelect+" WHERE e.id IN ("+placeholders(len(chunk))+")", chunk...)
		if err != nil {
			return nil, fmt.Errorf("store: reading quota evidence: %w", err)
		}
		evs, refs, err := scanEvents(rows)
		if err != nil {
			return nil, err
		}
		if err := s.decodeEvents(ctx, evs, refs); err != nil {
			return nil, err
		}
		out = append(out, evs...)
	}
	slices.SortFunc(out, func(a, b StoredEvent) int {
		return cmp.Or(b.Time.Compare(a.Time), cmp.Compare(a.AuthIndex, b.AuthIndex))
	})
	return out, nil
}

// quotaEvidenceQuery is the statement that finds the id and time of the
// newest quota-header event per auth_index (SQLite answers the bare e.id
// column from the row that holds max(e.ts)).
func (s *Store) quotaEvidenceQuery(ctx context.Context, f Filter) (string, []any, error) {
	w, err := s.buildWhere(ctx, f, "e.")
	if err != nil {
		return "", nil, err
	}
	w.add(quotaHeadersCond)
	return "SELECT e.id, max(e.ts) FROM events e INDEXED BY events_ts_hash CROSS JOIN event_extra x ON x.event_id = e.id" +
		w.sql() + " GROUP BY e.auth_index", w.args, nil
}
