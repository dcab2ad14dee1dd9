package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// This file keeps the cubes: coarse rollups derived from rollup_15m.
//
// rollup_15m is the source of truth of every analytics query, keyed by nine
// dimensions, so that any filter can be answered. Its rows barely
// aggregate real traffic (about one row per two events), which makes a
// 30-day query read millions of rows. The cubes keep, per granularity
// (cube_15m, cube_1h, cube_1d), rows per single dimension keyed by (dim,
// bucket, upstream, value, value2, failed), where dim says which rollup
// dimension value holds (cubeDims; 0 is the total, value 0); cube_1d (and
// cube_1h for the pairs with model) also rows per pair of dimensions
// (cubePairs, value and value2). A query that filters or groups by one
// such dimension or pair besides upstream and failed reads them; the
// others read rollup_15m as before.
//
// The cubes are derived, never written by ingest. Compaction rebuilds
// them from rollup_15m, a few quarter hours per write transaction, and
// advances a watermark (meta cube_watermark, unix seconds, a multiple of
// 900): every quarter hour before it is compacted, except those listed in
// cube_dirty. An hour's cube_1h rows (a day's cube_1d rows) are valid when
// all its quarter hours are. A commit or a cost recompute that changes
// rollup_15m before the watermark lists the quarter hour in cube_dirty in
// the same transaction, and queries stop using the cubes for it until
// compaction has rebuilt it. So a query, which reads the watermark, the
// changed quarter hours and the tables in one read transaction, is exact
// at every moment: compaction only decides how fast it is.

// cubeDims are the rollup dimensions the cubes hold, by dim code; code 0
// (the empty name) is the total over all of them.
var cubeDims = []string{"", "model", "alias", "provider", "auth_index", "api_key", "endpoint", "service_tier"}

// cubePairs are the pairs of cubeDims (without the total) that cube_1d
// also holds, by dim code len(cubeDims)+i: value is the first dimension's
// id, value2 the second's. They answer queries that filter or group by two
// dimensions at once (a model filter and a breakdown by credential) for
// whole days; finer granularities would hold more rows than rollup_15m.
var cubePairs = func() [][2]string {
	var out [][2]string
	for i := 1; i < len(cubeDims); i++ {
		for j := i + 1; j < len(cubeDims); j++ {
			out = append(out, [2]string{cubeDims[i], cubeDims[j]})
		}
	}
	return out
}()

// cubeCode returns the dim code of a rollup dimension, or false when the
// cubes do not hold it.
func cubeCode(dim string) (int, bool) {
	for i, d := range cubeDims {
		if d == dim && dim != "" {
			return i, true
		}
	}
	return 0, false
}

// hourlyPair reports whether cube_1h holds cubePairs[i] too: the pairs
// with model, what Monitoring asks for after a click on a model (or on
// anything else, broken down by model). All 21 pairs by hour would hold
// more rows than rollup_15m; these six about as many as cube_15m.
func hourlyPair(i int) bool { return cubePairs[i][0] == "model" || cubePairs[i][1] == "model" }

// cubePairCode returns the dim code of a pair of dimensions (in either
// order) and whether a is the pair's first, or false when the cubes do not
// hold the pair.
func cubePairCode(a, b string) (code int, aFirst, ok bool) {
	for i, p := range cubePairs {
		if p == [2]string{a, b} || p == [2]string{b, a} {
			return len(cubeDims) + i, p[0] == a, true
		}
	}
	return 0, false, false
}

// cubeCodeCount is the number of dim codes: singles, then pairs.
var cubeCodeCount = len(cubeDims) + len(cubePairs)

// cubeTables are the cube tables by granularity, finest first.
var cubeTables = []struct {
	name string
	secs int64
}{{"cube_15m", 900}, {"cube_1h", 3600}, {"cube_1d", 86400}}

// cubeSchemaVersion is the schema version that adds the cubes.
const cubeSchemaVersion = 5

// metaCubeWatermark is the meta key of the compaction watermark.
const metaCubeWatermark = "cube_watermark"

