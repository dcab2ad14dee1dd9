package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cpam-caddy/cpam/usage"
)

// Batch sizes of ScanEvents.
const (
	// DefaultScanBatch is the batch size ScanEvents uses when given <= 0.
	DefaultScanBatch = 1000
	// maxScanBatch bounds the memory of one ScanEvents batch.
	maxScanBatch = 10000
)

// ScanEvents calls fn with every event matching f, oldest first (by time,
// then row id), batch events at a time (DefaultScanBatch when <= 0, at most
// 10,000). It walks the events with a keyset on (ts, id), so memory stays
// bounded by one batch whatever the number of events, and events committed
// during the scan are seen when they sort after the current position. fn
// owns the slice it is given. An error of fn stops the scan and is
// returned as it is; so is the context's error.
func (s *Store) ScanEvents(ctx context.Context, f Filter, batch int, fn func([]StoredEvent) error) error {
	if batch <= 0 {
		batch = DefaultScanBatch
	}
	batch = min(batch, maxScanBatch)
	base, err := s.buildWhere(ctx, f, false, "e.")
	if err != nil {
		return err
	}
	var lastTS, lastID int64
	started := false
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		w := &where{conds: append([]string(nil), base.conds...), args: append([]any(nil), base.args...)}
		if started {
			// "ts >= ?" keeps the condition usable by the (ts, hash) index.
			w.add("e.ts >= ? AND (e.ts > ? OR e.id > ?)", lastTS, lastTS, lastID)
		}
		rows, err := s.rdb.QueryContext(ctx, eventSelect+w.sql()+" ORDER BY e.ts, e.id LIMIT ?", append(w.args, batch)...)
		if err != nil {
			return fmt.Errorf("store: scanning events: %w", err)
		}
		evs, refs, err := scanEvents(rows)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			return nil
		}
		if err := s.decodeEvents(ctx, evs, refs); err != nil {
			return err
		}
		last := &evs[len(evs)-1]
		lastTS, lastID, started = last.Time.UnixMilli(), last.ID, true
		full := len(evs) == batch
		if err := fn(evs); err != nil {
			return err
		}
		if !full {
			return nil
		}
	}
}

// BucketTotal is what one 15-minute rollup bucket counts.
type BucketTotal struct {
	// Start is the bucket's start, in UTC.
	Start    time.Time
	Attempts int64
	Failed   int64
	// Tokens sums the token buckets; Quality is empty.
	Tokens usage.Tokens
}

// BucketTotals returns the attempts, failures and tokens of every
// 15-minute rollup bucket matching f that counted anything, oldest first.
// Like the other rollup queries it counts the buckets whose start lies in
// [f.From, f.To); the zero times do not bound. Callers group the buckets
// by day or hour in any zone (zone offsets are multiples of 15 minutes).
func (s *Store) BucketTotals(ctx context.Context, f Filter) ([]BucketTotal, error) {
	if f.eventsOnly() {
		return nil, errors.New("store: minimum latency and text search apply to events only, not to rollup queries")
	}
	w, err := s.buildWhere(ctx, f, true, "")
	if err != nil {
		return nil, err
	}
	q := "SELECT bucket, COALESCE(SUM(attempts),0), COALESCE(SUM(failed*attempts),0), COALESCE(SUM(uncached),0)," +
		" COALESCE(SUM(cache_read),0), COALESCE(SUM(cache_write),0), COALESCE(SUM(output),0), COALESCE(SUM(reasoning),0)," +
		" COALESCE(SUM(unclassified),0) FROM rollup_15m" + w.sql() + " GROUP BY bucket ORDER BY bucket"
	rows, err := s.rdb.QueryContext(ctx, q, w.args...)
	if err != nil {
		return nil, fmt.Errorf("store: bucket totals: %w", err)
	}
	defer rows.Close()
	var out []BucketTotal
	for rows.Next() {
		var b int64
		var t BucketTotal
		if err := rows.Scan(&b, &t.Attempts, &t.Failed, &t.Tokens.Uncached, &t.Tokens.CacheRead, &t.Tokens.CacheWrite,
			&t.Tokens.Output, &t.Tokens.Reasoning, &t.Tokens.Unclassified); err != nil {
			return nil, fmt.Errorf("store: bucket totals: %w", err)
		}
		if t.Attempts == 0 {
			continue
		}
		t.Start = time.Unix(b, 0).UTC()
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: bucket totals: %w", err)
	}
	return out, nil
}
