package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// This file plans the reads of Summary, TimeSeries, Breakdown, Distinct
// and BucketTotals: which rollup table answers which part of the period
// (see cube.go for the cubes).

// rollupRead is one aggregate read over the rollups.
type rollupRead struct {
	f Filter
	// group is the rollup dimension the rows are grouped by; "" for none.
	group string
	// cuts are bucket boundaries (unix seconds, multiples of 900,
	// ascending) that no coarse row may straddle: the step starts of a
	// time series.
	cuts []int64
	// byBucket also groups by step: by the cuts when there are cuts (the
	// bucket passed to fn is then the step's start), else by bucket (a
	// coarse row's bucket is its start).
	byBucket bool
	// fine reads 15-minute rows only (callers that need every bucket).
	fine bool
}

// coverage is what compaction has built, as a read transaction sees it.
type coverage struct {
	watermark int64
	dirty     []int64 // changed quarter hours, ascending
}

// covers reports whether the cubes hold every quarter hour of
// [start, start+secs).
func (c *coverage) covers(start, secs int64) bool {
	if start+secs > c.watermark {
		return false
	}
	i := sort.Search(len(c.dirty), func(i int) bool { return c.dirty[i] >= start })
	return i == len(c.dirty) || c.dirty[i] >= start+secs
}