// cubeDDL creates the cube tables and cube_dirty (migration 5).
func cubeDDL() string {
	var b strings.Builder
	for _, t := range cubeTables {
		fmt.Fprintf(&b, `CREATE TABLE %s(
	dim          INTEGER NOT NULL, -- cubeDims code
	bucket       INTEGER NOT NULL, -- unix seconds, a multiple of the granularity
	upstream     INTEGER NOT NULL,
	value        INTEGER NOT NULL, -- dict id (0 for the total)
	value2       INTEGER NOT NULL, -- the second dict id of a pair (cubePairs), else 0
	failed       INTEGER NOT NULL,
	attempts     INTEGER NOT NULL DEFAULT 0,
	uncached     INTEGER NOT NULL DEFAULT 0,
	cache_read   INTEGER NOT NULL DEFAULT 0,
	cache_write  INTEGER NOT NULL DEFAULT 0,
	output       INTEGER NOT NULL DEFAULT 0,
	reasoning    INTEGER NOT NULL DEFAULT 0,
	unclassified INTEGER NOT NULL DEFAULT 0,
	cost         INTEGER NOT NULL DEFAULT 0,
	unpriced     INTEGER NOT NULL DEFAULT 0,
	latency_sum  INTEGER NOT NULL DEFAULT 0,
	ttft_sum     INTEGER NOT NULL DEFAULT 0,
	ttft_n       INTEGER NOT NULL DEFAULT 0,
	lat          BLOB    NOT NULL DEFAULT x'', -- latency histogram, see appendHist
	ttft         BLOB    NOT NULL DEFAULT x'', -- TTFT histogram
	PRIMARY KEY(dim, bucket, upstream, value, value2, failed)
) WITHOUT ROWID;
`, t.name)
	}
	b.WriteString(`
-- Quarter hours (unix seconds) before the watermark whose rollup_15m rows
-- changed after they were compacted.
CREATE TABLE cube_dirty(bucket INTEGER PRIMARY KEY) WITHOUT ROWID;
`)
	return b.String()
}

// cubeScalars are the measure columns of a cube row before its two
// histograms: rollupMeasures up to the first bin.
var cubeScalars = rollupMeasures[:mLat0]

// cubeMeasureCols is the measure column list of a cube row.
var cubeMeasureCols = strings.Join(cubeScalars, ",") + ",lat,ttft"

// cubeInsertCols is the column list of a cube insert.
var cubeInsertCols = "dim,bucket,upstream,value,value2,failed," + cubeMeasureCols

// The histograms of a cube row are BLOBs rather than rollup_15m's 48
// columns: a reader fetches two values instead of 48 (database/sql costs
// about 150 ns a column, which made 30-day time series slow) and the rows
// are smaller. A histogram is encoded as (bin, count) pairs of uvarints,
// for the bins whose count is not zero, in bin order.

// appendHist appends the encoding of bins to dst.
func appendHist(dst []byte, bins []int64) []byte {
	for i, n := range bins {
		if n != 0 {
			dst = binary.AppendUvarint(dst, uint64(i))
			dst = binary.AppendUvarint(dst, uint64(n))
		}
	}
	return dst
}

// addHist adds an encoded histogram to bins.
func addHist(bins []int64, enc []byte) error {
	for len(enc) > 0 {
		i, n1 := binary.Uvarint(enc)
		if n1 <= 0 {
			return errors.New("store: corrupt cube histogram")
		}
		c, n2 := binary.Uvarint(enc[n1:])
		if n2 <= 0 || i >= uint64(len(bins)) {
			return errors.New("store: corrupt cube histogram")
		}
		bins[i] += int64(c)
		enc = enc[n1+n2:]
	}
	return nil
}

// allCubeCodes is "0,1,...", every dim code.
var allCubeCodes = func() string {
	codes := make([]string, cubeCodeCount)
	for i := range codes {
		codes[i] = strconv.Itoa(i)
	}
	return strings.Join(codes, ",")
}()

// hourOf returns the UTC hour (unix seconds) a bucket lies in.
func hourOf(bucket int64) int64 { return floorTo(bucket, 3600) }

// floorTo rounds t down to a multiple of unit (t may be negative).
func floorTo(t, unit int64) int64 {
	r := t % unit
	if r < 0 {
		r += unit
	}
	return t - r
}

