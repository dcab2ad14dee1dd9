package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cpam-caddy/cpam/usage"
)

var t0 = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

func TestFreshSchema(t *testing.T) {
	s := openTest(t)
	var v, av int
	if err := s.rdb.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != SchemaVersion {
		t.Fatalf("user_version %d, want %d", v, SchemaVersion)
	}
	if err := s.rdb.QueryRow("PRAGMA auto_vacuum").Scan(&av); err != nil {
		t.Fatal(err)
	}
	if av != 2 {
		t.Fatalf("auto_vacuum %d, want 2 (incremental)", av)
	}
	// The read pool is query_only.
	if _, err := s.rdb.Exec("INSERT INTO settings(key, value) VALUES('x','y')"); err == nil {
		t.Fatal("read pool accepted a write")
	}
}

func TestUpgradeFromV1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	s := openAtVersion(t, path, 1)
	evs := newGen(1, t0, 6*time.Hour).events(300)
	mustCommit(t, s, Batch{Events: evs, Checkpoint: &Checkpoint{Segment: 3, Offset: 99},
		DeadLetters: []DeadLetter{{Upstream: "u", Received: t0, Payload: []byte("x"), Error: "bad"}}})
	before, err := s.Summary(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	s = reopenUpgraded(t, s, path)
	after, err := s.Summary(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, after) || after.Attempts != 300 {
		t.Fatalf("summary changed across upgrade:\n%+v\n%+v", before, after)
	}
	got, _, err := s.Events(ctx, Filter{}, Page{Limit: 1000})
	if err != nil || len(got) != 300 {
		t.Fatalf("events after upgrade: %d, %v", len(got), err)
	}
	cp, ok, err := s.Checkpoint(ctx)
	if err != nil || !ok || cp != (Checkpoint{3, 99}) {
		t.Fatalf("checkpoint after upgrade: %+v %v %v", cp, ok, err)
	}
	if n := countRows(t, s, "dead_letters"); n != 1 {
		t.Fatalf("dead letters after upgrade: %d", n)
	}
	// Tables of version 2 work, and old data can be added to.
	if err := s.PutSetting(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	res := mustCommit(t, s, Batch{Events: append(evs[:10:10], newGen(2, t0, time.Hour).events(5)...)})
	if res.Stored != 5 || res.Duplicates != 10 {
		t.Fatalf("commit after upgrade: %+v", res)
	}
}

func TestRefuseNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "new.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("PRAGMA user_version=999"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(ctx, path)
	if err == nil || !strings.Contains(err.Error(), "written by a newer caddy-cpam") {
		t.Fatalf("opening a newer database: %v", err)
	}
}

func TestIdempotency(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	g := newGen(3, t0, time.Hour)
	e := g.event()
	res := mustCommit(t, s, Batch{Events: []usage.Event{e, e}})
	if res.Stored != 1 || res.Duplicates != 1 || res.Upstreams[e.Upstream] != (UpstreamResult{Stored: 1, Duplicates: 1}) {
		t.Fatalf("same hash twice in a batch: %+v", res)
	}
	res = mustCommit(t, s, Batch{Events: []usage.Event{e}})
	if res.Stored != 0 || res.Duplicates != 1 {
		t.Fatalf("same hash again: %+v", res)
	}
	// Failover: same request id, different hashes.
	a, b := g.event(), g.event()
	b.RequestID = a.RequestID
	res = mustCommit(t, s, Batch{Events: []usage.Event{a, b}})
	if res.Stored != 2 {
		t.Fatalf("failover attempts: %+v", res)
	}
	sum, err := s.Summary(ctx, Filter{})
	if err != nil || sum.Attempts != 3 {
		t.Fatalf("summary counts %d attempts (%v), want 3", sum.Attempts, err)
	}
}

func TestEventRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	in := newGen(4, t0, time.Hour).events(200)
	in[0].RequestID = "not-hex-id"
	in[1].RequestID = ""
	in[2].RequestID = "ABCDEF12" // upper case keeps its spelling
	in[3].Tokens.Quality = "weird"
	in[4].Source = usage.Source{Kind: usage.SourceOther, Value: "x\x00y"}
	mustCommit(t, s, Batch{Events: in})
	got, _, err := s.Events(ctx, Filter{}, Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	byHash := map[[16]byte]usage.Event{}
	for _, e := range got {
		byHash[e.Hash] = e.Event
	}
	in[3].Tokens.Quality = "unknown"
	for i, e := range in {
		g, ok := byHash[e.Hash]
		if !ok {
			t.Fatalf("event %d missing", i)
		}
		if len(e.Headers) == 0 {
			e.Headers = nil
		}
		if !reflect.DeepEqual(g, e) {
			t.Fatalf("event %d round trip:\n got %+v\nwant %+v", i, g, e)
		}
	}
}

// recompute builds the rollup rows from the events table.
func recompute(t *testing.T, s *Store) map[rollKey][nMeasAll]int64 {
	rows, err := s.rdb.Query(`SELECT ts, upstream, model, alias, provider, auth_index, api_key, endpoint, flags, service_tier,
		uncached, cache_read, cache_write, output, reasoning, unclassified, cost, latency_ms, ttft_ms FROM events`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[rollKey][nMeasAll]int64{}
	for rows.Next() {
		var ts, flags int64
		var k rollKey
		var e usage.Event
		if err := rows.Scan(&ts, &k.dims[0], &k.dims[1], &k.dims[2], &k.dims[3], &k.dims[4], &k.dims[5], &k.dims[6], &flags, &k.dims[8],
			&e.Tokens.Uncached, &e.Tokens.CacheRead, &e.Tokens.CacheWrite, &e.Tokens.Output, &e.Tokens.Reasoning, &e.Tokens.Unclassified,
			&e.Cost.MicroUSD, &e.LatencyMS, &e.TTFTMS); err != nil {
			t.Fatal(err)
		}
		k.bucket = ts / 1000 / 900 * 900
		k.dims[7] = flags & 1
		e.Cost.Priced = flags&flagPriced != 0
		m := out[k]
		addMeasures(&m, &e)
		out[k] = m
	}
	return out
}

// storedRollups reads rollup_15m.
func storedRollups(t *testing.T, s *Store) map[rollKey][nMeasAll]int64 {
	rows, err := s.rdb.Query("SELECT bucket," + strings.Join(rollupDims, ",") + "," + strings.Join(rollupMeasures, ",") + " FROM rollup_15m")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[rollKey][nMeasAll]int64{}
	for rows.Next() {
		var k rollKey
		var m [nMeasAll]int64
		d := []any{&k.bucket}
		for i := range k.dims {
			d = append(d, &k.dims[i])
		}
		for i := range m {
			d = append(d, &m[i])
		}
		if err := rows.Scan(d...); err != nil {
			t.Fatal(err)
		}
		out[k] = m
	}
	return out
}

func TestRollupsMatchEvents(t *testing.T) {
	s := openTest(t)
	g := newGen(42, t0, 30*time.Hour)
	all := g.events(4000)
	// Concurrent committers (the writer groups them), overlapping batches
	// (duplicates must not count twice).
	var wg sync.WaitGroup
	var stored, dups atomic.Int64
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w * 250; i < len(all); i += 1000 {
				end := min(i+300, len(all))
				res, err := s.Commit(context.Background(), Batch{Events: all[i:end]})
				if err != nil {
					t.Error(err)
					return
				}
				stored.Add(int64(res.Stored))
				dups.Add(int64(res.Duplicates))
			}
		}(w)
	}
	wg.Wait()
	if stored.Load() != 4000 || countRows(t, s, "events") != 4000 {
		t.Fatalf("stored %d (dups %d), rows %d", stored.Load(), dups.Load(), countRows(t, s, "events"))
	}
	want, got := recompute(t, s), storedRollups(t, s)
	if len(want) != len(got) {
		t.Fatalf("%d rollup rows, recomputed %d", len(got), len(want))
	}
	for k, m := range want {
		if got[k] != m {
			t.Fatalf("rollup %+v:\n got %v\nwant %v", k, got[k], m)
		}
	}
}

