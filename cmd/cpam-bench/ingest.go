package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cpam-caddy/cpam/collector"
	"github.com/cpam-caddy/cpam/internal/benchgen"
	"github.com/cpam-caddy/cpam/store"
	"github.com/cpam-caddy/cpam/usage"
)

// benchUpstream is the upstream name of the ingested events: the name
// Caddy gives a single unnamed cpa entry, so the bench database looks like
// a one-CPA installation.
const benchUpstream = "default"

// writerBatch is the ingester's batch size (collector.ingestBatch): the
// raw insert commits as many rows per transaction.
const writerBatch = 500

// hmacSecretName is the name the module keys API-key hashes with
// (module.hmacSecretName), so that Caddy opening the bench database uses
// the same secret.
const hmacSecretName = "usage-hmac-key"

// bench holds the state shared by the measurements.
type bench struct {
	cfg *config
	dir string
	rep *report

	end      time.Time // time of the last generated record
	records  string    // NDJSON file of the generated records
	topModel string    // most popular model (events page filter)
	dbPath   string    // database of the last ingest run (kept for the rest)
	stored   int64

	caddy *caddyProc
}

func (b *bench) cleanup() {
	if b.caddy != nil {
		b.caddy.stop()
		b.caddy = nil
	}
}

// generate writes the records file once.
func (b *bench) generate(ctx context.Context) error {
	if b.records != "" {
		return nil
	}
	b.end = time.Now().Truncate(time.Second)
	g := benchgen.New(benchgen.Config{Seed: b.cfg.seed, Events: b.cfg.events, End: b.end})
	b.topModel = g.Models()[0]
	path := filepath.Join(b.dir, "records.ndjson")
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	start := time.Now()
	for i := 0; i < b.cfg.events; i++ {
		if i%100_000 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		p, err := g.NextJSON()
		if err != nil {
			return err
		}
		w.Write(p)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		return err
	}
	st, _ := f.Stat()
	logf("generated %d records (%.0f MB of JSON, %.0f bytes/record) in %s", b.cfg.events,
		float64(st.Size())/1e6, float64(st.Size())/float64(b.cfg.events), time.Since(start).Round(time.Millisecond))
	b.records = path
	b.rep.recordBytes = float64(st.Size()) / float64(b.cfg.events)
	return nil
}

// pipeline is the production ingest path as module.startCollection builds
// it: the spool next to the database, the normaliser keyed by the
// database's secret with the default price book, the ingester committing
// into the store.
type pipeline struct {
	st     *store.Store
	spool  *collector.Spool
	attr   *collector.Attribution
	ingest *collector.Ingester
	cancel context.CancelFunc
	done   chan struct{}
}

func startPipeline(ctx context.Context, dbPath string) (*pipeline, error) {
	st, err := store.Open(ctx, dbPath)
	if err != nil {
		return nil, err
	}
	cp, _, err := st.Checkpoint(ctx)
	if err != nil {
		st.Close()
		return nil, err
	}
	spool, err := collector.OpenSpool(st.Path()+".spool", cp)
	if err != nil {
		st.Close()
		return nil, err
	}
	secret, err := st.Secret(ctx, hmacSecretName, 32)
	if err != nil {
		spool.Close()
		st.Close()
		return nil, err
	}
	attr := collector.NewAttribution()
	norm, err := usage.NewNormalizer(secret, attr, usage.DefaultPriceBook())
	if err != nil {
		spool.Close()
		st.Close()
		return nil, err
	}
	p := &pipeline{st: st, spool: spool, attr: attr, done: make(chan struct{})}
	p.ingest = collector.NewIngester(collector.IngesterOptions{Spool: spool, Store: st, Normalizer: norm, Redact: usage.RedactPayload})
	var rctx context.Context
	rctx, p.cancel = context.WithCancel(context.Background())
	go func() {
		defer close(p.done)
		p.ingest.Run(rctx)
	}()
	return p, nil
}

// handled is how many records of upstream the ingester has dealt with.
func (p *pipeline) handled(upstream string) (stored, all int64) {
	s := p.ingest.Totals()[upstream]
	return s.Stored, s.Stored + s.Duplicates + s.DeadLetters
}

func (p *pipeline) close() error {
	p.cancel()
	<-p.done
	err := p.spool.Close()
	return errors.Join(err, p.st.Close())
}

// ingestResult is one run of the production path.
type ingestResult struct {
	rate   float64 // events/s until the last event was committed
	stored int64
	// catchUp is how long the cube compaction still needed after the
	// last commit (queries are exact before; the cubes make them fast).
	catchUp time.Duration
}

