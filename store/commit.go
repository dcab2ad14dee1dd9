package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/cpam-caddy/cpam/usage"
)

// Bits of events.flags.
const (
	flagFailed   = 1 << 0
	flagGenerate = 1 << 1
	flagPriced   = 1 << 2
	flagQShift   = 3 // bits 3..5: token quality code
)

// qualityCodes maps token quality names to their 3-bit code. A quality the
// store does not know is stored as code 7 and read back as "unknown".
var qualityCodes = map[string]int64{
	"":                        0,
	usage.QualityComplete:     1,
	usage.QualityUnclassified: 2,
	usage.QualityInconsistent: 3,
	usage.QualityDerived:      4,
}

// qualityNames is the inverse of qualityCodes.
var qualityNames = map[int64]string{0: "", 1: usage.QualityComplete, 2: usage.QualityUnclassified,
	3: usage.QualityInconsistent, 4: usage.QualityDerived, 7: "unknown"}

// metaCheckpoint is the meta key of the spool checkpoint.
const metaCheckpoint = "spool_checkpoint"

// bucketOf returns the 15-minute rollup bucket (unix seconds) of a unix
// millisecond time.
func bucketOf(ms int64) int64 {
	sec := ms / 1000
	if ms < 0 && ms%1000 != 0 {
		sec--
	}
	b := sec / 900 * 900
	if sec < 0 && sec%900 != 0 {
		b -= 900
	}
	return b
}

// rollKey is the key of a rollup row.
type rollKey struct {
	bucket int64
	dims   [9]int64
}

// encodeRequestID stores an 8-lowercase-hex request id as its value; other
// non-empty ids as the negated id of a dict entry.
func (w *writer) encodeRequestID(s string) (any, error) {
	if s == "" {
		return nil, nil
	}
	if len(s) == 8 && isLowerHex(s) {
		v, _ := strconv.ParseUint(s, 16, 32)
		return int64(v), nil
	}
	id, err := w.id(kRequestID, s, "")
	return -id, err
}

// isLowerHex reports whether s is made of 0-9a-f only.
func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// accountJSON is the stored form of usage.Account.
type accountJSON struct {
	Label     string `json:"l,omitempty"`
	Email     string `json:"e,omitempty"`
	Provider  string `json:"p,omitempty"`
	ProjectID string `json:"j,omitempty"`
	FileName  string `json:"f,omitempty"`
}

// sourceValue encodes a usage.Source as one dict value.
func sourceValue(src usage.Source) string {
	if src.Kind == "" && src.Key.IsZero() && src.Value == "" {
		return ""
	}
	return src.Kind + "\x00" + src.Key.Hash + "\x00" + src.Value
}

// Commit stores a batch in one transaction: the events that are new (events
// whose Hash is already stored are skipped and counted as duplicates), the
// dead letters, the rollup updates of the new events and the checkpoint.
// On error nothing of the batch is kept and the caller should retry.
// A commit that stored new events wakes the waiters of Changed.
func (s *Store) Commit(ctx context.Context, b Batch) (CommitResult, error) {
	var res CommitResult
	err := s.do(ctx, func(w *writer) error {
		res = CommitResult{}
		return w.commit(&b, &res)
	})
	if err != nil {
		return CommitResult{}, err
	}
	if res.Stored > 0 {
		s.notifyChanged()
		s.kickCompactor()
	}
	s.accounts.remember(b.Events)
	return res, nil
}