func TestCheckpointAtomicWithEvents(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	evs := newGen(5, t0, time.Hour).events(50)
	b := Batch{Events: evs, Checkpoint: &Checkpoint{Segment: 1, Offset: 1234},
		DeadLetters: []DeadLetter{{Upstream: "u", Received: t0, Payload: []byte("{}"), Error: "e"}}}
	for _, stage := range []string{"request", "commit"} {
		boom := errors.New("injected " + stage)
		s.setHook(func(st string) error {
			if st == stage {
				return boom
			}
			return nil
		})
		if _, err := s.Commit(ctx, b); !errors.Is(err, boom) {
			t.Fatalf("%s: commit error %v", stage, err)
		}
		if _, ok, err := s.Checkpoint(ctx); ok || err != nil {
			t.Fatalf("%s: checkpoint survived a failed commit (%v)", stage, err)
		}
		for _, tb := range []string{"events", "dead_letters", "rollup_15m", "dict", "event_extra"} {
			if n := countRows(t, s, tb); n != 0 {
				t.Fatalf("%s: %d rows in %s after a failed commit", stage, n, tb)
			}
		}
	}
	s.setHook(nil)
	// The retry works, including the dictionary entries rolled back above.
	res := mustCommit(t, s, b)
	if res.Stored != 50 || res.DeadLetters != 1 {
		t.Fatalf("retry: %+v", res)
	}
	cp, ok, err := s.Checkpoint(ctx)
	if err != nil || !ok || cp != (Checkpoint{1, 1234}) {
		t.Fatalf("checkpoint %+v %v %v", cp, ok, err)
	}
	got, _, err := s.Events(ctx, Filter{}, Page{Limit: 100})
	if err != nil || len(got) != 50 || got[0].Model == "" || got[0].Upstream == "" {
		t.Fatalf("events after retry: %d %v", len(got), err)
	}
}

func TestGroupedCommitsGetOwnResults(t *testing.T) {
	ctx := context.Background()
	// The hook counts write requests: no background compaction requests.
	s := openNoCompaction(t)
	// Hold the writer so that the next commits queue up and are grouped.
	release := make(chan struct{})
	held := make(chan error, 1)
	go func() { held <- s.do(ctx, func(*writer) error { <-release; return nil }) }()
	g := newGen(6, t0, time.Hour)
	batches := []Batch{{Events: g.events(10)}, {Events: g.events(10)}, {Events: g.events(10)}}
	bad := batches[1].Events[0].Hash
	s.setHook(func(st string) error { return nil })
	var calls atomic.Int64
	boom := errors.New("bad batch")
	s.setHook(func(st string) error {
		if st == "request" && calls.Add(1) == 3 { // the held request is call 1
			return boom
		}
		return nil
	})
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range batches {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 30 * time.Millisecond) // queue in order
			_, errs[i] = s.Commit(ctx, batches[i])
		}(i)
	}
	time.Sleep(150 * time.Millisecond)
	close(release)
	wg.Wait()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	nFail := 0
	for _, err := range errs {
		if err != nil {
			if !errors.Is(err, boom) {
				t.Fatal(err)
			}
			nFail++
		}
	}
	if nFail != 1 || countRows(t, s, "events") != 20 {
		t.Fatalf("%d failed commits, %d events; want 1 and 20", nFail, countRows(t, s, "events"))
	}
	var n int
	if err := s.rdb.QueryRow("SELECT count(*) FROM events WHERE hash = ?", bad[:]).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if errs[1] != nil && n != 0 {
		t.Fatal("events of the failed batch were kept")
	}
	sum, _ := s.Summary(ctx, Filter{})
	if sum.Attempts != 20 {
		t.Fatalf("rollups count %d attempts, want 20", sum.Attempts)
	}
}

func TestCommitBusy(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "busy.db")
	s, err := OpenOptions(ctx, path, Options{BusyTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	other, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(100)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	b := Batch{Events: newGen(7, t0, time.Hour).events(20), Checkpoint: &Checkpoint{Segment: 2}}
	_, err = s.Commit(ctx, b)
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "busy") && !strings.Contains(err.Error(), "locked") {
		t.Fatalf("commit under a foreign write lock: %v", err)
	}
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if _, ok, _ := s.Checkpoint(ctx); ok || countRows(t, s, "events") != 0 {
		t.Fatal("a busy commit left data behind")
	}
	if res := mustCommit(t, s, b); res.Stored != 20 {
		t.Fatalf("retry after busy: %+v", res)
	}
}

