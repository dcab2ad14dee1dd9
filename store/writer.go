package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/cpam-caddy/cpam/usage"
)

// queryer is what the writer and the read pool have in common.
type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// writer is the state of the writer goroutine. Nothing else touches it.
type writer struct {
	s    *Store
	conn *sql.Conn
	// ctx is used for every statement: requests are not interrupted half
	// way; their own context is checked before they start.
	ctx  context.Context
	dict dictCache

	insEvent *sql.Stmt
	insExtra *sql.Stmt
	insDict  *sql.Stmt
	upRollup *sql.Stmt
	// upRollup1 is upRollup for a row made of one event: it binds the
	// latency and TTFT bin numbers instead of the 48 bin counts.
	upRollup1 *sql.Stmt
	insDead   *sql.Stmt
	putMeta   *sql.Stmt
	rollCount int
	// cubeW is the compaction watermark (cube.go): rollup changes in hours
	// before it are listed in cube_dirty. Never below the stored value.
	cubeW int64
	// cube holds the compaction statements, prepared on first use.
	cube *cubeStmts
	// accounts caches the JSON of recent accounts (see accountValue).
	accounts map[usage.Account]string
}

// rollupDims are the key columns of rollup_15m after bucket, in order.
var rollupDims = []string{"upstream", "model", "alias", "provider", "auth_index", "api_key", "endpoint", "failed", "service_tier"}

// rollupMeasures are the summed columns of rollup_15m, in order.
var rollupMeasures = func() []string {
	m := []string{"attempts", "uncached", "cache_read", "cache_write", "output", "reasoning", "unclassified",
		"cost", "unpriced", "latency_sum", "ttft_sum", "ttft_n"}
	for _, p := range []string{"l", "t"} {
		for i := 0; i < histBins; i++ {
			m = append(m, fmt.Sprintf("%s%d", p, i))
		}
	}
	return m
}()

// Indexes into rollupMeasures.
const (
	mAttempts = iota
	mUncached
	mCacheRead
	mCacheWrite
	mOutput
	mReasoning
	mUnclassified
	mCost
	mUnpriced
	mLatencySum
	mTTFTSum
	mTTFTN
	mLat0
	mTTFT0   = mLat0 + histBins
	nMeasAll = mTTFT0 + histBins
)

// eventCols are the columns Commit writes into events, in order.
var eventCols = []string{"ts", "hash", "upstream", "request_id", "auth_index", "auth_type", "provider", "executor",
	"model", "alias", "endpoint", "api_key", "source", "client_ip", "user_agent", "account", "access_token",
	"reasoning_effort", "service_tier", "response_service_tier", "status", "flags", "latency_ms", "ttft_ms",
	"uncached", "cache_read", "cache_write", "output", "reasoning", "unclassified", "cost"}

// newWriter prepares the writer's statements and loads the dictionary.
func newWriter(ctx context.Context, s *Store, conn *sql.Conn) (*writer, error) {
	w := &writer{s: s, conn: conn, ctx: context.Background()}
	if err := w.dict.load(ctx, conn); err != nil {
		return nil, err
	}
	wm, err := readCubeWatermark(ctx, conn)
	if err != nil {
		return nil, err
	}
	w.cubeW = wm
	prep := func(dst **sql.Stmt, q string) error {
		st, err := conn.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("store: preparing %q: %w", q[:min(len(q), 40)], err)
		}
		*dst = st
		return nil
	}
	cols := append(append([]string{"bucket"}, rollupDims...), rollupMeasures...)
	var set []string
	for _, m := range rollupMeasures {
		set = append(set, m+"="+m+"+excluded."+m)
	}
	rollSQL := "INSERT INTO rollup_15m(" + strings.Join(cols, ",") + ") VALUES(" + placeholders(len(cols)) +
		") ON CONFLICT(bucket," + strings.Join(rollupDims, ",") + ") DO UPDATE SET " + strings.Join(set, ",")
	w.rollCount = len(cols)
	// The one-event form: ?1..?22 are bucket, dims and the scalar measures;
	// each bin column is 1 when its number is ?23 (latency) or ?24 (TTFT,
	// -1 for none), else 0.
	nScalar := 1 + len(rollupDims) + mLat0
	one := make([]string, 0, len(cols))
	for i := 1; i <= nScalar; i++ {
		one = append(one, fmt.Sprintf("?%d", i))
	}
	for p := 0; p < 2; p++ {
		for i := 0; i < histBins; i++ {
			one = append(one, fmt.Sprintf("(?%d=%d)", nScalar+1+p, i))
		}
	}
	roll1SQL := "INSERT INTO rollup_15m(" + strings.Join(cols, ",") + ") VALUES(" + strings.Join(one, ",") +
		") ON CONFLICT(bucket," + strings.Join(rollupDims, ",") + ") DO UPDATE SET " + strings.Join(set, ",")
	for _, p := range []struct {
		dst **sql.Stmt
		q   string
	}{
		{&w.insEvent, "INSERT INTO events(" + strings.Join(eventCols, ",") + ") VALUES(" + placeholders(len(eventCols)) + ") ON CONFLICT(ts, hash) DO NOTHING"},
		{&w.insExtra, "INSERT INTO event_extra(event_id, fail_body, headers, xff) VALUES(?,?,?,?)"},
		{&w.insDict, "INSERT INTO dict(kind, value, mask) VALUES(?,?,?)"},
		{&w.upRollup, rollSQL},
		{&w.upRollup1, roll1SQL},
		{&w.insDead, "INSERT INTO dead_letters(upstream, received, payload, error) VALUES(?,?,?,?)"},
		{&w.putMeta, "INSERT INTO meta(key, value) VALUES(?,?) ON CONFLICT(key) DO UPDATE SET value=excluded.value"},
	} {
		if err := prep(p.dst, p.q); err != nil {
			w.closeStmts()
			return nil, err
		}
	}
	return w, nil
}