// commit is Commit inside the writer's transaction.
func (w *writer) commit(b *Batch, res *CommitResult) error {
	rolls := make(map[rollKey]*[nMeasAll]int64)
	args := make([]any, len(eventCols))
	for i := range b.Events {
		e := &b.Events[i]
		if err := w.fillEventArgs(e, args); err != nil {
			return err
		}
		r, err := w.insEvent.ExecContext(w.ctx, args...)
		if err != nil {
			return fmt.Errorf("store: inserting event: %w", err)
		}
		n, err := r.RowsAffected()
		if err != nil {
			return fmt.Errorf("store: inserting event: %w", err)
		}
		if n == 0 {
			res.count(e.Upstream, true)
			continue
		}
		res.count(e.Upstream, false)
		if e.FailBody != "" || len(e.Headers) > 0 || e.XForwardedFor != "" {
			id, err := r.LastInsertId()
			if err != nil {
				return fmt.Errorf("store: inserting event: %w", err)
			}
			var hdr any
			if len(e.Headers) > 0 {
				j, err := json.Marshal(e.Headers)
				if err != nil {
					return fmt.Errorf("store: encoding headers: %w", err)
				}
				hdr = string(j)
			}
			if _, err := w.insExtra.ExecContext(w.ctx, id, nullString(e.FailBody), hdr, nullString(e.XForwardedFor)); err != nil {
				return fmt.Errorf("store: inserting event details: %w", err)
			}
		}
		// args holds the dict ids just written; build the rollup key from them.
		k := rollKey{bucket: bucketOf(args[0].(int64))}
		k.dims = [9]int64{args[2].(int64), args[8].(int64), args[9].(int64), args[6].(int64), args[4].(int64),
			args[11].(int64), args[10].(int64), 0, args[18].(int64)}
		if e.Failed {
			k.dims[7] = 1
		}
		m := rolls[k]
		if m == nil {
			m = new([nMeasAll]int64)
			rolls[k] = m
		}
		addMeasures(m, e)
	}
	for _, d := range b.DeadLetters {
		if _, err := w.insDead.ExecContext(w.ctx, d.Upstream, d.Received.UnixMilli(), d.Payload, d.Error); err != nil {
			return fmt.Errorf("store: inserting dead letter: %w", err)
		}
		res.DeadLetters++
	}
	if len(rolls) > 0 && w.cubeW != 0 {
		buckets := make(map[int64]struct{})
		for k := range rolls {
			buckets[k.bucket] = struct{}{}
		}
		if err := w.markDirty(buckets); err != nil {
			return err
		}
	}
	rargs := make([]any, w.rollCount)
	for k, m := range rolls {
		if m[mAttempts] == 1 {
			if err := w.upsertOne(k, m, rargs); err != nil {
				return err
			}
			continue
		}
		rargs[0] = k.bucket
		for i, d := range k.dims {
			rargs[1+i] = d
		}
		for i, v := range m {
			rargs[1+len(k.dims)+i] = v
		}
		if _, err := w.upRollup.ExecContext(w.ctx, rargs...); err != nil {
			return fmt.Errorf("store: updating rollups: %w", err)
		}
	}
	if b.Checkpoint != nil {
		var buf [16]byte
		binary.BigEndian.PutUint64(buf[:8], b.Checkpoint.Segment)
		binary.BigEndian.PutUint64(buf[8:], uint64(b.Checkpoint.Offset))
		if _, err := w.putMeta.ExecContext(w.ctx, metaCheckpoint, buf[:]); err != nil {
			return fmt.Errorf("store: saving checkpoint: %w", err)
		}
	}
	return nil
}

// upsertOne adds a rollup row made of one event with upRollup1 (same
// stored result as upRollup, a third of the parameters). args is scratch
// space of at least 24 values.
func (w *writer) upsertOne(k rollKey, m *[nMeasAll]int64, args []any) error {
	args = args[:1+len(k.dims)+mLat0+2]
	args[0] = k.bucket
	for i, d := range k.dims {
		args[1+i] = d
	}
	for i, v := range m[:mLat0] {
		args[1+len(k.dims)+i] = v
	}
	// One event has exactly one latency bin and at most one TTFT bin.
	lat, ttft := int64(-1), int64(-1)
	for i := 0; i < histBins; i++ {
		if m[mLat0+i] != 0 {
			lat = int64(i)
		}
		if m[mTTFT0+i] != 0 {
			ttft = int64(i)
		}
	}
	args[len(args)-2], args[len(args)-1] = lat, ttft
	if _, err := w.upRollup1.ExecContext(w.ctx, args...); err != nil {
		return fmt.Errorf("store: updating rollups: %w", err)
	}
	return nil
}

// addMeasures adds one event to a rollup row's measures.
func addMeasures(m *[nMeasAll]int64, e *usage.Event) {
	m[mAttempts]++
	m[mUncached] += e.Tokens.Uncached
	m[mCacheRead] += e.Tokens.CacheRead
	m[mCacheWrite] += e.Tokens.CacheWrite
	m[mOutput] += e.Tokens.Output
	m[mReasoning] += e.Tokens.Reasoning
	m[mUnclassified] += e.Tokens.Unclassified
	if e.Cost.Priced {
		m[mCost] += e.Cost.MicroUSD
	} else {
		m[mUnpriced]++
	}
	m[mLatencySum] += e.LatencyMS
	m[mLat0+histBin(e.LatencyMS)]++
	if e.TTFTMS > 0 {
		m[mTTFTSum] += e.TTFTMS
		m[mTTFTN]++
		m[mTTFT0+histBin(e.TTFTMS)]++
	}
}