func TestDeadLetters(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	res := mustCommit(t, s, Batch{DeadLetters: []DeadLetter{
		{Upstream: "a", Received: t0, Payload: []byte(`{"x":1}`), Error: "no timestamp"},
		{Upstream: "b", Received: t0.Add(time.Hour), Payload: []byte(`[`), Error: "bad json"},
	}})
	if res.DeadLetters != 2 {
		t.Fatalf("%+v", res)
	}
	got, err := s.DeadLetters(ctx, 10)
	if err != nil || len(got) != 2 {
		t.Fatalf("%v %v", got, err)
	}
	if got[0].Upstream != "b" || got[1].Error != "no timestamp" || !bytes.Equal(got[1].Payload, []byte(`{"x":1}`)) || !got[0].Received.Equal(t0.Add(time.Hour)) {
		t.Fatalf("dead letters: %+v", got)
	}
	n, err := s.DeleteDeadLettersBefore(ctx, t0.Add(time.Minute))
	if err != nil || n != 1 || countRows(t, s, "dead_letters") != 1 {
		t.Fatalf("retention of dead letters: %d %v", n, err)
	}
}

func fileSize(t *testing.T, path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

func TestRetention(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	g := newGen(8, t0, 48*time.Hour)
	for i := 0; i < 6; i++ {
		evs := g.events(1000)
		for j := range evs {
			evs[j].FailBody = strings.Repeat("x", 300) // make pages
		}
		mustCommit(t, s, Batch{Events: evs})
	}
	// Build the cubes first: compaction still running would grow the file
	// while retention shrinks it.
	if _, err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckpointWAL(ctx); err != nil {
		t.Fatal(err)
	}
	before := fileSize(t, s.Path())
	sumBefore, err := s.Summary(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	cut := t0.Add(40 * time.Hour)
	var old int
	if err := s.rdb.QueryRow("SELECT count(*) FROM events WHERE ts < ?", cut.UnixMilli()).Scan(&old); err != nil {
		t.Fatal(err)
	}
	n, err := s.DeleteEventsBefore(ctx, cut, 700)
	if err != nil || n != old {
		t.Fatalf("deleted %d (%v), want %d", n, err, old)
	}
	if left := countRows(t, s, "events"); left != 6000-old {
		t.Fatalf("%d events left", left)
	}
	var orphans int
	if err := s.rdb.QueryRow("SELECT count(*) FROM event_extra WHERE event_id NOT IN (SELECT id FROM events)").Scan(&orphans); err != nil || orphans != 0 {
		t.Fatalf("%d orphan details (%v)", orphans, err)
	}
	sumAfter, err := s.Summary(ctx, Filter{})
	if err != nil || !reflect.DeepEqual(sumBefore, sumAfter) {
		t.Fatalf("rollups changed by retention: %v", err)
	}
	after := fileSize(t, s.Path())
	if after >= before*3/4 {
		t.Fatalf("file did not shrink: %d -> %d bytes", before, after)
	}
	t.Logf("file %d -> %d bytes", before, after)
}

func TestSecretStable(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Secret(ctx, "apikey-hmac", 32)
	if err != nil || len(a) != 32 {
		t.Fatalf("%x %v", a, err)
	}
	b, _ := s.Secret(ctx, "apikey-hmac", 32)
	c, _ := s.Secret(ctx, "other", 32)
	if !bytes.Equal(a, b) || bytes.Equal(a, c) {
		t.Fatal("secrets not stable or not distinct")
	}
	if _, err := s.Secret(ctx, "apikey-hmac", 16); err == nil {
		t.Fatal("size mismatch accepted")
	}
	s.Close()
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d, err := s.Secret(ctx, "apikey-hmac", 32)
	if err != nil || !bytes.Equal(a, d) {
		t.Fatal("secret changed across reopen")
	}
}

func TestCloseStopsWriter(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	mustCommit(t, s, Batch{Events: newGen(9, t0, time.Hour).events(5)})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.done:
	default:
		t.Fatal("writer goroutine still running after Close")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Commit(ctx, Batch{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("commit after Close: %v", err)
	}
}

func TestContextCancelled(t *testing.T) {
	s := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Commit(ctx, Batch{Events: newGen(10, t0, time.Hour).events(1)}); !errors.Is(err, context.Canceled) {
		t.Fatalf("%v", err)
	}
}
