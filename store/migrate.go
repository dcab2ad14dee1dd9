package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// migrations are the schema versions, in order: migrations[i] takes the
// database from user_version i to i+1. Never edit one that has shipped;
// append a new one.
//
// auto_vacuum=INCREMENTAL is set by Open on the writer connection before
// anything else (see OpenOptions): SQLite only honours it on a new database,
// before the header is written and the first table created (afterwards it
// would need a full VACUUM). It lets retention give pages back to the file
// system with PRAGMA incremental_vacuum.
var migrations = []string{
	// 1: events, dictionary, rollups, dead letters, meta.
	`
CREATE TABLE meta(
	key   TEXT PRIMARY KEY,
	value BLOB
) WITHOUT ROWID;

-- Repeated strings. id 0 is never used: 0 in a reference column means "".
-- kind separates the namespaces (see dictKind in dict.go); mask is the
-- displayable form of a hashed value (API keys, provider keys).
CREATE TABLE dict(
	id    INTEGER PRIMARY KEY,
	kind  INTEGER NOT NULL,
	value TEXT    NOT NULL,
	mask  TEXT    NOT NULL DEFAULT '',
	UNIQUE(kind, value)
);

-- One row per upstream attempt. Columns without a comment are dict ids.
CREATE TABLE events(
	id                    INTEGER PRIMARY KEY,
	ts                    INTEGER NOT NULL, -- attempt start, unix milliseconds
	hash                  BLOB    NOT NULL, -- 16-byte event hash, unique (see events_ts_hash)
	upstream              INTEGER NOT NULL,
	request_id            INTEGER, -- 8 lowercase hex parsed; < 0: -(dict id); NULL: none
	auth_index            INTEGER NOT NULL,
	auth_type             INTEGER NOT NULL,
	provider              INTEGER NOT NULL,
	executor              INTEGER NOT NULL,
	model                 INTEGER NOT NULL,
	alias                 INTEGER NOT NULL,
	endpoint              INTEGER NOT NULL,
	api_key               INTEGER NOT NULL,
	source                INTEGER NOT NULL,
	client_ip             INTEGER NOT NULL,
	user_agent            INTEGER NOT NULL,
	account               INTEGER NOT NULL,
	access_token          INTEGER NOT NULL,
	reasoning_effort      INTEGER NOT NULL,
	service_tier          INTEGER NOT NULL,
	response_service_tier INTEGER NOT NULL,
	status                INTEGER NOT NULL, -- upstream HTTP status
	flags                 INTEGER NOT NULL, -- bit 0 failed, 1 generate, 2 priced, 3-5 token quality
	latency_ms            INTEGER NOT NULL,
	ttft_ms               INTEGER NOT NULL,
	uncached              INTEGER NOT NULL,
	cache_read            INTEGER NOT NULL,
	cache_write           INTEGER NOT NULL,
	output                INTEGER NOT NULL,
	reasoning             INTEGER NOT NULL,
	unclassified          INTEGER NOT NULL,
	cost                  INTEGER NOT NULL -- micro-USD, frozen at ingest
);
-- Idempotency and time order in one index. The event hash covers the
-- record's timestamp, so a record delivered twice has the same ts and hash:
-- (ts, hash) is as unique as hash alone, and new rows land at the end of
-- the index instead of at random pages (a random 16-byte key makes every
-- insert dirty its own page).
CREATE UNIQUE INDEX events_ts_hash ON events(ts, hash);

-- Wide, rarely present data; a row exists only when one of them is set.
CREATE TABLE event_extra(
	event_id  INTEGER PRIMARY KEY,
	fail_body TEXT,
	headers   TEXT, -- JSON object, allowlisted response headers
	xff       TEXT
);

CREATE TABLE dead_letters(
	id       INTEGER PRIMARY KEY,
	upstream TEXT    NOT NULL,
	received INTEGER NOT NULL, -- unix milliseconds
	payload  BLOB,
	error    TEXT    NOT NULL
);
CREATE INDEX dead_letters_received ON dead_letters(received);

-- 15-minute rollups. bucket is unix seconds floored to 900; the other key
-- columns are dict ids (failed is 0/1). Histogram bins l0..l23 (latency) and
-- t0..t23 (ttft, measured attempts only) use the bounds in hist.go.
CREATE TABLE rollup_15m(
	bucket       INTEGER NOT NULL,
	upstream     INTEGER NOT NULL,
	model        INTEGER NOT NULL,
	alias        INTEGER NOT NULL,
	provider     INTEGER NOT NULL,
	auth_index   INTEGER NOT NULL,
	api_key      INTEGER NOT NULL,
	endpoint     INTEGER NOT NULL,
	failed       INTEGER NOT NULL,
	service_tier INTEGER NOT NULL,
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
	` + histColumnsDDL() + `
	PRIMARY KEY(bucket, upstream, model, alias, provider, auth_index, api_key, endpoint, failed, service_tier)
) WITHOUT ROWID;
`,
	// 2: tables for the UI, pricing and credential monitoring.
	`
CREATE TABLE settings(
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE sessions(
	id_hash   BLOB PRIMARY KEY,
	created   INTEGER NOT NULL,
	expires   INTEGER NOT NULL,
	last_seen INTEGER NOT NULL,
	data      BLOB
) WITHOUT ROWID;
CREATE INDEX sessions_expires ON sessions(expires);

CREATE TABLE model_prices(
	model       TEXT PRIMARY KEY,
	input       REAL NOT NULL,
	output      REAL NOT NULL,
	cache_read  REAL NOT NULL,
	cache_write REAL NOT NULL,
	tiers       TEXT, -- JSON
	updated     INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE api_key_aliases(
	key_hash TEXT PRIMARY KEY,
	alias    TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE credential_health(
	upstream         TEXT NOT NULL,
	auth_index       TEXT NOT NULL,
	updated          INTEGER NOT NULL,
	status           TEXT NOT NULL DEFAULT '',
	status_message   TEXT NOT NULL DEFAULT '',
	disabled         INTEGER NOT NULL DEFAULT 0,
	unavailable      INTEGER NOT NULL DEFAULT 0,
	next_retry_after INTEGER NOT NULL DEFAULT 0,
	quota_exceeded   INTEGER NOT NULL DEFAULT 0,
	quota_reason     TEXT NOT NULL DEFAULT '',
	next_recover_at  INTEGER NOT NULL DEFAULT 0,
	backoff_level    INTEGER NOT NULL DEFAULT 0,
	last_status_code INTEGER NOT NULL DEFAULT 0,
	last_error       TEXT NOT NULL DEFAULT '',
	PRIMARY KEY(upstream, auth_index)
) WITHOUT ROWID;
`,
	// 3: where a model price came from, and when an API key alias changed.
	`
-- manual (set by a user) or the catalogue a synced price came from:
-- models.dev, litellm, openrouter. raw is that catalogue entry (JSON).
ALTER TABLE model_prices ADD COLUMN source TEXT NOT NULL DEFAULT 'manual';
ALTER TABLE model_prices ADD COLUMN raw TEXT;

ALTER TABLE api_key_aliases ADD COLUMN updated INTEGER NOT NULL DEFAULT 0; -- unix milliseconds, 0 unknown
`,
	// 4: credential inspection runs of the panel.
	`
-- One row per run. A run is written once and read whole (at most a few
-- thousand results), so its results are one JSON array instead of a child
-- table; total, counts and applied are kept beside them so that listing
-- runs never decodes results. See inspections.go.
CREATE TABLE inspections(
	id       INTEGER PRIMARY KEY,
	provider TEXT    NOT NULL,
	upstream TEXT    NOT NULL DEFAULT '',
	started  INTEGER NOT NULL, -- unix milliseconds
	finished INTEGER NOT NULL, -- unix milliseconds
	created  INTEGER NOT NULL, -- unix milliseconds, when stored
	total    INTEGER NOT NULL,
	counts   TEXT    NOT NULL, -- JSON object, results per action
	applied  INTEGER NOT NULL DEFAULT 0, -- results with a recorded outcome
	settings TEXT,             -- JSON object, as the panel sent it
	results  TEXT    NOT NULL  -- JSON array of InspectionResult
);
`,
	// 5: the cubes, coarse rollups derived from rollup_15m (cube.go).
	cubeDDL(),
}