// fillEventArgs encodes e into the argument list of the events insert, in
// eventCols order.
func (w *writer) fillEventArgs(e *usage.Event, a []any) error {
	var err error
	ids := func(dst int, kind dictKind, v, mask string) {
		if err != nil {
			return
		}
		var id int64
		id, err = w.id(kind, v, mask)
		a[dst] = id
	}
	a[0] = e.Time.UnixMilli()
	a[1] = e.Hash[:]
	ids(2, kUpstream, e.Upstream, "")
	if err == nil {
		a[3], err = w.encodeRequestID(e.RequestID)
	}
	ids(4, kAuthIndex, e.AuthIndex, "")
	ids(5, kAuthType, e.AuthType, "")
	ids(6, kProvider, e.Provider, "")
	ids(7, kExecutor, e.ExecutorType, "")
	ids(8, kModel, e.Model, "")
	ids(9, kModel, e.Alias, "")
	ids(10, kEndpoint, e.Endpoint, "")
	ids(11, kAPIKey, e.APIKey.Hash, e.APIKey.Mask)
	ids(12, kSource, sourceValue(e.Source), e.Source.Key.Mask)
	ids(13, kClientIP, e.ClientIP, "")
	ids(14, kUserAgent, e.UserAgent, "")
	acc := ""
	if e.Account != (usage.Account{}) {
		var jerr error
		if acc, jerr = w.accountValue(e.Account); jerr != nil {
			return jerr
		}
	}
	ids(15, kAccount, acc, "")
	ids(16, kAccessToken, e.AccessTokenSHA256, "")
	ids(17, kReasoningEffort, e.ReasoningEffort, "")
	ids(18, kServiceTier, e.ServiceTier, "")
	ids(19, kServiceTier, e.ResponseServiceTier, "")
	if err != nil {
		return err
	}
	a[20] = int64(e.StatusCode)
	var flags int64
	if e.Failed {
		flags |= flagFailed
	}
	if e.Generate {
		flags |= flagGenerate
	}
	if e.Cost.Priced {
		flags |= flagPriced
	}
	q, ok := qualityCodes[e.Tokens.Quality]
	if !ok {
		q = 7
	}
	flags |= q << flagQShift
	a[21] = flags
	a[22] = e.LatencyMS
	a[23] = e.TTFTMS
	a[24] = e.Tokens.Uncached
	a[25] = e.Tokens.CacheRead
	a[26] = e.Tokens.CacheWrite
	a[27] = e.Tokens.Output
	a[28] = e.Tokens.Reasoning
	a[29] = e.Tokens.Unclassified
	a[30] = e.Cost.MicroUSD
	return nil
}

// maxAccountCache bounds the writer's cache of encoded accounts.
const maxAccountCache = 4096

// accountValue returns the stored JSON form of an account, from a cache
// (a handful of accounts recur in every batch).
func (w *writer) accountValue(a usage.Account) (string, error) {
	if v, ok := w.accounts[a]; ok {
		return v, nil
	}
	j, err := json.Marshal(accountJSON(a))
	if err != nil {
		return "", fmt.Errorf("store: encoding account: %w", err)
	}
	if w.accounts == nil || len(w.accounts) >= maxAccountCache {
		w.accounts = make(map[usage.Account]string)
	}
	w.accounts[a] = string(j)
	return string(j), nil
}

// nullString maps "" to NULL.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Checkpoint returns the last committed spool checkpoint; false when none
// was ever committed.
func (s *Store) Checkpoint(ctx context.Context) (Checkpoint, bool, error) {
	var v []byte
	err := s.rdb.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", metaCheckpoint).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return Checkpoint{}, false, nil
	}
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("store: reading checkpoint: %w", err)
	}
	if len(v) != 16 {
		return Checkpoint{}, false, fmt.Errorf("store: stored checkpoint has %d bytes, want 16", len(v))
	}
	return Checkpoint{Segment: binary.BigEndian.Uint64(v[:8]), Offset: int64(binary.BigEndian.Uint64(v[8:]))}, true, nil
}

// Secret returns the database's random secret called name, creating it
// with size bytes from crypto/rand on first use. It is stable for the life
// of the database (the HMAC key for API key hashes). Asking for an
// existing secret with another size is an error.
func (s *Store) Secret(ctx context.Context, name string, size int) ([]byte, error) {
	if name == "" || size <= 0 {
		return nil, fmt.Errorf("store: secret needs a name and a positive size (got %q, %d)", name, size)
	}
	key := "secret:" + name
	var out []byte
	err := s.do(ctx, func(w *writer) error {
		var v []byte
		err := w.conn.QueryRowContext(w.ctx, "SELECT value FROM meta WHERE key = ?", key).Scan(&v)
		switch {
		case err == nil:
			if len(v) != size {
				return fmt.Errorf("store: secret %q has %d bytes, asked for %d", name, len(v), size)
			}
			out = v
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("store: reading secret %q: %w", name, err)
		}
		v = make([]byte, size)
		if _, err := rand.Read(v); err != nil {
			return fmt.Errorf("store: generating secret %q: %w", name, err)
		}
		if _, err := w.putMeta.ExecContext(w.ctx, key, v); err != nil {
			return fmt.Errorf("store: saving secret %q: %w", name, err)
		}
		out = v
		return nil
	})
	return out, err
}

