package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/cpam-caddy/cpam/usage"
)

// Chunking of RecomputeCost: one write request handles whole buckets, at
// most this many events (unless a single bucket holds more) or this many
// buckets.
const (
	recomputeChunkEvents  = 5000
	recomputeChunkBuckets = 192
)

// RecomputeResult counts what RecomputeCost did.
type RecomputeResult struct {
	// Events is the number of events re-priced (read and priced again).
	Events int
	// Repriced counts the events whose cost or priced state changed.
	Repriced int
	// Buckets is the number of 15-minute buckets re-priced.
	Buckets int
	// SkippedBuckets counts the buckets left alone because retention has
	// deleted some of their events (their rollups count more attempts than
	// the events still stored), so their rollups cannot be rebuilt.
	SkippedBuckets int
}

// RecomputeCost prices again, with book, the stored events whose attempt
// started in [from, to), and brings the 15-minute rollups in line, as if
// the events had been ingested with book: an event is priced by its
// upstream model, then its alias (usage.PriceBook.Cost) on its stored token
// buckets, and is unpriced (never cost 0) when book has no price for it.
// Only the cost and the unpriced counts of the rollups change.
//
// The range is aligned outward to whole 15-minute buckets: from is rounded
// down and to up to a bucket boundary, so every event of a touched bucket
// is re-priced. A zero from or to leaves that side unbounded.
//
// The work goes through the writer in short transactions of whole buckets
// (about recomputeChunkEvents events each), so commits of new events
// interleave with it; each bucket is re-priced atomically together with its
// rollup rows. Buckets whose raw events are partly or wholly gone
// (retention keeps rollups longer than events) cannot be re-priced: they
// are skipped and counted in SkippedBuckets.
//
// On error (including a cancelled ctx) the buckets already done stay done
// and the returned result counts them.
func (s *Store) RecomputeCost(ctx context.Context, from, to time.Time, book *usage.PriceBook) (RecomputeResult, error) {
	var res RecomputeResult
	if book == nil {
		return res, errors.New("store: RecomputeCost needs a price book")
	}
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if !from.IsZero() {
		lo = bucketOf(from.UnixMilli())
	}
	if !to.IsZero() {
		hi = bucketOf(to.UnixMilli())
		if hi*1000 < to.UnixMilli() {
			hi += 900
		}
	}
	if hi <= lo {
		return res, nil
	}
	rp := &repricer{book: book, names: make(map[int64]string), prices: make(map[[2]int64]*usage.Price)}
	next := lo
	for {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("store: recomputing costs: %w", err)
		}
		var chunk RecomputeResult
		var done bool
		err := s.do(ctx, func(w *writer) error {
			chunk = RecomputeResult{}
			var err error
			next, done, err = rp.chunk(w, next, hi, &chunk)
			return err
		})
		if err != nil {
			return res, err
		}
		res.Events += chunk.Events
		res.Repriced += chunk.Repriced
		res.Buckets += chunk.Buckets
		res.SkippedBuckets += chunk.SkippedBuckets
		if done {
			return res, nil
		}
	}
}

// repricer holds what RecomputeCost keeps between its chunks: model names
// by dict id (dict rows never change) and the price found for each
// (model, alias) pair.
type repricer struct {
	book   *usage.PriceBook
	names  map[int64]string
	prices map[[2]int64]*usage.Price // nil: unpriced
}

// chunk re-prices whole buckets from the first one at or after start,
// stopping before hi or when the chunk is big enough. It returns where the
// next chunk starts and whether the range is finished.
func (rp *repricer) chunk(w *writer, start, hi int64, res *RecomputeResult) (next int64, done bool, err error) {
	b := start
	for n := 0; n < recomputeChunkBuckets && res.Events < recomputeChunkEvents; n++ {
		var nb int64
		err := w.conn.QueryRowContext(w.ctx,
			"SELECT bucket FROM rollup_15m WHERE bucket >= ? AND bucket < ? ORDER BY bucket LIMIT 1", b, hi).Scan(&nb)
		if errors.Is(err, sql.ErrNoRows) {
			return hi, true, nil
		}
		if err != nil {
			return start, false, fmt.Errorf("store: recomputing costs: finding buckets: %w", err)
		}
		if err := rp.bucket(w, nb, res); err != nil {
			return start, false, err
		}
		if nb >= hi-900 {
			return hi, true, nil
		}
		b = nb + 900
	}
	return b, false, nil
}

// repriceRow is one event of a bucket being re-priced.
type repriceRow struct {
	id        int64
	key       rollKey
	model     int64
	alias     int64
	flags     int64
	cost      int64
	tokens    usage.Tokens
	newFlags  int64
	newCost   int64
	newPriced bool
}