// SchemaVersion is the schema version this build writes.
var SchemaVersion = len(migrations)

// histColumnsDDL declares the histogram columns of rollup_15m.
func histColumnsDDL() string {
	var b strings.Builder
	for _, p := range []string{"l", "t"} {
		for i := 0; i < histBins; i++ {
			fmt.Fprintf(&b, "%s%d INTEGER NOT NULL DEFAULT 0,\n\t", p, i)
		}
	}
	return b.String()
}

// migrate brings the database on conn to the current schema version (or to
// limit when limit > 0), one transaction per migration.
func migrate(ctx context.Context, conn *sql.Conn, path string, limit int) error {
	target := len(migrations)
	if limit > 0 && limit < target {
		target = limit
	}
	var v int
	if err := conn.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("store: reading schema version of %s: %w", path, err)
	}
	if v > len(migrations) {
		return fmt.Errorf("store: %s was written by a newer caddy-cpam (schema version %d, this build knows up to %d)", path, v, len(migrations))
	}
	for ; v < target; v++ {
		if err := applyMigration(ctx, conn, v+1, migrations[v]); err != nil {
			return fmt.Errorf("store: migrating %s to schema version %d: %w", path, v+1, err)
		}
	}
	return nil
}

// applyMigration runs one migration and sets user_version in a transaction.
func applyMigration(ctx context.Context, conn *sql.Conn, version int, ddl string) (err error) {
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
		}
	}()
	if _, err = conn.ExecContext(ctx, ddl); err != nil {
		return err
	}
	if _, err = conn.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version=%d", version)); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, "COMMIT")
	return err
}