// ingestOnce runs the production path over the records file into a fresh
// database, then waits for the cube compaction to catch up.
func (b *bench) ingestOnce(ctx context.Context, dbPath string) (ingestResult, error) {
	var res ingestResult
	p, err := startPipeline(ctx, dbPath)
	if err != nil {
		return res, err
	}
	defer p.close()
	f, err := os.Open(b.records)
	if err != nil {
		return res, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	n := int64(0)
	start := time.Now()
	lastLog := start
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return res, err
		}
		payload := append([]byte(nil), line[:len(line)-1]...) // the receive loop owns each payload
		if err := p.spool.Append(collector.Entry{Upstream: benchUpstream, Received: time.Now(), Payload: payload}); err != nil {
			return res, err
		}
		n++
		if time.Since(lastLog) > 10*time.Second {
			_, done := p.handled(benchUpstream)
			logf("  appended %d, committed %d", n, done)
			lastLog = time.Now()
		}
	}
	for {
		stored, done := p.handled(benchUpstream)
		if done >= n {
			el := time.Since(start)
			if stored != n {
				logf("  warning: %d of %d records stored (the rest are duplicates or dead letters)", stored, n)
			}
			res.rate, res.stored = float64(n)/el.Seconds(), stored
			cs := time.Now()
			if _, err := p.st.Compact(ctx); err != nil {
				return res, fmt.Errorf("compacting the cubes: %w", err)
			}
			res.catchUp = time.Since(cs)
			return res, nil
		}
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		if time.Since(lastLog) > 10*time.Second {
			logf("  committed %d of %d", done, n)
			lastLog = time.Now()
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// measureIngest runs the production path cfg.runs times, each into a
// fresh database; the last database is kept for the other measurements.
func (b *bench) measureIngest(ctx context.Context) error {
	if err := b.generate(ctx); err != nil {
		return err
	}
	var rates, catchUps []float64
	for i := 0; i < b.cfg.ingestRuns; i++ {
		path := filepath.Join(b.dir, fmt.Sprintf("ingest-%d", i), "cpam.db")
		res, err := b.ingestOnce(ctx, path)
		if err != nil {
			return err
		}
		logf("ingest run %d: %.0f events/s (%d stored), cubes complete %s later", i+1, res.rate, res.stored, res.catchUp.Round(time.Millisecond))
		rates = append(rates, res.rate)
		catchUps = append(catchUps, res.catchUp.Seconds())
		if b.dbPath != "" {
			_ = os.RemoveAll(filepath.Dir(b.dbPath))
		}
		b.dbPath, b.stored = path, res.stored
	}
	b.rep.ingest, b.rep.catchUp = newStats(rates), newStats(catchUps)
	if err := b.saveDB(); err != nil {
		return err
	}
	return nil
}

// benchDB describes the bench database of a work directory, so that a
// later run with the same -dir (and -keep) measures it again without
// ingesting millions of events first.
type benchDB struct {
	Path     string    `json:"path"`
	Events   int       `json:"events"`
	Seed     uint64    `json:"seed"`
	Stored   int64     `json:"stored"`
	End      time.Time `json:"end"`
	TopModel string    `json:"topModel"`
}

// benchDBFile is the name of the benchDB file in the work directory.
const benchDBFile = "bench-db.json"

// saveDB records the bench database in the work directory.
func (b *bench) saveDB() error {
	j, err := json.Marshal(benchDB{Path: b.dbPath, Events: b.cfg.events, Seed: b.cfg.seed, Stored: b.stored, End: b.end, TopModel: b.topModel})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(b.dir, benchDBFile), j, 0o600)
}

// reuseDB takes the database an earlier run left in the work directory,
// when it was made from the same events and seed.
func (b *bench) reuseDB() bool {
	raw, err := os.ReadFile(filepath.Join(b.dir, benchDBFile))
	if err != nil {
		return false
	}
	var d benchDB
	if json.Unmarshal(raw, &d) != nil || d.Events != b.cfg.events || d.Seed != b.cfg.seed {
		return false
	}
	if _, err := os.Stat(d.Path); err != nil {
		return false
	}
	b.dbPath, b.stored, b.end, b.topModel = d.Path, d.Stored, d.End, d.TopModel
	logf("reusing the database of an earlier run: %s (%d events)", d.Path, d.Stored)
	return true
}

// ensureDB makes the bench database when ingest was not selected, or
// reuses the one an earlier run left in the work directory.
func (b *bench) ensureDB(ctx context.Context) error {
	if b.dbPath != "" || b.reuseDB() {
		return nil
	}
	if err := b.generate(ctx); err != nil {
		return err
	}
	path := filepath.Join(b.dir, "db", "cpam.db")
	logf("loading the database (not timed: ingest was not selected)")
	res, err := b.ingestOnce(ctx, path)
	if err != nil {
		return err
	}
	b.dbPath, b.stored = path, res.stored
	if err := b.saveDB(); err != nil {
		return err
	}
	return nil
}

// rawEventsDDL is the events table and its index as store/migrate.go
// (migration 1) creates them.
const rawEventsDDL = `
CREATE TABLE events(
	id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, hash BLOB NOT NULL, upstream INTEGER NOT NULL,
	request_id INTEGER, auth_index INTEGER NOT NULL, auth_type INTEGER NOT NULL, provider INTEGER NOT NULL,
	executor INTEGER NOT NULL, model INTEGER NOT NULL, alias INTEGER NOT NULL, endpoint INTEGER NOT NULL,
	api_key INTEGER NOT NULL, source INTEGER NOT NULL, client_ip INTEGER NOT NULL, user_agent INTEGER NOT NULL,
	account INTEGER NOT NULL, access_token INTEGER NOT NULL, reasoning_effort INTEGER NOT NULL,
	service_tier INTEGER NOT NULL, response_service_tier INTEGER NOT NULL, status INTEGER NOT NULL,
	flags INTEGER NOT NULL, latency_ms INTEGER NOT NULL, ttft_ms INTEGER NOT NULL, uncached INTEGER NOT NULL,
	cache_read INTEGER NOT NULL, cache_write INTEGER NOT NULL, output INTEGER NOT NULL, reasoning INTEGER NOT NULL,
	unclassified INTEGER NOT NULL, cost INTEGER NOT NULL
);
CREATE UNIQUE INDEX events_ts_hash ON events(ts, hash);
`

// rawCols are the columns written, in the store writer's order (eventCols).
var rawCols = []string{"ts", "hash", "upstream", "request_id", "auth_index", "auth_type", "provider", "executor",
	"model", "alias", "endpoint", "api_key", "source", "client_ip", "user_agent", "account", "access_token",
	"reasoning_effort", "service_tier", "response_service_tier", "status", "flags", "latency_ms", "ttft_ms",
	"uncached", "cache_read", "cache_write", "output", "reasoning", "unclassified", "cost"}

// rawRow is one pre-built row: the hash and the 30 integer columns.
type rawRow struct {
	hash [16]byte
	vals [30]int64
}

// buildRawRows makes the rows from the same generator, with dictionary
// ids assigned locally as the store would.
func (b *bench) buildRawRows() []rawRow {
	g := benchgen.New(benchgen.Config{Seed: b.cfg.seed, Events: b.cfg.events, End: b.end})
	dict := map[string]int64{}
	id := func(kind, v string) int64 {
		if v == "" {
			return 0
		}
		k := kind + "\x00" + v
		if n, ok := dict[k]; ok {
			return n
		}
		n := int64(len(dict) + 1)
		dict[k] = n
		return n
	}
	rows := make([]rawRow, b.cfg.events)
	for i := range rows {
		r := g.Next()
		row := &rows[i]
		h := uint64(i+1)*0x9e3779b97f4a7c15 ^ uint64(r.Timestamp.UnixNano())
		for j := 0; j < 16; j++ {
			row.hash[j] = byte(h >> (8 * (j % 8)))
			if j == 7 {
				h = h*0xbf58476d1ce4e5b9 + 1
			}
		}
		var reqID int64
		fmt.Sscanf(r.RequestID, "%x", &reqID)
		flags := int64(2)
		if r.Failed {
			flags |= 1
		}
		t := r.TokenBreakdown
		row.vals = [30]int64{
			r.Timestamp.UnixMilli(), id("up", benchUpstream), reqID, id("ai", r.AuthIndex), id("at", r.AuthType),
			id("p", r.Provider), id("x", r.ExecutorType), id("m", r.Model), id("m", r.Alias), id("e", r.Endpoint),
			id("k", r.APIKey), id("s", r.Source), id("ip", r.ClientIP), id("ua", r.UserAgent), id("ac", r.AuthIndex),
			id("tok", r.AccessTokenSHA256), id("re", r.ReasoningEffort), id("st", r.ServiceTier), id("st", r.ResponseServiceTier),
			int64(r.Fail.StatusCode), flags, r.LatencyMs, r.TTFTMs, t.Input.UncachedTokens, t.Input.CacheReadTokens,
			t.Input.CacheWriteTokens, t.Output.NonReasoningTokens, t.Output.ReasoningTokens, t.UnclassifiedTokens,
			(t.TotalTokens * 3) % 100000,
		}
	}
	return rows
}

// openRawDB opens a database with the store's connection settings.
func openRawDB(path string) (*sql.DB, error) {
	dsn := "file:" + filepath.ToSlash(path) + "?_pragma=auto_vacuum(INCREMENTAL)&_pragma=busy_timeout(5000)" +
		"&_pragma=journal_mode(WAL)&_pragma=foreign_keys(ON)&_pragma=temp_store(MEMORY)&_pragma=cache_size(-32768)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// rawOnce inserts rows in transactions of writerBatch with a prepared
// statement and returns events/s.
func rawOnce(ctx context.Context, path string, rows []rawRow) (float64, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return 0, err
	}
	db, err := openRawDB(path)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, rawEventsDDL); err != nil {
		return 0, err
	}
	q := "INSERT INTO events(" + strings.Join(rawCols, ",") + ") VALUES(?" + strings.Repeat(",?", len(rawCols)-1) + ") ON CONFLICT(ts, hash) DO NOTHING"
	stmt, err := conn.PrepareContext(ctx, q)
	if err != nil {
		return 0, err
	}
	defer stmt.Close()
	args := make([]any, len(rawCols))
	start := time.Now()
	for i := 0; i < len(rows); i += writerBatch {
		if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			return 0, err
		}
		for j := i; j < min(i+writerBatch, len(rows)); j++ {
			r := &rows[j]
			args[0] = r.vals[0]
			args[1] = r.hash[:]
			for k := 1; k < 30; k++ {
				args[k+1] = r.vals[k]
			}
			if _, err := stmt.ExecContext(ctx, args...); err != nil {
				return 0, err
			}
		}
		if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
			return 0, err
		}
	}
	el := time.Since(start)
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM events").Scan(&n); err != nil {
		return 0, err
	}
	if n != len(rows) {
		return 0, fmt.Errorf("raw insert stored %d of %d rows", n, len(rows))
	}
	return float64(len(rows)) / el.Seconds(), nil
}