// bucket re-prices the events of one bucket and rewrites the cost and
// unpriced counts of its rollup rows, or skips it when events are missing.
func (rp *repricer) bucket(w *writer, b int64, res *RecomputeResult) error {
	var attempts int64
	if err := w.conn.QueryRowContext(w.ctx, "SELECT COALESCE(SUM(attempts),0) FROM rollup_15m WHERE bucket = ?", b).Scan(&attempts); err != nil {
		return fmt.Errorf("store: recomputing costs: reading rollups: %w", err)
	}
	lo, hi := b*1000, (b+900)*1000
	var stored int64
	if err := w.conn.QueryRowContext(w.ctx, "SELECT count(*) FROM events WHERE ts >= ? AND ts < ?", lo, hi).Scan(&stored); err != nil {
		return fmt.Errorf("store: recomputing costs: counting events: %w", err)
	}
	if stored < attempts {
		res.SkippedBuckets++
		return nil
	}
	rows, err := w.conn.QueryContext(w.ctx, `SELECT id, upstream, model, alias, provider, auth_index, api_key, endpoint,
		flags, service_tier, uncached, cache_read, cache_write, output, reasoning, unclassified, cost
		FROM events WHERE ts >= ? AND ts < ?`, lo, hi)
	if err != nil {
		return fmt.Errorf("store: recomputing costs: reading events: %w", err)
	}
	var evs []repriceRow
	for rows.Next() {
		var r repriceRow
		r.key.bucket = b
		d := &r.key.dims
		t := &r.tokens
		if err := rows.Scan(&r.id, &d[0], &d[1], &d[2], &d[3], &d[4], &d[5], &d[6], &r.flags, &d[8],
			&t.Uncached, &t.CacheRead, &t.CacheWrite, &t.Output, &t.Reasoning, &t.Unclassified, &r.cost); err != nil {
			rows.Close()
			return fmt.Errorf("store: recomputing costs: reading events: %w", err)
		}
		d[7] = r.flags & flagFailed
		r.model, r.alias = d[1], d[2]
		evs = append(evs, r)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return fmt.Errorf("store: recomputing costs: reading events: %w", err)
	}

	type costs struct{ cost, unpriced int64 }
	want := make(map[rollKey]*costs)
	for i := range evs {
		r := &evs[i]
		p, err := rp.price(w, r.model, r.alias)
		if err != nil {
			return err
		}
		r.newFlags = r.flags &^ flagPriced
		if p != nil {
			c := usage.CostOf(*p, r.tokens)
			r.newCost, r.newPriced = c.MicroUSD, true
			r.newFlags |= flagPriced
		}
		c := want[r.key]
		if c == nil {
			c = &costs{}
			want[r.key] = c
		}
		if r.newPriced {
			c.cost += r.newCost
		} else {
			c.unpriced++
		}
		if r.newCost == r.cost && r.newFlags == r.flags {
			continue
		}
		if _, err := w.exec("UPDATE events SET cost = ?, flags = ? WHERE id = ?", r.newCost, r.newFlags, r.id); err != nil {
			return fmt.Errorf("store: recomputing costs: updating event: %w", err)
		}
		res.Repriced++
	}
	res.Events += len(evs)

	// Rewrite the rollup rows whose cost or unpriced count differs from
	// what the re-priced events give (rows without events get 0).
	rrows, err := w.conn.QueryContext(w.ctx, "SELECT upstream, model, alias, provider, auth_index, api_key, endpoint, failed, service_tier, cost, unpriced FROM rollup_15m WHERE bucket = ?", b)
	if err != nil {
		return fmt.Errorf("store: recomputing costs: reading rollups: %w", err)
	}
	type upd struct {
		k rollKey
		c costs
	}
	var upds []upd
	for rrows.Next() {
		k := rollKey{bucket: b}
		d := &k.dims
		var have costs
		if err := rrows.Scan(&d[0], &d[1], &d[2], &d[3], &d[4], &d[5], &d[6], &d[7], &d[8], &have.cost, &have.unpriced); err != nil {
			rrows.Close()
			return fmt.Errorf("store: recomputing costs: reading rollups: %w", err)
		}
		var c costs
		if p := want[k]; p != nil {
			c = *p
		}
		if c != have {
			upds = append(upds, upd{k, c})
		}
	}
	err = rrows.Err()
	rrows.Close()
	if err != nil {
		return fmt.Errorf("store: recomputing costs: reading rollups: %w", err)
	}
	if len(upds) > 0 {
		if err := w.markDirty(map[int64]struct{}{b: {}}); err != nil {
			return err
		}
	}
	for _, u := range upds {
		d := u.k.dims
		if _, err := w.exec(`UPDATE rollup_15m SET cost = ?, unpriced = ? WHERE bucket = ? AND upstream = ? AND model = ?
			AND alias = ? AND provider = ? AND auth_index = ? AND api_key = ? AND endpoint = ? AND failed = ? AND service_tier = ?`,
			u.c.cost, u.c.unpriced, b, d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8]); err != nil {
			return fmt.Errorf("store: recomputing costs: updating rollups: %w", err)
		}
	}
	res.Buckets++
	return nil
}

// price returns the price of a (model, alias) pair of dict ids, nil when
// the book has none.
func (rp *repricer) price(w *writer, model, alias int64) (*usage.Price, error) {
	k := [2]int64{model, alias}
	if p, ok := rp.prices[k]; ok {
		return p, nil
	}
	m, err := rp.name(w, model)
	if err != nil {
		return nil, err
	}
	a, err := rp.name(w, alias)
	if err != nil {
		return nil, err
	}
	var out *usage.Price
	if p, _, ok := rp.book.Lookup(m, a); ok {
		out = &p
	}
	rp.prices[k] = out
	return out, nil
}

// name returns the dict value of id ("" for 0), read on the writer's
// connection so that entries added earlier in the same transaction are
// seen.
func (rp *repricer) name(w *writer, id int64) (string, error) {
	if id == 0 {
		return "", nil
	}
	if v, ok := rp.names[id]; ok {
		return v, nil
	}
	var v string
	if err := w.conn.QueryRowContext(w.ctx, "SELECT value FROM dict WHERE id = ?", id).Scan(&v); err != nil {
		return "", fmt.Errorf("store: recomputing costs: reading model name %d: %w", id, err)
	}
	rp.names[id] = v
	return v, nil
}