// markDirty lists the buckets that lie before the watermark in
// cube_dirty, in the writer's transaction.
func (w *writer) markDirty(buckets map[int64]struct{}) error {
	for b := range buckets {
		if b >= w.cubeW {
			continue
		}
		if _, err := w.exec("INSERT OR IGNORE INTO cube_dirty(bucket) VALUES(?)", b); err != nil {
			return fmt.Errorf("store: listing a changed quarter hour for compaction: %w", err)
		}
	}
	return nil
}

// readCubeWatermark reads the compaction watermark (0 before the first
// compaction) on the writer's connection or in a read transaction.
func readCubeWatermark(ctx context.Context, q queryer) (int64, error) {
	var v sql.NullString
	err := q.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", metaCubeWatermark).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !v.Valid) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: reading the compaction watermark: %w", err)
	}
	n, err := strconv.ParseInt(v.String, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("store: compaction watermark %q is not a number", v.String)
	}
	return n, nil
}

// CompactionStatus says how far the cubes have been built.
type CompactionStatus struct {
	// Watermark is the end of the compacted quarter hours (zero before the
	// first compaction).
	Watermark time.Time
	// Pending counts the quarter hours waiting for compaction: changed
	// ones before the watermark and complete ones after it.
	Pending int64
	// LastError is the last background compaction error, "" when the last
	// run succeeded.
	LastError string
}

// compactor runs compaction in the background (see startCompactor).
type compactor struct {
	mu      sync.Mutex // serialises Compact
	kick    chan struct{}
	stop    chan struct{}
	cancel  context.CancelFunc // ends a running Compact at stop
	done    chan struct{}
	lastErr atomic.Pointer[string]
}

// compactBatch is how many quarter hours one write transaction compacts
// at most, so that ingest never waits long for the writer.
const compactBatch = 8

// Compact brings the cubes up to date: it rebuilds the changed quarter
// hours, compacts every complete quarter hour up to the newest one in
// rollup_15m (which is still filling), and rebuilds the hours and days
// whose quarters are all compacted. Every few quarter hours are one write
// transaction. It returns how many quarter hours it compacted. The store
// also compacts in the background after commits; Compact is for tests and
// tools that need the cubes now.
func (s *Store) Compact(ctx context.Context) (int, error) {
	s.cubes.mu.Lock()
	defer s.cubes.mu.Unlock()
	total := 0
	for {
		n, more, err := s.compactStep(ctx)
		total += n
		if err != nil || !more {
			return total, err
		}
	}
}