// readCoverage reads the watermark and the changed quarter hours in
// [lo, hi).
func readCoverage(ctx context.Context, q queryer, lo, hi int64) (coverage, error) {
	var c coverage
	var err error
	if c.watermark, err = readCubeWatermark(ctx, q); err != nil {
		return c, err
	}
	if hi <= lo || c.watermark == 0 {
		return c, nil
	}
	rows, err := q.QueryContext(ctx, "SELECT bucket FROM cube_dirty WHERE bucket >= ? AND bucket < ? ORDER BY bucket", lo, hi)
	if err != nil {
		return c, fmt.Errorf("store: reading changed quarter hours: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var b int64
		if err := rows.Scan(&b); err != nil {
			return c, fmt.Errorf("store: reading changed quarter hours: %w", err)
		}
		c.dirty = append(c.dirty, b)
	}
	if err := rows.Err(); err != nil {
		return c, fmt.Errorf("store: reading changed quarter hours: %w", err)
	}
	return c, nil
}

// span is a range of bucket starts [lo, hi), unix seconds. Reads by step
// group its buckets into steps of step seconds counted from origin.
type span struct{ lo, hi, origin, step int64 }

// readPlan lists, per table, the spans it answers.
type readPlan map[string][]span

// add appends [lo, hi) to table's spans, merging with the last one.
func (p readPlan) add(table string, lo, hi int64) {
	ss := p[table]
	if n := len(ss); n > 0 && ss[n-1].hi == lo {
		ss[n-1].hi = hi
	} else {
		ss = append(ss, span{lo: lo, hi: hi})
	}
	p[table] = ss
}

// planSpans splits [lo, hi) (multiples of 900) between rollup_15m and the
// cubes: wholly compacted UTC days from cube_1d and hours from cube_1h
// unless fine, other compacted quarter hours from cube_15m, the rest from
// rollup_15m; no piece crosses a cut. With cubesDays only whole days come
// from the cubes, with cubesHours days and hours; with cubesNone everything
// is read from rollup_15m.
func planSpans(lo, hi int64, cuts []int64, cov *coverage, use cubeUse, fine bool) readPlan {
	p := readPlan{}
	if use == cubesNone {
		if hi > lo {
			p.add("rollup_15m", lo, hi)
		}
		return p
	}
	ci := 0
	for t := lo; t < hi; {
		if t >= cov.watermark {
			p.add("rollup_15m", t, hi) // nothing is compacted from here on
			break
		}
		for ci < len(cuts) && cuts[ci] <= t {
			ci++
		}
		next := hi
		if ci < len(cuts) && cuts[ci] < next {
			next = cuts[ci]
		}
		table, size := "rollup_15m", int64(900)
		switch {
		case !fine && floorTo(t, 86400) == t && t+86400 <= next && cov.covers(t, 86400):
			table, size = "cube_1d", 86400
		case use >= cubesHours && !fine && floorTo(t, 3600) == t && t+3600 <= next && cov.covers(t, 3600):
			table, size = "cube_1h", 3600
		case use == cubesAll && cov.covers(t, 900):
			table = "cube_15m"
		}
		p.add(table, t, t+size)
		t += size
	}
	return p
}

// ceilBucket returns the first bucket start at or after t.
func ceilBucket(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return floorTo(s+899, 900)
}

// filterIDs are the dict ids of a Filter's lists, by rollup column.
type filterIDs struct {
	cols []string
	ids  [][]int64
	// none is set when a list names no known value: nothing matches.
	none bool
}

// resolveFilter looks up the dict ids of f's lists.
func (s *Store) resolveFilter(ctx context.Context, f *Filter) (filterIDs, error) {
	var r filterIDs
	for _, d := range filterDims(f) {
		if len(d.values) == 0 {
			continue
		}
		ids, err := s.lookupIDs(ctx, d.kind, d.values)
		if err != nil {
			return r, err
		}
		if len(ids) == 0 {
			r.none = true
		}
		r.cols = append(r.cols, d.col)
		r.ids = append(r.ids, ids)
	}
	return r, nil
}

// cubeUse says which cube tables a read may use.
type cubeUse int

// Cube uses, in increasing order: none (rollup_15m only), cube_1d only
// (pairs), cube_1d and cube_1h (hourlyPair pairs), all.
const (
	cubesNone cubeUse = iota
	cubesDays
	cubesHours
	cubesAll
)

// cubeChoice is the cube rows that can answer a read.
type cubeChoice struct {
	use  cubeUse
	code int               // dim code
	cols map[string]string // rollup dimension -> cube column (value, value2)
}

// col returns the cube column of a rollup dimension or of upstream/failed.
func (c *cubeChoice) col(dim string) string {
	if v, ok := c.cols[dim]; ok {
		return v
	}
	return dim
}

// cubeFor chooses the cube rows that can answer a read filtering on fcols
// and grouping by group: a single dimension's at every granularity, a
// pair's (cubePairs) for whole days, and hours for the pairs with model;
// use is cubesNone when only rollup_15m can.
func cubeFor(fcols []string, group string) cubeChoice {
	var dims []string
	for _, c := range append(append([]string(nil), fcols...), group) {
		if c != "" && c != "upstream" && c != "failed" && !slices.Contains(dims, c) {
			dims = append(dims, c)
		}
	}
	switch len(dims) {
	case 0:
		return cubeChoice{use: cubesAll}
	case 1:
		if code, ok := cubeCode(dims[0]); ok {
			return cubeChoice{use: cubesAll, code: code, cols: map[string]string{dims[0]: "value"}}
		}
	case 2:
		if code, aFirst, ok := cubePairCode(dims[0], dims[1]); ok {
			cols := map[string]string{dims[0]: "value", dims[1]: "value2"}
			if !aFirst {
				cols = map[string]string{dims[0]: "value2", dims[1]: "value"}
			}
			use := cubesDays
			if hourlyPair(code - len(cubeDims)) {
				use = cubesHours
			}
			return cubeChoice{use: use, code: code, cols: cols}
		}
	}
	return cubeChoice{use: cubesNone}
}

// readRollups runs rr and calls fn for every row read, in no particular
// order: with byBucket, one row per (step, group key) per table piece,
// so callers sum rows of equal keys; key is the group's id (0 without a
// group; for failed 0 or 1).
func (s *Store) readRollups(ctx context.Context, rr rollupRead, fn func(bucket, key int64, a *agg)) error {
	f := rr.f
	if f.eventsOnly() {
		return errors.New("store: minimum latency and text search apply to events only, not to rollup queries")
	}
	fids, err := s.resolveFilter(ctx, &f)
	if err != nil || fids.none {
		return err
	}
	choice := cubeFor(fids.cols, rr.group)
	if s.noCubes {
		choice.use = cubesNone
	}
	// Prepare (or find) the statements before taking a read connection
	// for the transaction: preparing on the pool while holding one could
	// wait forever for a connection when every reader does the same.
	tables := []string{"rollup_15m"}
	switch choice.use {
	case cubesAll:
		tables = append(tables, "cube_15m", "cube_1h", "cube_1d")
	case cubesDays:
		tables = append(tables, "cube_1d")
	case cubesHours:
		tables = append(tables, "cube_1h", "cube_1d")
	}
	queries := make(map[string]spanQuery, len(tables))
	for _, t := range tables {
		sq := buildSpanQuery(t, &choice, &fids, rr)
		if sq.stmt, err = s.cachedStmt(ctx, sq.sql); err != nil {
			return fmt.Errorf("store: reading %s: %w", t, err)
		}
		queries[t] = sq
	}

	tx, err := s.rdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: reading rollups: %w", err)
	}
	defer func() { _ = tx.Rollback() }()

	lo, hi := int64(0), int64(0)
	if f.From.IsZero() || f.To.IsZero() {
		var mn, mx sql.NullInt64
		if err := tx.QueryRowContext(ctx, "SELECT (SELECT min(bucket) FROM rollup_15m), (SELECT max(bucket) FROM rollup_15m)").Scan(&mn, &mx); err != nil {
			return fmt.Errorf("store: reading rollups: %w", err)
		}
		if !mn.Valid {
			return nil
		}
		lo, hi = mn.Int64, mx.Int64+900
	}
	if !f.From.IsZero() {
		lo = ceilBucket(f.From)
	}
	if !f.To.IsZero() {
		hi = ceilBucket(f.To)
	}
	if hi <= lo {
		return nil
	}
	var cov coverage
	if choice.use != cubesNone {
		if cov, err = readCoverage(ctx, tx, lo, hi); err != nil {
			return err
		}
	}
	plan := planSpans(lo, hi, rr.cuts, &cov, choice.use, rr.fine)
	for _, table := range tables {
		if spans := plan[table]; len(spans) > 0 {
			if rr.byBucket {
				spans = splitSteps(spans, rr.cuts)
			}
			if err := queries[table].run(ctx, tx, spans, rr.byBucket, fn); err != nil {
				return fmt.Errorf("store: reading %s: %w", table, err)
			}
		}
	}
	return nil
}