// closeStmts closes the prepared statements.
func (w *writer) closeStmts() {
	stmts := []*sql.Stmt{w.insEvent, w.insExtra, w.insDict, w.upRollup, w.upRollup1, w.insDead, w.putMeta}
	if w.cube != nil {
		stmts = append(stmts, w.cube.all()...)
	}
	for _, st := range stmts {
		if st != nil {
			_ = st.Close()
		}
	}
}

// run is the writer goroutine.
func (w *writer) run() {
	defer close(w.s.done)
	defer func() {
		w.closeStmts()
		_ = w.conn.Close()
	}()
	for {
		select {
		case <-w.s.stop:
			return
		case r := <-w.s.reqs:
			group := []*request{r}
		drain:
			for len(group) < w.s.maxGroup {
				select {
				case r2 := <-w.s.reqs:
					group = append(group, r2)
				default:
					break drain
				}
			}
			var txGroup []*request
			for _, r := range group {
				if !r.noTx {
					txGroup = append(txGroup, r)
					continue
				}
				if len(txGroup) > 0 {
					w.runGroup(txGroup)
					txGroup = nil
				}
				if err := r.ctx.Err(); err != nil {
					r.done <- fmt.Errorf("store: %w", err)
				} else {
					r.done <- r.fn(w)
				}
			}
			if len(txGroup) > 0 {
				w.runGroup(txGroup)
			}
		}
	}
}

// exec runs a statement on the writer connection.
func (w *writer) exec(q string, args ...any) (sql.Result, error) {
	return w.conn.ExecContext(w.ctx, q, args...)
}

// runGroup runs requests in one transaction, each in its own savepoint, and
// delivers every request's own result.
func (w *writer) runGroup(group []*request) {
	errs := make([]error, len(group))
	deliver := func() {
		for i, r := range group {
			r.done <- errs[i]
		}
	}
	failAll := func(err error) {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}
	if _, err := w.exec("BEGIN IMMEDIATE"); err != nil {
		failAll(fmt.Errorf("store: beginning write transaction: %w", err))
		deliver()
		return
	}
	w.dict.committed()
	abort := func(err error) {
		_, _ = w.exec("ROLLBACK")
		w.dict.rollback(0)
		failAll(err)
		deliver()
	}
	for i, r := range group {
		if err := r.ctx.Err(); err != nil {
			errs[i] = fmt.Errorf("store: %w", err)
			continue
		}
		if _, err := w.exec("SAVEPOINT req"); err != nil {
			abort(fmt.Errorf("store: savepoint: %w", err))
			return
		}
		m := w.dict.mark()
		err := r.fn(w)
		if err == nil {
			err = w.s.callHook("request")
		}
		if err != nil {
			errs[i] = err
			w.dict.rollback(m)
			if _, rerr := w.exec("ROLLBACK TO req"); rerr != nil {
				// SQLite may already have rolled the whole transaction
				// back (e.g. disk full): nothing of the group is kept.
				abort(fmt.Errorf("store: transaction lost after %v: %w", err, rerr))
				return
			}
		}
		if _, err := w.exec("RELEASE req"); err != nil {
			abort(fmt.Errorf("store: releasing savepoint: %w", err))
			return
		}
	}
	if err := w.s.callHook("commit"); err != nil {
		abort(err)
		return
	}
	if _, err := w.exec("COMMIT"); err != nil {
		abort(fmt.Errorf("store: committing: %w", err))
		return
	}
	w.dict.committed()
	deliver()
}

// id returns the dict id of value, inserting it when new; "" is 0.
func (w *writer) id(kind dictKind, value, mask string) (int64, error) {
	if value == "" {
		return 0, nil
	}
	k := dictKey{kind, value}
	if id, ok := w.dict.get(k); ok {
		return id, nil
	}
	res, err := w.insDict.ExecContext(w.ctx, kind, value, mask)
	if err != nil {
		return 0, fmt.Errorf("store: adding dictionary entry: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("store: adding dictionary entry: %w", err)
	}
	w.dict.put(k, id)
	w.dict.log = append(w.dict.log, k)
	return id, nil
}