// compactStep compacts up to compactBatch quarter hours in one write
// transaction and reports whether more remain.
func (s *Store) compactStep(ctx context.Context) (int, bool, error) {
	// The writer sets n and more; they are read only after a successful
	// do, which synchronises with it (on a cancelled context do returns
	// while the writer may still run the request).
	var n int
	var more bool
	err := s.do(ctx, func(w *writer) error {
		n, more = 0, false
		if err := w.prepareCube(); err != nil {
			return err
		}
		var quarters []int64
		rows, err := w.cube.dirty.QueryContext(w.ctx, compactBatch+1)
		if err != nil {
			return fmt.Errorf("store: compacting: reading changed quarter hours: %w", err)
		}
		for rows.Next() {
			var b int64
			if err := rows.Scan(&b); err != nil {
				rows.Close()
				return fmt.Errorf("store: compacting: reading changed quarter hours: %w", err)
			}
			quarters = append(quarters, b)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("store: compacting: reading changed quarter hours: %w", err)
		}
		if len(quarters) > compactBatch {
			quarters, more = quarters[:compactBatch], true
		}
		for _, b := range quarters {
			if _, err := w.cube.undirty.ExecContext(w.ctx, b); err != nil {
				return fmt.Errorf("store: compacting: %w", err)
			}
			if err := w.compactQuarters(b, b+900); err != nil {
				return err
			}
		}

		// Advance the watermark over complete quarter hours.
		var lo, hi sql.NullInt64
		if err := w.conn.QueryRowContext(w.ctx, "SELECT (SELECT min(bucket) FROM rollup_15m), (SELECT max(bucket) FROM rollup_15m)").Scan(&lo, &hi); err != nil {
			return fmt.Errorf("store: compacting: reading the rollup range: %w", err)
		}
		wm := w.cubeW
		if hi.Valid {
			if wm == 0 {
				wm = lo.Int64
			}
			// The newest quarter hour is still filling.
			if end := min(hi.Int64, wm+int64(compactBatch-len(quarters))*900); end > wm {
				if err := w.compactQuarters(wm, end); err != nil {
					return err
				}
				for b := wm; b < end; b += 900 {
					quarters = append(quarters, b)
				}
				wm = end
			}
			more = more || wm < hi.Int64
		}
		if wm != w.cubeW {
			if _, err := w.putMeta.ExecContext(w.ctx, metaCubeWatermark, strconv.FormatInt(wm, 10)); err != nil {
				return fmt.Errorf("store: compacting: saving the watermark: %w", err)
			}
		}
		hours, days := map[int64]struct{}{}, map[int64]struct{}{}
		for _, b := range quarters {
			hours[hourOf(b)] = struct{}{}
			days[floorTo(b, 86400)] = struct{}{}
		}
		for h := range hours {
			if err := w.rollUpCube(w.cube.readQuarters, w.cube.delHour, w.cube.insHour, h, 3600, wm, hourlyPair); err != nil {
				return err
			}
		}
		for d := range days {
			// cube_1h holds the hourly pairs already; the others come from
			// rollup_15m.
			if err := w.rollUpCube(w.cube.readHours, w.cube.delDay, w.cube.insDay, d, 86400, wm, func(i int) bool { return !hourlyPair(i) }); err != nil {
				return err
			}
		}
		// Raise the writer's watermark last: a value above the stored one
		// only lists more quarter hours as changed, never fewer.
		w.cubeW = max(w.cubeW, wm)
		n = len(quarters)
		return nil
	})
	if err != nil {
		return 0, false, err
	}
	return n, more, nil
}

// cubeStmts are the writer's prepared compaction statements.
type cubeStmts struct {
	dirty, undirty, countDirty  *sql.Stmt
	readRollups                 *sql.Stmt
	delQuarters, readQuarters   *sql.Stmt
	delHour, readHours          *sql.Stmt
	delDay                      *sql.Stmt
	insQuarter, insHour, insDay cubeInsert
}

// all lists the statements, for closing.
func (c *cubeStmts) all() []*sql.Stmt {
	return []*sql.Stmt{c.dirty, c.undirty, c.countDirty, c.readRollups, c.delQuarters, c.readQuarters,
		c.delHour, c.readHours, c.delDay, c.insQuarter.one, c.insQuarter.many, c.insHour.one, c.insHour.many,
		c.insDay.one, c.insDay.many}
}

// prepareCube prepares the compaction statements on first use.
func (w *writer) prepareCube() error {
	if w.cube != nil {
		return nil
	}
	c := &cubeStmts{}
	ins := func(table string, rows int) string {
		vals := make([]string, rows)
		for i := range vals {
			vals[i] = "(" + placeholders(cubeRowArgs) + ")"
		}
		return "INSERT INTO " + table + "(" + cubeInsertCols + ") VALUES" + strings.Join(vals, ",")
	}
	read := func(table string) string {
		return "SELECT dim, upstream, value, value2, failed, " + cubeMeasureCols + " FROM " + table +
			" WHERE dim IN (" + allCubeCodes + ") AND bucket >= ? AND bucket < ?"
	}
	for _, p := range []struct {
		dst **sql.Stmt
		q   string
	}{
		{&c.dirty, "SELECT bucket FROM cube_dirty ORDER BY bucket LIMIT ?"},
		{&c.undirty, "DELETE FROM cube_dirty WHERE bucket = ?"},
		{&c.countDirty, "SELECT count(*) FROM cube_dirty WHERE bucket >= ? AND bucket < ?"},
		{&c.readRollups, "SELECT bucket," + strings.Join(rollupDims, ",") + "," + strings.Join(rollupMeasures, ",") +
			" FROM rollup_15m WHERE bucket >= ? AND bucket < ?"},
		{&c.delQuarters, "DELETE FROM cube_15m WHERE dim IN (" + allCubeCodes + ") AND bucket >= ? AND bucket < ?"},
		{&c.insQuarter.one, ins("cube_15m", 1)},
		{&c.insQuarter.many, ins("cube_15m", cubeInsertBatch)},
		{&c.readQuarters, read("cube_15m")},
		{&c.delHour, "DELETE FROM cube_1h WHERE dim IN (" + allCubeCodes + ") AND bucket = ?"},
		{&c.insHour.one, ins("cube_1h", 1)},
		{&c.insHour.many, ins("cube_1h", cubeInsertBatch)},
		{&c.readHours, read("cube_1h")},
		{&c.delDay, "DELETE FROM cube_1d WHERE dim IN (" + allCubeCodes + ") AND bucket = ?"},
		{&c.insDay.one, ins("cube_1d", 1)},
		{&c.insDay.many, ins("cube_1d", cubeInsertBatch)},
	} {
		st, err := w.conn.PrepareContext(w.ctx, p.q)
		if err != nil {
			for _, st := range c.all() {
				if st != nil {
					_ = st.Close()
				}
			}
			return fmt.Errorf("store: preparing compaction: %w", err)
		}
		*p.dst = st
	}
	w.cube = c
	return nil
}

