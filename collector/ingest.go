package collector

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/cpam-caddy/cpam/store"
	"github.com/cpam-caddy/cpam/usage"
)

// Committer stores batches; *store.Store is one.
type Committer interface {
	Commit(ctx context.Context, b store.Batch) (store.CommitResult, error)
}

// Normalizer turns a raw record into an event; *usage.Normalizer is one.
type Normalizer interface {
	Normalize(upstream string, payload []byte) (usage.Event, error)
}

// Ingest tuning.
const (
	ingestBatch  = 500
	syncInterval = time.Second
)

// Ingester moves records from the spool into the store: it reads them in
// order, normalises them (records that cannot be normalised become redacted
// dead letters), and commits each batch together with the spool position.
// A failed commit is retried with backoff and nothing is dropped; the spool
// keeps accepting records meanwhile.
type Ingester struct {
	spool  *Spool
	store  Committer
	norm   Normalizer
	redact func([]byte) []byte
	logger *zap.Logger
	now    func() time.Time

	mu      sync.Mutex
	counts  map[string]*ingestCounts
	lastErr error
}

type ingestCounts struct {
	stored, duplicates, deadLetters int64
	lagMS                           int64
}

// IngesterOptions configure an Ingester.
type IngesterOptions struct {
	Spool      *Spool
	Store      Committer
	Normalizer Normalizer
	// Redact removes secrets from a payload that becomes a dead letter.
	Redact func([]byte) []byte
	Logger *zap.Logger
	Now    func() time.Time
}

// NewIngester returns an Ingester; Run starts it.
func NewIngester(o IngesterOptions) *Ingester {
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Ingester{spool: o.Spool, store: o.Store, norm: o.Normalizer, redact: o.Redact, logger: o.Logger, now: o.Now,
		counts: make(map[string]*ingestCounts)}
}

// Run ingests until ctx ends. What is not committed by then stays in the
// spool for the next start.
//
// Reading and normalising the next batch overlaps the commit of the
// previous one: a reader goroutine (owned by Run, which waits for it before
// returning) hands built batches over in spool order through a channel of
// one, and Run commits them one at a time, acknowledging each in the spool
// only after its commit.
func (in *Ingester) Run(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	batches := make(chan builtBatch, 1)
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		in.read(ctx, batches)
	}()
	defer func() {
		cancel()
		<-readerDone
	}()
	for {
		var b builtBatch
		select {
		case <-ctx.Done():
			return
		case b = <-batches:
		}
		res, ok := in.commit(ctx, b.batch)
		if !ok {
			return
		}
		if err := in.spool.Committed(b.cp, b.entries); err != nil {
			in.logger.Warn("cleaning the ingest spool", zap.Error(err))
		}
		in.account(b.batch, b.upstreams, res)
	}
}

// builtBatch is a normalised batch waiting for its commit.
type builtBatch struct {
	batch     store.Batch
	upstreams []string
	cp        store.Checkpoint
	entries   int
}

// read reads the spool in order and sends each normalised batch to out
// until ctx ends.
func (in *Ingester) read(ctx context.Context, out chan<- builtBatch) {
	syncTick := time.NewTicker(syncInterval)
	defer syncTick.Stop()
	for {
		entries, cp, err := in.spool.Read(ingestBatch)
		if err != nil {
			in.setErr(err)
			in.logger.Error("reading the ingest spool", zap.Error(err))
			if !sleep(ctx, time.Second) {
				return
			}
			continue
		}
		if len(entries) == 0 {
			select {
			case <-ctx.Done():
				return
			case <-in.spool.Notify():
			case <-syncTick.C:
				if err := in.spool.Sync(); err != nil {
					in.logger.Warn("syncing the ingest spool", zap.Error(err))
				}
			}
			continue
		}
		batch, upstreams := in.build(entries, cp)
		select {
		case out <- builtBatch{batch: batch, upstreams: upstreams, cp: cp, entries: len(entries)}:
		case <-ctx.Done():
			return
		}
	}
}

// build normalises entries into a batch ending at cp.
func (in *Ingester) build(entries []Entry, cp store.Checkpoint) (store.Batch, []string) {
	b := store.Batch{Checkpoint: &cp}
	upstreams := make([]string, 0, len(entries))
	for _, e := range entries {
		ev, err := in.norm.Normalize(e.Upstream, e.Payload)
		if err != nil {
			payload := e.Payload
			if in.redact != nil {
				payload = in.redact(payload)
			}
			b.DeadLetters = append(b.DeadLetters, store.DeadLetter{Upstream: e.Upstream, Received: e.Received, Payload: payload, Error: err.Error()})
			continue
		}
		b.Events = append(b.Events, ev)
		upstreams = append(upstreams, e.Upstream)
	}
	return b, upstreams
}

// commit retries until the batch is stored or ctx ends.
func (in *Ingester) commit(ctx context.Context, b store.Batch) (store.CommitResult, bool) {
	for n := 0; ; n++ {
		res, err := in.store.Commit(ctx, b)
		if err == nil {
			in.setErr(nil)
			return res, true
		}
		if ctx.Err() != nil || errors.Is(err, context.Canceled) {
			return res, false
		}
		in.setErr(err)
		in.logger.Error("committing usage failed; the records stay in the spool and will be retried", zap.Error(err), zap.Int("events", len(b.Events)))
		if !sleep(ctx, backoff(n)) {
			return res, false
		}
	}
}

// account updates the per-upstream counters after a commit.
func (in *Ingester) account(b store.Batch, upstreams []string, res store.CommitResult) {
	now := in.now()
	in.mu.Lock()
	defer in.mu.Unlock()
	get := func(u string) *ingestCounts {
		c := in.counts[u]
		if c == nil {
			c = &ingestCounts{}
			in.counts[u] = c
		}
		return c
	}
	for _, d := range b.DeadLetters {
		get(d.Upstream).deadLetters++
	}
	for u, r := range res.Upstreams {
		c := get(u)
		c.stored += int64(r.Stored)
		c.duplicates += int64(r.Duplicates)
	}
	if n := len(b.Events); n > 0 {
		// From when CPA published the record (attempt start + latency) to
		// its commit.
		last := b.Events[n-1]
		published := last.Time.Add(time.Duration(last.LatencyMS) * time.Millisecond)
		get(upstreams[n-1]).lagMS = max(now.Sub(published).Milliseconds(), 0)
	}
}

func (in *Ingester) setErr(err error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.lastErr = err
}

// IngestStatus is the ingester's view of one upstream.
type IngestStatus struct {
	Stored, Duplicates, DeadLetters int64
	LagMS                           int64
}

// Status returns the counters of upstream, the spool depth, and the last
// commit error (nil when the last commit worked).
func (in *Ingester) Status(upstream string) (IngestStatus, int64, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	var s IngestStatus
	if c := in.counts[upstream]; c != nil {
		s = IngestStatus{Stored: c.stored, Duplicates: c.duplicates, DeadLetters: c.deadLetters, LagMS: c.lagMS}
	}
	return s, in.spool.Depth(), in.lastErr
}

// Totals returns the counters of every upstream the ingester has committed
// records of since it started, including upstreams no longer configured.
// They only grow while the ingester lives (the metrics read them).
func (in *Ingester) Totals() map[string]IngestStatus {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make(map[string]IngestStatus, len(in.counts))
	for u, c := range in.counts {
		out[u] = IngestStatus{Stored: c.stored, Duplicates: c.duplicates, DeadLetters: c.deadLetters, LagMS: c.lagMS}
	}
	return out
}
