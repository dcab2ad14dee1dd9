package module

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/cpam-caddy/cpam/collector"
	"github.com/cpam-caddy/cpam/store"
	"github.com/cpam-caddy/cpam/usage"
)

// hmacSecretName names the per-database secret that keys the hashes of
// client and provider API keys.
const hmacSecretName = "usage-hmac-key"

// ingestDrainWait bounds how long shutdown waits for the ingester to store
// what is in the spool (the rest is replayed at the next start).
const ingestDrainWait = 3 * time.Second

// collection is the running usage pipeline of a Runtime: the spool, the
// ingester that moves records into the store, and one collector per CPA
// upstream. Collectors are restarted only when their settings change, so a
// reload keeps subscriptions open.
type collection struct {
	store  *store.Store
	spool  *collector.Spool
	attr   *collector.Attribution
	norm   *usage.Normalizer
	ingest *collector.Ingester

	ctx        context.Context
	cancel     context.CancelFunc
	ingestDone chan struct{}
	health     *healthWriter
	drainWait  time.Duration
	retention  atomic.Int64 // raw event retention in nanoseconds
	maintDone  chan struct{}

	mu         sync.Mutex
	collectors map[string]*runningCollector
}

type runningCollector struct {
	c      *collector.Collector
	cfg    collector.Config
	cancel context.CancelFunc
	done   chan struct{}
}

// startCollection opens the spool next to the database and starts the
// ingester. Collectors start in apply. wrap, when not nil, wraps the store
// as the ingester sees it (tests inject commit failures with it).
func startCollection(st *store.Store, logger *zap.Logger, wrap func(collector.Committer) collector.Committer) (*collection, error) {
	ctx := context.Background()
	cp, _, err := st.Checkpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the spool checkpoint: %w", err)
	}
	spool, err := collector.OpenSpool(st.Path()+".spool", cp)
	if err != nil {
		return nil, err
	}
	secret, err := st.Secret(ctx, hmacSecretName, 32)
	if err != nil {
		spool.Close()
		return nil, fmt.Errorf("reading the hashing secret: %w", err)
	}
	book, err := priceBook(ctx, st)
	if err != nil {
		spool.Close()
		return nil, err
	}
	attr := collector.NewAttribution()
	norm, err := usage.NewNormalizer(secret, attr, book)
	if err != nil {
		spool.Close()
		return nil, err
	}
	c := &collection{
		store: st, spool: spool, attr: attr, norm: norm,
		ingestDone: make(chan struct{}),
		maintDone:  make(chan struct{}),
		drainWait:  ingestDrainWait,
		collectors: make(map[string]*runningCollector),
	}
	var committer collector.Committer = st
	if wrap != nil {
		committer = wrap(st)
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.ingest = collector.NewIngester(collector.IngesterOptions{
		Spool: spool, Store: committer, Normalizer: norm, Redact: usage.RedactPayload, Logger: logger,
	})
	c.health = newHealthWriter(st, logger)
	go func() {
		defer close(c.ingestDone)
		c.ingest.Run(c.ctx)
	}()
	go c.health.run(c.ctx)
	go func() {
		defer close(c.maintDone)
		c.maintain(c.ctx, logger)
	}()
	return c, nil
}

// Maintenance timing: the first pass soon after start, then hourly.
const (
	firstMaintenance    = time.Minute
	maintenanceInterval = time.Hour
	retentionBatch      = 5000
)

// maintain applies the retention: raw events and dead letters older than
// the configured age are deleted in small batches (rollups stay).
func (c *collection) maintain(ctx context.Context, logger *zap.Logger) {
	t := time.NewTimer(firstMaintenance)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := c.expire(ctx, time.Now()); err != nil && ctx.Err() == nil {
			logger.Warn("applying retention", zap.Error(err))
		}
		t.Reset(maintenanceInterval)
	}
}

// expire deletes what is older than the retention at now.
func (c *collection) expire(ctx context.Context, now time.Time) error {
	keep := time.Duration(c.retention.Load())
	if keep <= 0 {
		return nil
	}
	cutoff := now.Add(-keep)
	if _, err := c.store.DeleteEventsBefore(ctx, cutoff, retentionBatch); err != nil {
		return err
	}
	if _, err := c.store.DeleteDeadLettersBefore(ctx, cutoff); err != nil {
		return err
	}
	if _, err := c.store.DeleteExpiredSessions(ctx, now); err != nil {
		return err
	}
	return nil
}