// measureRaw times the raw batched insert cfg.runs times.
func (b *bench) measureRaw(ctx context.Context) error {
	if err := b.generate(ctx); err != nil {
		return err
	}
	rows := b.buildRawRows()
	var rates []float64
	for i := 0; i < b.cfg.ingestRuns; i++ {
		path := filepath.Join(b.dir, fmt.Sprintf("raw-%d", i), "raw.db")
		rate, err := rawOnce(ctx, path, rows)
		_ = os.RemoveAll(filepath.Dir(path))
		if err != nil {
			return err
		}
		logf("raw insert run %d: %.0f events/s", i+1, rate)
		rates = append(rates, rate)
	}
	b.rep.raw = newStats(rates)
	return nil
}

// measureSize checkpoints the bench database and divides its size by the
// events stored; dbstat gives the share of each table and index.
func (b *bench) measureSize(ctx context.Context) error {
	if err := b.ensureDB(ctx); err != nil {
		return err
	}
	st, err := store.Open(ctx, b.dbPath)
	if err != nil {
		return err
	}
	if err := st.CheckpointWAL(ctx); err != nil {
		st.Close()
		return err
	}
	if err := st.Close(); err != nil {
		return err
	}
	fi, err := os.Stat(b.dbPath)
	if err != nil {
		return err
	}
	size := fi.Size()
	if wal, err := os.Stat(b.dbPath + "-wal"); err == nil {
		size += wal.Size()
	}
	sz := &sizeResult{fileBytes: size, events: b.stored, perEvent: float64(size) / float64(b.stored)}
	db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(b.dbPath)+"?mode=ro")
	if err == nil {
		defer db.Close()
		rows, qerr := db.QueryContext(ctx, "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC")
		if qerr == nil {
			for rows.Next() {
				var t tableSize
				if rows.Scan(&t.name, &t.bytes) == nil {
					sz.tables = append(sz.tables, t)
				}
			}
			rows.Close()
		} else {
			logf("dbstat not available: %v", qerr)
		}
		_ = db.QueryRowContext(ctx, "SELECT count(*) FROM rollup_15m").Scan(&sz.rollupRows)
	}
	logf("database %d bytes for %d events: %.1f bytes/event", size, b.stored, sz.perEvent)
	b.rep.size = sz
	return nil
}
