package store

import (
	"context"
	"fmt"
	"sort"
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
// bounded by a few batches whatever the number of events, and events
// committed during the scan are seen when they sort after the current
// position. While fn handles one batch, the next one is read ahead by a
// goroutine that ScanEvents stops and waits for before it returns. fn owns
// the slice it is given. An error of fn stops the scan and is returned as
// it is; so is the context's error.
func (s *Store) ScanEvents(ctx context.Context, f Filter, batch int, fn func([]StoredEvent) error) error {
	if batch <= 0 {
		batch = DefaultScanBatch
	}
	batch = min(batch, maxScanBatch)
	base, err := s.buildWhere(ctx, f, "e.")
	if err != nil {
		return err
	}
	rctx, cancel := context.WithCancel(ctx)
	batches := make(chan scannedBatch, 1)
	var rerr error // the reader's error, read once batches is closed
	go func() {
		defer close(batches)
		rerr = s.readEventBatches(rctx, base, batch, func(b scannedBatch) bool {
			select {
			case batches <- b:
				return true
			case <-rctx.Done():
				return false
			}
		})
	}()
	// However ScanEvents ends (even by a panic in fn), stop the reader and
	// wait until it has gone.
	defer func() {
		cancel()
		for range batches {
		}
	}()
	for b := range batches {
		if err := ctx.Err(); err != nil {
			return err
		}
		// Decoding here rather than in the reader splits the work more
		// evenly between the two goroutines.
		if err := s.decodeEvents(ctx, b.evs, b.refs); err != nil {
			return err
		}
		if err := fn(b.evs); err != nil {
			return err
		}
	}
	return rerr
}

// scannedBatch is one batch of ScanEvents as read, before decodeEvents.
type scannedBatch struct {
	evs  []StoredEvent
	refs []eventRefs
}

// readEventBatches runs the keyset queries of ScanEvents and hands every
// non-empty batch, not yet decoded, to send, stopping when send reports
// false (the scan was stopped), after the last batch, or at the first
// error.
func (s *Store) readEventBatches(ctx context.Context, base *where, batch int, send func(scannedBatch) bool) error {
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
		evs, refs, err := scanEventsCap(rows, batch)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			return nil
		}
		last := &evs[len(evs)-1]
		lastTS, lastID, started = last.Time.UnixMilli(), last.ID, true
		full := len(evs) == batch
		if !send(scannedBatch{evs, refs}) || !full {
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
	sums := map[int64]*agg{}
	err := s.readRollups(ctx, rollupRead{f: f, byBucket: true, fine: true}, func(b, _ int64, a *agg) {
		if sums[b] == nil {
			sums[b] = new(agg)
		}
		sums[b].add(a)
	})
	if err != nil {
		return nil, fmt.Errorf("store: bucket totals: %w", err)
	}
	out := make([]BucketTotal, 0, len(sums))
	for b, a := range sums {
		m := a.m
		out = append(out, BucketTotal{Start: time.Unix(b, 0).UTC(), Attempts: m[mAttempts], Failed: a.failed,
			Tokens: usage.Tokens{Uncached: m[mUncached], CacheRead: m[mCacheRead], CacheWrite: m[mCacheWrite],
				Output: m[mOutput], Reasoning: m[mReasoning], Unclassified: m[mUnclassified]}})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, nil
}