// spanQuery is the aggregate read of one table, run once per span.
type spanQuery struct {
	sql     string
	args    []any
	spanArg int  // index in args of the span's lower bound (upper next)
	grouped bool // the first column after the bucket is the group key
	cube    bool // rows are cube rows, not sums (see scanAggRows)
	stmt    *sql.Stmt
}

// buildSpanQuery writes the read of table for rr.
func buildSpanQuery(table string, choice *cubeChoice, fids *filterIDs, rr rollupRead) spanQuery {
	cube := table != "rollup_15m"
	w := &where{}
	if cube {
		w.add("dim = ?", choice.code)
	}
	w.add("bucket >= ? AND bucket < ?", 0, 0) // bound per span
	sq := spanQuery{spanArg: len(w.args) - 2}
	for i, col := range fids.cols {
		if cube {
			col = choice.col(col)
		}
		args := make([]any, len(fids.ids[i]))
		for j, id := range fids.ids[i] {
			args[j] = id
		}
		w.add(col+" IN ("+placeholders(len(args))+")", args...)
	}
	if rr.f.Failed != nil {
		w.add("failed = ?", boolInt(*rr.f.Failed))
	}
	groupCol := rr.group
	if cube && groupCol != "" {
		groupCol = choice.col(groupCol)
	}
	var sel, grp []string
	if rr.byBucket {
		// The step's start: origin + whole steps (see splitSteps).
		sel, grp = append(sel, "?+((bucket-?)/?)*? AS step"), append(grp, "step")
	}
	if groupCol != "" {
		sel, grp = append(sel, groupCol), append(grp, groupCol)
	}
	if cube {
		// Cube rows are few and carry their histograms as BLOBs, which SQL
		// cannot sum: they are read as they are and summed by the caller.
		sq.sql = "SELECT " + strings.Join(append(sel, "failed", cubeMeasureCols), ",") + " FROM " + table + w.sql()
	} else {
		sq.sql = "SELECT " + strings.Join(append(sel, aggSelect), ",") + " FROM " + table + w.sql()
		if len(grp) > 0 {
			sq.sql += " GROUP BY " + strings.Join(grp, ",")
		}
	}
	sq.args, sq.grouped, sq.cube = w.args, groupCol != "", cube
	if rr.byBucket {
		sq.args = append([]any{0, 0, 0, 0}, sq.args...)
		sq.spanArg += 4
	}
	return sq
}