// priceBook is the built-in price book with the prices stored in the
// database (set by the operator) taking precedence.
func priceBook(ctx context.Context, st *store.Store) (*usage.PriceBook, error) {
	prices := usage.DefaultPriceBook().Prices()
	stored, err := st.ModelPrices(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range stored {
		price := usage.Price{Input: p.Input, Output: p.Output, CacheRead: p.CacheRead, CacheWrite: p.CacheWrite}
		if len(p.Tiers) > 0 {
			if err := json.Unmarshal(p.Tiers, &price.Tiers); err != nil {
				return nil, fmt.Errorf("stored price tiers of %s: %w", p.Model, err)
			}
		}
		prices[p.Model] = price
	}
	book, err := usage.NewPriceBook(prices)
	if err != nil {
		return nil, fmt.Errorf("building the price book: %w", err)
	}
	return book, nil
}

// setRetention sets how long raw events are kept.
func (c *collection) setRetention(d time.Duration) { c.retention.Store(int64(d)) }

// apply starts, restarts or stops collectors to match the upstreams.
func (c *collection) apply(ups []UpstreamSettings, logger *zap.Logger) {
	c.mu.Lock()
	defer c.mu.Unlock()
	want := make(map[string]collector.Config, len(ups))
	for _, u := range ups {
		want[u.Name] = collector.Config{
			Name: u.Name, URL: u.URL, ManagementKey: u.ManagementKey, Mode: u.Collector,
			PollInterval: u.PollInterval, TLSInsecureSkipVerify: u.TLSInsecureSkipVerify,
		}
	}
	for name, rc := range c.collectors {
		// Unchanged collectors keep running across a reload; one that stopped
		// on a refusal (wrong key, remote management off) is retried, since
		// a reload is how the operator says it was fixed.
		if cfg, ok := want[name]; ok && sameConfig(cfg, rc.cfg) && !rc.c.Status().Stopped {
			continue
		}
		rc.cancel()
		<-rc.done
		delete(c.collectors, name)
	}
	for name, cfg := range want {
		if _, running := c.collectors[name]; running {
			continue
		}
		col := collector.New(cfg, collector.Options{
			Sink: c.spool, Attribution: c.attr, Logger: logger,
			OnCredentialError: c.health.offer,
			Counter:           c.store,
		})
		ctx, cancel := context.WithCancel(c.ctx)
		rc := &runningCollector{c: col, cfg: cfg, cancel: cancel, done: make(chan struct{})}
		go func() {
			defer close(rc.done)
			col.Run(ctx)
		}()
		c.collectors[name] = rc
	}
}

func sameConfig(a, b collector.Config) bool {
	return a.Name == b.Name && a.URL.String() == b.URL.String() && a.ManagementKey == b.ManagementKey &&
		a.Mode == b.Mode && a.PollInterval == b.PollInterval && a.TLSInsecureSkipVerify == b.TLSInsecureSkipVerify
}

// statuses returns every collector's status with the ingest counters.
func (c *collection) statuses() []collector.Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]collector.Status, 0, len(c.collectors))
	for name, rc := range c.collectors {
		s := rc.c.Status()
		is, depth, ingestErr := c.ingest.Status(name)
		s.Stored, s.Duplicates, s.DeadLetters, s.LagMS, s.SpoolDepth = is.Stored, is.Duplicates, is.DeadLetters, is.LagMS, depth
		if ingestErr != nil {
			s.IngestError = ingestErr.Error()
		}
		out = append(out, s)
	}
	return out
}

// stop ends the collectors, gives the ingester a moment to store what
// arrived, then stops it and closes the spool.
func (c *collection) stop() error {
	c.mu.Lock()
	for name, rc := range c.collectors {
		rc.cancel()
		<-rc.done
		delete(c.collectors, name)
	}
	c.mu.Unlock()
	deadline := time.Now().Add(c.drainWait)
	for c.spool.Depth() > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	c.cancel()
	<-c.ingestDone
	<-c.maintDone
	c.health.wait()
	return c.spool.Close()
}

// healthWriter keeps the latest credential-health event per credential and
// writes it to the store off the receive path.
type healthWriter struct {
	st     *store.Store
	logger *zap.Logger
	wake   chan struct{}
	done   chan struct{}

	mu      sync.Mutex
	pending map[string]store.CredentialHealth
}

func newHealthWriter(st *store.Store, logger *zap.Logger) *healthWriter {
	return &healthWriter{st: st, logger: logger, wake: make(chan struct{}, 1), done: make(chan struct{}),
		pending: make(map[string]store.CredentialHealth)}
}

// offer takes one payload of CPA's errors channel; it never blocks.
func (h *healthWriter) offer(upstream string, payload []byte) {
	ce, err := usage.ParseCredentialError(payload)
	if err != nil || ce.AuthIndex == "" {
		return
	}
	ch := store.CredentialHealth{
		Upstream: upstream, AuthIndex: ce.AuthIndex, Updated: ce.Time,
		Status: ce.AuthStatus.Status, StatusMessage: ce.AuthStatus.StatusMessage,
		Disabled: ce.AuthStatus.Disabled, Unavailable: ce.AuthStatus.Unavailable,
		NextRetryAfter: ce.AuthStatus.NextRetryAfter, LastStatusCode: ce.StatusCode, LastError: ce.Body,
	}
	if q := ce.AuthStatus.Quota; q != nil {
		ch.QuotaExceeded, ch.QuotaReason, ch.NextRecoverAt, ch.BackoffLevel = q.Exceeded, q.Reason, q.NextRecoverAt, q.BackoffLevel
	}
	if ch.Updated.IsZero() {
		ch.Updated = time.Now().UTC()
	}
	h.mu.Lock()
	h.pending[upstream+"\x00"+ce.AuthIndex] = ch
	h.mu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

func (h *healthWriter) run(ctx context.Context) {
	defer close(h.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.wake:
		}
		h.mu.Lock()
		batch := h.pending
		h.pending = make(map[string]store.CredentialHealth)
		h.mu.Unlock()
		for _, ch := range batch {
			if err := h.st.PutCredentialHealth(ctx, ch); err != nil && ctx.Err() == nil {
				h.logger.Warn("storing credential health", zap.Error(err))
			}
		}
	}
}

func (h *healthWriter) wait() { <-h.done }
