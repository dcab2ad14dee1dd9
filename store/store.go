// Package store owns caddy-cpam's SQLite database: opening it with the
// settings the service relies on, the schema and its migrations, the single
// writer and the queries. No other package writes SQL.
//
// # Connections
//
// A Store holds two connection pools on the same WAL database file:
//
//   - one writer connection, used only by the writer goroutine the Store
//     starts in Open and stops in Close. Every write (Commit, retention,
//     accessors that modify a table) is a request sent to that goroutine over
//     a channel. The goroutine groups the requests that are waiting into one
//     transaction (BEGIN IMMEDIATE); each request runs inside its own
//     SAVEPOINT, so a request that fails is rolled back alone and gets its
//     own error, while the others of the group are committed. If the final
//     COMMIT fails, every request of the group gets that error and nothing
//     of the group is kept.
//   - a read pool of several query_only connections for the queries.
//
// When a caller's context ends while its request is queued, the request is
// dropped; when it ends while the request runs, the caller gets the context
// error but the request may still commit (the outcome is unknown; Commit is
// idempotent by event hash, so retrying is safe).
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

// ErrClosed is returned by calls made after Close.
var ErrClosed = errors.New("store: closed")

// DefaultBusyTimeout is how long a connection waits for a lock held by
// another connection before failing with SQLITE_BUSY.
const DefaultBusyTimeout = 5 * time.Second

// Options tune Open. The zero value is what Open uses.
type Options struct {
	// BusyTimeout is the SQLite busy timeout of every connection;
	// DefaultBusyTimeout when zero.
	BusyTimeout time.Duration
	// ReadConns is the size of the read pool; 4 when zero.
	ReadConns int
	// MaxGroup is how many queued write requests the writer merges into one
	// transaction at most; 32 when zero.
	MaxGroup int
	// NoBackgroundCompaction leaves building the cubes to explicit Compact
	// calls (tools that load a database and compact it once).
	NoBackgroundCompaction bool

	// schemaLimit, when > 0, stops migrations at that version (tests build
	// old databases with it).
	schemaLimit int
}

// Store is an open caddy-cpam database.
type Store struct {
	path string
	wdb  *sql.DB // exactly one connection, owned by the writer goroutine
	rdb  *sql.DB // read pool, query_only

	reqs     chan *request
	stop     chan struct{}
	done     chan struct{} // closed when the writer goroutine has returned
	maxGroup int

	closeOnce sync.Once
	closeErr  error

	// hook, when set (tests only), is called by the writer at named stages
	// and can make a request or a whole transaction fail.
	hook atomic.Pointer[func(stage string) error]

	names nameCache // id -> dictionary entry, for the read side

	changes  changeSignal // wakes live feeds when events are stored (live.go)
	accounts accountCache // newest attribution per auth_index (accounts.go)
	cubes    compactor    // background compaction of the cubes (cube.go)
	reads    readStmts    // prepared rollup reads (plan.go)

	// noCubes, when set (tests only), answers every rollup read from
	// rollup_15m.
	noCubes bool
}

// request is one unit of work for the writer goroutine.
type request struct {
	ctx  context.Context
	fn   func(w *writer) error
	done chan error // buffered, receives exactly one value
	// noTx requests run alone, outside any transaction (WAL checkpoints).
	noTx bool
}

// Open opens (creating if needed) the database file at path, with WAL
// journaling and a busy timeout, applies the migrations and starts the
// writer goroutine. The parent directory is created with owner-only
// permissions.
func Open(ctx context.Context, path string) (*Store, error) {
	return OpenOptions(ctx, path, Options{})
}