// cubeKey is the key of a cube row.
type cubeKey struct {
	dim, bucket, upstream, value, value2, failed int64
}

// cubeDimIndex maps each cubeDims code to its index in rollupDims (-1 for
// the total).
var cubeDimIndex = func() []int {
	idx := make([]int, len(cubeDims))
	for i, d := range cubeDims {
		idx[i] = -1
		for j, r := range rollupDims {
			if r == d {
				idx[i] = j
			}
		}
	}
	return idx
}()

// Indexes of upstream and failed in rollupDims.
const (
	rdUpstream = 0
	rdFailed   = 7
)

// compactQuarters rebuilds the cube_15m rows of the quarter hours in
// [lo, hi) from rollup_15m. The rows are summed in Go: one pass over the
// rollup rows for every dimension at once, where SQL would need one
// GROUP BY per dimension.
func (w *writer) compactQuarters(lo, hi int64) error {
	if _, err := w.cube.delQuarters.ExecContext(w.ctx, lo, hi); err != nil {
		return fmt.Errorf("store: compacting %d-%d: %w", lo, hi, err)
	}
	acc := map[cubeKey]*[nMeasAll]int64{}
	err := w.eachRollup(lo, hi, func(bucket int64, dims *[9]int64, m *[nMeasAll]int64) {
		for code, di := range cubeDimIndex {
			k := cubeKey{dim: int64(code), bucket: bucket, upstream: dims[rdUpstream], failed: dims[rdFailed]}
			if di >= 0 {
				k.value = dims[di]
			}
			addTo(acc, k, m)
		}
	})
	if err != nil {
		return fmt.Errorf("store: compacting %d-%d: %w", lo, hi, err)
	}
	if err := w.insertCubeRows(w.cube.insQuarter, acc); err != nil {
		return fmt.Errorf("store: compacting %d-%d: %w", lo, hi, err)
	}
	return nil
}

// addTo adds m to the row of k in acc.
func addTo(acc map[cubeKey]*[nMeasAll]int64, k cubeKey, m *[nMeasAll]int64) {
	sum := acc[k]
	if sum == nil {
		sum = new([nMeasAll]int64)
		acc[k] = sum
	}
	for i, v := range m {
		sum[i] += v
	}
}

// eachRollup calls fn with every rollup_15m row of the buckets in
// [lo, hi); fn must not keep dims or m.
func (w *writer) eachRollup(lo, hi int64, fn func(bucket int64, dims *[9]int64, m *[nMeasAll]int64)) error {
	rows, err := w.cube.readRollups.QueryContext(w.ctx, lo, hi)
	if err != nil {
		return err
	}
	defer rows.Close()
	var bucket int64
	var dims [9]int64
	var m [nMeasAll]int64
	dest := []any{&bucket}
	for i := range dims {
		dest = append(dest, &dims[i])
	}
	for i := range m {
		dest = append(dest, &m[i])
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		fn(bucket, &dims, &m)
	}
	return rows.Err()
}