// DeleteEventsBefore deletes the events that started before t, batchSize
// at a time (each batch is its own short write transaction, so ingest is
// not blocked for long), then gives the freed pages back to the file
// system with PRAGMA incremental_vacuum and a WAL checkpoint. Rollups are
// kept. It returns how many events were deleted.
func (s *Store) DeleteEventsBefore(ctx context.Context, t time.Time, batchSize int) (int, error) {
	if batchSize <= 0 {
		batchSize = 5000
	}
	cut := t.UnixMilli()
	total := 0
	for {
		var n int64
		err := s.do(ctx, func(w *writer) error {
			sub := "SELECT id FROM events WHERE ts < ? ORDER BY ts LIMIT ?"
			if _, err := w.exec("DELETE FROM event_extra WHERE event_id IN ("+sub+")", cut, batchSize); err != nil {
				return fmt.Errorf("store: deleting old event details: %w", err)
			}
			r, err := w.exec("DELETE FROM events WHERE id IN ("+sub+")", cut, batchSize)
			if err != nil {
				return fmt.Errorf("store: deleting old events: %w", err)
			}
			n, err = r.RowsAffected()
			if err != nil {
				return fmt.Errorf("store: deleting old events: %w", err)
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += int(n)
		if n < int64(batchSize) {
			break
		}
	}
	if total > 0 {
		if err := s.Vacuum(ctx); err != nil {
			return total, err
		}
	}
	return total, nil
}

// DeleteDeadLettersBefore deletes the dead letters received before t and
// returns how many.
func (s *Store) DeleteDeadLettersBefore(ctx context.Context, t time.Time) (int, error) {
	var n int64
	err := s.do(ctx, func(w *writer) error {
		r, err := w.exec("DELETE FROM dead_letters WHERE received < ?", t.UnixMilli())
		if err != nil {
			return fmt.Errorf("store: deleting old dead letters: %w", err)
		}
		n, err = r.RowsAffected()
		if err != nil {
			return fmt.Errorf("store: deleting old dead letters: %w", err)
		}
		return nil
	})
	return int(n), err
}

// Vacuum returns free pages to the file system (PRAGMA incremental_vacuum)
// and checkpoints the WAL into the database file, truncating the WAL. The
// file shrinks only after that checkpoint; a checkpoint blocked by a
// long-running reader is not an error (it completes later).
func (s *Store) Vacuum(ctx context.Context) error {
	if err := s.do(ctx, func(w *writer) error {
		if _, err := w.exec("PRAGMA incremental_vacuum"); err != nil {
			return fmt.Errorf("store: incremental vacuum: %w", err)
		}
		return nil
	}); err != nil {
		return err
	}
	return s.CheckpointWAL(ctx)
}

// CheckpointWAL copies the WAL into the database file and truncates it.
func (s *Store) CheckpointWAL(ctx context.Context) error {
	return s.doOutsideTx(ctx, func(w *writer) error {
		var busy, logN, done int
		if err := w.conn.QueryRowContext(w.ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logN, &done); err != nil {
			return fmt.Errorf("store: checkpointing WAL: %w", err)
		}
		return nil
	})
}

// StoredDeadLetter is a dead letter as stored.
type StoredDeadLetter struct {
	ID int64
	DeadLetter
}

// DeadLetters returns the newest dead letters, at most limit (100 when
// limit <= 0), newest first.
func (s *Store) DeadLetters(ctx context.Context, limit int) ([]StoredDeadLetter, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.rdb.QueryContext(ctx,
		"SELECT id, upstream, received, payload, error FROM dead_letters ORDER BY received DESC, id DESC LIMIT ?", limit)
	if err != nil {
		return nil, fmt.Errorf("store: reading dead letters: %w", err)
	}
	defer rows.Close()
	var out []StoredDeadLetter
	for rows.Next() {
		var d StoredDeadLetter
		var ms int64
		if err := rows.Scan(&d.ID, &d.Upstream, &ms, &d.Payload, &d.Error); err != nil {
			return nil, fmt.Errorf("store: reading dead letters: %w", err)
		}
		d.Received = time.UnixMilli(ms).UTC()
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: reading dead letters: %w", err)
	}
	return out, nil
}