// OpenOptions is Open with explicit options.
func OpenOptions(ctx context.Context, path string, opt Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("store: empty database path")
	}
	if opt.BusyTimeout <= 0 {
		opt.BusyTimeout = DefaultBusyTimeout
	}
	if opt.ReadConns <= 0 {
		opt.ReadConns = 4
	}
	if opt.MaxGroup <= 0 {
		opt.MaxGroup = 32
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("store: creating database directory %s: %w", dir, err)
		}
	}
	busy := strconv.FormatInt(opt.BusyTimeout.Milliseconds(), 10)

	wq := url.Values{}
	// auto_vacuum must come before journal_mode: switching a new database to
	// WAL writes its header, after which auto_vacuum can no longer be turned
	// on without a full VACUUM. On an existing database it changes nothing.
	wq.Add("_pragma", "auto_vacuum(INCREMENTAL)")
	wq.Add("_pragma", "busy_timeout("+busy+")")
	wq.Add("_pragma", "journal_mode(WAL)")
	wq.Add("_pragma", "foreign_keys(ON)")
	// Savepoints (one per request) write the statement journal; keep it in
	// memory, along with a larger page cache for the hash index.
	wq.Add("_pragma", "temp_store(MEMORY)")
	wq.Add("_pragma", "cache_size(-32768)")
	wdb, err := sql.Open("sqlite", "file:"+filepath.ToSlash(path)+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: opening %s: %w", path, err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)

	s := &Store{
		path:     path,
		wdb:      wdb,
		reqs:     make(chan *request),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		maxGroup: opt.MaxGroup,
	}
	fail := func(err error) (*Store, error) {
		_ = wdb.Close()
		if s.rdb != nil {
			_ = s.rdb.Close()
		}
		return nil, err
	}
	conn, err := wdb.Conn(ctx)
	if err != nil {
		return fail(fmt.Errorf("store: connecting to %s: %w", path, err))
	}
	var mode string
	if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		_ = conn.Close()
		return fail(fmt.Errorf("store: reading journal mode of %s: %w", path, err))
	}
	if mode != "wal" {
		_ = conn.Close()
		return fail(fmt.Errorf("store: %s is in journal mode %q, want wal (is the file on a network filesystem?)", path, mode))
	}
	if err := migrate(ctx, conn, path, opt.schemaLimit); err != nil {
		_ = conn.Close()
		return fail(err)
	}

	rq := url.Values{}
	rq.Add("_pragma", "busy_timeout("+busy+")")
	rq.Add("_pragma", "query_only(1)")
	rdb, err := sql.Open("sqlite", "file:"+filepath.ToSlash(path)+"?"+rq.Encode())
	if err != nil {
		_ = conn.Close()
		return fail(fmt.Errorf("store: opening read pool on %s: %w", path, err))
	}
	rdb.SetMaxOpenConns(opt.ReadConns)
	rdb.SetMaxIdleConns(opt.ReadConns)
	s.rdb = rdb
	if err := s.Ping(ctx); err != nil {
		_ = conn.Close()
		return fail(err)
	}

	w, err := newWriter(ctx, s, conn)
	if err != nil {
		_ = conn.Close()
		return fail(err)
	}
	go w.run()
	if opt.schemaLimit > 0 && opt.schemaLimit < cubeSchemaVersion {
		s.noCubes = true // an old schema, made by a test: no cube tables
	} else if !opt.NoBackgroundCompaction {
		s.startCompactor()
	}
	return s, nil
}

// Path returns the database file path.
func (s *Store) Path() string { return s.path }

// Ping checks that the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.rdb.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("store: %s does not answer: %w", s.path, err)
	}
	return nil
}

// Close stops the writer goroutine (after the transaction it is running,
// if any) and closes the database. It is safe to call more than once; later
// calls return the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.stopCompactor()
		close(s.stop)
		<-s.done
		s.reads.close()
		var errs []error
		if err := s.rdb.Close(); err != nil {
			errs = append(errs, err)
		}
		if err := s.wdb.Close(); err != nil {
			errs = append(errs, err)
		}
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("store: closing %s: %w", s.path, err)
		}
	})
	return s.closeErr
}

// do sends fn to the writer goroutine, to run inside a write transaction,
// and waits for its result.
func (s *Store) do(ctx context.Context, fn func(w *writer) error) error {
	return s.send(ctx, &request{ctx: ctx, fn: fn, done: make(chan error, 1)})
}

// doOutsideTx is do for work that must not run in a transaction.
func (s *Store) doOutsideTx(ctx context.Context, fn func(w *writer) error) error {
	return s.send(ctx, &request{ctx: ctx, fn: fn, done: make(chan error, 1), noTx: true})
}

// send hands r to the writer goroutine and waits for its result.
func (s *Store) send(ctx context.Context, r *request) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	select {
	case s.reqs <- r:
	case <-s.done:
		return ErrClosed
	case <-s.stop:
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("store: %w", ctx.Err())
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("store: outcome unknown: %w", ctx.Err())
	}
}

// callHook runs the test hook for stage, if one is installed.
func (s *Store) callHook(stage string) error {
	if h := s.hook.Load(); h != nil {
		return (*h)(stage)
	}
	return nil
}

// setHook installs (or, with nil, removes) the test hook.
func (s *Store) setHook(h func(stage string) error) {
	if h == nil {
		s.hook.Store(nil)
		return
	}
	s.hook.Store(&h)
}