// cubePairIndex maps each cubePairs entry to the indexes of its two
// dimensions in rollupDims.
var cubePairIndex = func() [][2]int {
	idx := make([][2]int, len(cubePairs))
	for i, p := range cubePairs {
		for j, r := range rollupDims {
			if r == p[0] {
				idx[i][0] = j
			}
			if r == p[1] {
				idx[i][1] = j
			}
		}
	}
	return idx
}()

// cubeInsertBatch is how many rows one cube insert statement writes:
// database/sql and the driver cost a few microseconds per statement, as
// much as SQLite's insert of a row.
const cubeInsertBatch = 32

// cubeInsert inserts cube rows into one table.
type cubeInsert struct {
	one, many *sql.Stmt // one row, cubeInsertBatch rows
}

// cubeRowArgs is the number of values of one cube row.
const cubeRowArgs = 8 + mLat0

// insertCubeRows inserts summed cube rows with ins.
func (w *writer) insertCubeRows(ins cubeInsert, acc map[cubeKey]*[nMeasAll]int64) error {
	args := make([]any, 0, cubeInsertBatch*cubeRowArgs)
	for k, sum := range acc {
		args = append(args, k.dim, k.bucket, k.upstream, k.value, k.value2, k.failed)
		for _, v := range sum[:mLat0] {
			args = append(args, v)
		}
		// Each row its own slices: the driver reads them during Exec.
		args = append(args, appendHist([]byte{}, sum[mLat0:mLat0+histBins]), appendHist([]byte{}, sum[mTTFT0:mTTFT0+histBins]))
		if len(args) == cap(args) {
			if _, err := ins.many.ExecContext(w.ctx, args...); err != nil {
				return err
			}
			args = args[:0]
		}
	}
	for i := 0; i < len(args); i += cubeRowArgs {
		if _, err := ins.one.ExecContext(w.ctx, args[i:i+cubeRowArgs]...); err != nil {
			return err
		}
	}
	return nil
}

// rollUpCube rebuilds the coarse cube rows starting at start (an hour or a
// day, size secs) by summing the rows of the next finer cube (read), when
// every quarter hour in it lies before the watermark wm and none is
// waiting in cube_dirty; otherwise queries do not read those rows, and
// they are rebuilt later.
//
// The finer rows include the pairs the finer cube holds; the rows of the
// cubePairs entries that pairs selects are summed from rollup_15m: the
// hourly pairs for hours, the others for days.
func (w *writer) rollUpCube(read, del *sql.Stmt, ins cubeInsert, start, secs, wm int64, pairs func(i int) bool) error {
	if start+secs > wm {
		return nil
	}
	var dirty int
	if err := w.cube.countDirty.QueryRowContext(w.ctx, start, start+secs).Scan(&dirty); err != nil {
		return fmt.Errorf("store: compacting %d: %w", start, err)
	}
	if dirty > 0 {
		return nil
	}
	if _, err := del.ExecContext(w.ctx, start); err != nil {
		return fmt.Errorf("store: compacting %d: %w", start, err)
	}
	rows, err := read.QueryContext(w.ctx, start, start+secs)
	if err != nil {
		return fmt.Errorf("store: compacting %d: %w", start, err)
	}
	acc := map[cubeKey]*[nMeasAll]int64{}
	var r cubeRow
	dest := r.dests()
	for rows.Next() {
		if err := r.scan(rows, dest); err != nil {
			rows.Close()
			return fmt.Errorf("store: compacting %d: %w", start, err)
		}
		addTo(acc, cubeKey{dim: r.dim, bucket: start, upstream: r.upstream, value: r.value, value2: r.value2, failed: r.failed}, &r.m)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return fmt.Errorf("store: compacting %d: %w", start, err)
	}
	var want []int
	for i := range cubePairs {
		if pairs(i) {
			want = append(want, i)
		}
	}
	if len(want) > 0 {
		err := w.eachRollup(start, start+secs, func(_ int64, dims *[9]int64, m *[nMeasAll]int64) {
			for _, i := range want {
				pi := cubePairIndex[i]
				addTo(acc, cubeKey{dim: int64(len(cubeDims) + i), bucket: start, upstream: dims[rdUpstream],
					value: dims[pi[0]], value2: dims[pi[1]], failed: dims[rdFailed]}, m)
			}
		})
		if err != nil {
			return fmt.Errorf("store: compacting %d: %w", start, err)
		}
	}
	if err := w.insertCubeRows(ins, acc); err != nil {
		return fmt.Errorf("store: compacting %d: %w", start, err)
	}
	return nil
}