// run reads every span in tx.
func (sq spanQuery) run(ctx context.Context, tx *sql.Tx, spans []span, byBucket bool, fn func(bucket, key int64, a *agg)) error {
	var st *sql.Stmt
	if sq.stmt != nil {
		st = tx.StmtContext(ctx, sq.stmt)
	} else {
		var err error
		if st, err = tx.PrepareContext(ctx, sq.sql); err != nil {
			return err
		}
	}
	defer st.Close()
	args := append([]any(nil), sq.args...)
	for _, sp := range spans {
		args[sq.spanArg], args[sq.spanArg+1] = sp.lo, sp.hi
		if byBucket {
			args[0], args[1], args[2], args[3] = sp.origin, sp.origin, sp.step, sp.step
		}
		if err := scanAggRows(ctx, st, args, byBucket, sq.grouped, sq.cube, fn); err != nil {
			return err
		}
	}
	return nil
}

// scanAggRows runs a prepared read and calls fn per row. The rows are
// rollup sums (aggSelect) or, with cube, cube rows (failed and
// cubeMeasureCols).
func scanAggRows(ctx context.Context, st *sql.Stmt, args []any, byBucket, grouped, cube bool, fn func(bucket, key int64, a *agg)) error {
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var bucket, key int64
	var a agg
	var d []any
	if byBucket {
		d = append(d, &bucket)
	}
	if grouped {
		d = append(d, &key)
	}
	var failed int64
	var lat, ttft []byte
	if cube {
		d = append(d, &failed)
		for i := range cubeScalars {
			d = append(d, &a.m[i])
		}
		d = append(d, &lat, &ttft)
	} else {
		d = append(d, a.dests()...)
	}
	for rows.Next() {
		if err := rows.Scan(d...); err != nil {
			return err
		}
		if cube {
			a.failed = failed * a.m[mAttempts]
			clear(a.m[mLat0:])
			if err := addHist(a.m[mLat0:mLat0+histBins], lat); err != nil {
				return err
			}
			if err := addHist(a.m[mTTFT0:mTTFT0+histBins], ttft); err != nil {
				return err
			}
		}
		if a.m[mAttempts] == 0 {
			continue // the row of an aggregate over nothing
		}
		fn(bucket, key, &a)
	}
	return rows.Err()
}

// maxCachedReads bounds the prepared read statements the store keeps.
const maxCachedReads = 256

// cachedStmt returns q prepared on the read pool, or nil when
// maxCachedReads statements are kept already (the caller then prepares
// it in its transaction). Statements are kept because parsing a
// 61-column aggregate costs about as much as reading a few hundred rows.
func (s *Store) cachedStmt(ctx context.Context, q string) (*sql.Stmt, error) {
	s.reads.mu.Lock()
	defer s.reads.mu.Unlock()
	if st := s.reads.stmts[q]; st != nil || len(s.reads.stmts) >= maxCachedReads {
		return st, nil
	}
	st, err := s.rdb.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if s.reads.stmts == nil {
		s.reads.stmts = map[string]*sql.Stmt{}
	}
	s.reads.stmts[q] = st
	return st, nil
}

// readStmts are the prepared read statements of readStmt.
type readStmts struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

// close closes the kept statements.
func (r *readStmts) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, st := range r.stmts {
		_ = st.Close()
	}
	r.stmts = nil
}

// splitSteps prepares spans for a read by step: it cuts them where the
// step length changes (a daylight saving change, the ends of the cuts) and
// gives each piece the origin and length of its steps, so that SQL sums
// whole steps instead of returning every bucket. Without cuts every bucket
// is its own step.
func splitSteps(spans []span, cuts []int64) []span {
	var out []span
	for _, sp := range spans {
		lo := sp.lo
		for lo < sp.hi {
			// The step containing lo: cuts[i] <= lo < cuts[i+1].
			i := sort.Search(len(cuts), func(i int) bool { return cuts[i] > lo }) - 1
			if i < 0 || i+1 >= len(cuts) {
				// Outside the cuts (no cuts): one bucket per step.
				out = append(out, span{lo: lo, hi: sp.hi, origin: 0, step: 900})
				break
			}
			step := cuts[i+1] - cuts[i]
			j := i + 1 // extend while the steps keep their length
			for j+1 < len(cuts) && cuts[j+1]-cuts[j] == step && cuts[j] < sp.hi {
				j++
			}
			hi := min(sp.hi, cuts[j])
			out = append(out, span{lo: lo, hi: hi, origin: cuts[i], step: step})
			lo = hi
		}
	}
	return out
}