// cubeRow is a cube row as compaction reads it.
type cubeRow struct {
	dim, upstream, value, value2, failed int64
	m                                    [nMeasAll]int64
	lat, ttft                            []byte
}

// dests returns the scan destinations of a read of dim, upstream, value,
// failed and cubeMeasureCols.
func (r *cubeRow) dests() []any {
	d := []any{&r.dim, &r.upstream, &r.value, &r.value2, &r.failed}
	for i := range cubeScalars {
		d = append(d, &r.m[i])
	}
	return append(d, &r.lat, &r.ttft)
}

// scan reads the current row into r, decoding the histograms.
func (r *cubeRow) scan(rows *sql.Rows, dest []any) error {
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	clear(r.m[mLat0:])
	if err := addHist(r.m[mLat0:mLat0+histBins], r.lat); err != nil {
		return err
	}
	return addHist(r.m[mTTFT0:mTTFT0+histBins], r.ttft)
}

// CompactionStatus reports the compaction watermark, the quarter hours
// waiting and the last background error.
func (s *Store) CompactionStatus(ctx context.Context) (CompactionStatus, error) {
	var st CompactionStatus
	tx, err := s.rdb.BeginTx(ctx, nil)
	if err != nil {
		return st, fmt.Errorf("store: reading compaction status: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	cov, err := readCoverage(ctx, tx, 0, 0)
	if err != nil {
		return st, err
	}
	var dirty int64
	var lo, hi sql.NullInt64
	if err := tx.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM cube_dirty), (SELECT min(bucket) FROM rollup_15m), (SELECT max(bucket) FROM rollup_15m)").Scan(&dirty, &lo, &hi); err != nil {
		return st, fmt.Errorf("store: reading compaction status: %w", err)
	}
	st.Pending = dirty
	if cov.watermark != 0 {
		st.Watermark = time.Unix(cov.watermark, 0).UTC()
	}
	if hi.Valid {
		from := cov.watermark
		if from == 0 {
			from = lo.Int64
		}
		if hi.Int64 > from {
			st.Pending += (hi.Int64 - from) / 900
		}
	}
	if e := s.cubes.lastErr.Load(); e != nil {
		st.LastError = *e
	}
	return st, nil
}

// compactInterval is the shortest time between two background compaction
// runs: commits arrive many times a second, compaction is needed once an
// hour (or after late data).
const compactInterval = 2 * time.Second

// startCompactor starts the background compaction goroutine; stopCompactor
// ends it.
func (s *Store) startCompactor() {
	c := &s.cubes
	c.kick = make(chan struct{}, 1)
	c.stop = make(chan struct{})
	c.done = make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go func() {
		defer close(c.done)
		tick := time.NewTicker(time.Minute)
		defer tick.Stop()
		for {
			if _, err := s.Compact(ctx); err != nil {
				if ctx.Err() != nil {
					return
				}
				msg := err.Error()
				c.lastErr.Store(&msg)
			} else {
				c.lastErr.Store(nil)
			}
			select {
			case <-c.stop:
				return
			case <-time.After(compactInterval):
			}
			select {
			case <-c.stop:
				return
			case <-c.kick:
			case <-tick.C:
			}
		}
	}()
}

// kickCompactor asks the background compaction to run soon.
func (s *Store) kickCompactor() {
	if s.cubes.kick == nil {
		return
	}
	select {
	case s.cubes.kick <- struct{}{}:
	default:
	}
}

// stopCompactor stops the background compaction and waits for it.
func (s *Store) stopCompactor() {
	if s.cubes.stop == nil {
		return
	}
	close(s.cubes.stop)
	s.cubes.cancel()
	<-s.cubes.done
}
