// Package collector takes every usage record a CPA instance publishes and
// hands it to the ingest spool before anything else can go wrong: one
// Collector per CPA upstream holds a RESP subscription (or polls), drains
// what CPA queued while nobody was subscribed, keeps the credential
// attribution map current, and reports its status. The Ingester moves
// records from the spool into the store. No Caddy here.
package collector

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/cpam-caddy/cpam/usage"
)

// Modes.
const (
	ModeAuto      = "auto"
	ModeSubscribe = "subscribe"
	ModeHTTP      = "http"
	ModeRESP      = "resp"
)

// Config is one CPA upstream's collection settings.
type Config struct {
	Name                  string
	URL                   *url.URL
	ManagementKey         string
	Mode                  string
	PollInterval          time.Duration
	TLSInsecureSkipVerify bool
}

// Sink receives records as they arrive; the Spool is one.
type Sink interface {
	Append(Entry) error
}

// Tuning for the receive path.
const (
	popBatch            = 1000
	metadataInterval    = 5 * time.Minute
	refreshDebounce     = time.Second
	subscribeRetryAfter = time.Minute // auto mode: how often to retry RESP while polling
	pingInterval        = 30 * time.Second
	backoffBase         = 250 * time.Millisecond
	backoffCap          = 30 * time.Second
	flapGuard           = time.Second
)

// Collector collects one CPA upstream.
type Collector struct {
	cfg    Config
	sink   Sink
	attr   *Attribution
	logger *zap.Logger
	now    func() time.Time
	cpa    *cpaClient
	status *tracker

	refresh   chan struct{}
	pingEvery time.Duration
	counter   EventCounter
	// since is when records first arrived through a working connection; the
	// loss check only looks at CPA's counters after it.
	sinceMu      sync.Mutex
	since        time.Time
	lastCPATotal int64
	cpaTotalSeen bool
	// OnCredentialError, when set, receives each record of CPA's errors
	// channel (credential health events).
	onCredentialError func(upstream string, payload []byte)
}

// Options are a Collector's collaborators.
type Options struct {
	Sink        Sink
	Attribution *Attribution
	Logger      *zap.Logger
	// OnCredentialError receives the payloads of CPA's errors channel.
	OnCredentialError func(upstream string, payload []byte)
	// Counter counts stored events, for the loss check against CPA's own
	// counters; nil disables the check.
	Counter EventCounter
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// New returns a collector for cfg. Run starts it.
func New(cfg Config, opts Options) *Collector {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if cfg.Mode == "" {
		cfg.Mode = ModeAuto
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 10 * time.Second
	}
	return &Collector{
		cfg:               cfg,
		sink:              opts.Sink,
		attr:              opts.Attribution,
		logger:            opts.Logger.With(zap.String("cpa", cfg.Name)),
		now:               opts.Now,
		cpa:               newCPAClient(cfg.URL, cfg.ManagementKey, cfg.TLSInsecureSkipVerify),
		status:            newTracker(cfg.Name, cfg.Mode, opts.Now),
		refresh:           make(chan struct{}, 1),
		pingEvery:         pingInterval,
		counter:           opts.Counter,
		onCredentialError: opts.OnCredentialError,
	}
}

// Config returns the collector's configuration.
func (c *Collector) Config() Config { return c.cfg }

// Status returns the collector's current status.
func (c *Collector) Status() Status { return c.status.snapshot() }

// Run collects until ctx is cancelled or a fatal refusal (wrong key, remote
// management off) stops it; the status then says so until the collector is
// replaced by a new configuration.
func (c *Collector) Run(ctx context.Context) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	stop := func(err error) {
		if isFatal(err) {
			c.status.fail("connect", err)
			c.status.update(func(s *Status) { s.Stopped = true; s.Connected = false; s.Transport = "" })
			c.logger.Error("usage collection stopped", zap.Error(err))
			cancel(err)
		}
	}
	if err := c.checkCPA(ctx); err != nil {
		stop(err)
		return
	}
	wg.Go(func() { c.metadataLoop(ctx, stop) })
	switch c.cfg.Mode {
	case ModeSubscribe:
		wg.Go(func() { c.subscribeLoop(ctx, "usage", false, stop) })
		wg.Go(func() { c.subscribeLoop(ctx, "errors", false, stop) })
	case ModeRESP:
		wg.Go(func() { c.pollLoop(ctx, ModeRESP, stop) })
	case ModeHTTP:
		wg.Go(func() { c.pollLoop(ctx, ModeHTTP, stop) })
	default:
		wg.Go(func() { c.subscribeLoop(ctx, "usage", true, stop) })
		wg.Go(func() { c.subscribeLoop(ctx, "errors", true, stop) })
	}
	wg.Wait()
}

// backoff returns the wait before retry n (0-based): exponential with full
// jitter, capped.
func backoff(n int) time.Duration {
	d := backoffBase << min(n, 16)
	if d > backoffCap || d <= 0 {
		d = backoffCap
	}
	return d/2 + rand.N(d/2+1)
}

// sleep waits d or until ctx ends; it reports whether to go on.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// retryWait is how long to wait after err on attempt n.
func retryWait(err error, n int) time.Duration {
	var banned *BannedError
	if errors.As(err, &banned) {
		return banned.Remaining + time.Second
	}
	return backoff(n)
}

// subscribeLoop holds a subscription to channel, reconnecting with backoff.
// For "usage" it drains CPA's queue after every (re)subscribe. In auto mode
// (fallback true) it polls over HTTP while RESP is unavailable.
func (c *Collector) subscribeLoop(ctx context.Context, channel string, fallback bool, stop func(error)) {
	failures := 0
	for ctx.Err() == nil {
		start := c.now()
		subscribed, err := c.subscribeSession(ctx, channel)
		if ctx.Err() != nil {
			return
		}
		stop(err)
		if isFatal(err) {
			return
		}
		if subscribed {
			// The connection worked: reconnect at once (CPA dropped us, or
			// the network blinked), but never spin on a flapping link.
			failures = 0
			if c.now().Sub(start) < flapGuard && !sleep(ctx, flapGuard/10) {
				return
			}
		}
		if channel == "usage" {
			c.status.setTransport("", false)
			c.status.fail("subscribe", err)
			c.logger.Warn("usage subscription ended", zap.Error(err))
		}
		// A refused RESP connection while HTTP answers also means RESP
		// cannot work here (a firewall or proxy that passes only HTTP).
		respBlocked := errors.Is(err, ErrRESPUnavailable) || (channel == "usage" && isDialError(err) && c.drainHTTP(ctx) == nil)
		if fallback && channel == "usage" && respBlocked {
			// Poll over HTTP for a while, then try RESP again.
			if perr := c.pollFor(ctx, subscribeRetryAfter, stop); isFatal(perr) {
				return
			}
			continue
		}
		if fallback && channel == "errors" && errors.Is(err, ErrRESPUnavailable) {
			if !sleep(ctx, subscribeRetryAfter) {
				return
			}
			continue
		}
		// The first reconnect is immediate: CPA drops a slow subscriber and
		// every moment without one sends records to the queue instead.
		if failures > 0 && !sleep(ctx, retryWait(err, failures-1)) {
			return
		}
		failures++
	}
}

// isDialError reports a failure to open the TCP connection.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// subscribeSession runs one subscription until it fails; subscribed tells
// whether CPA confirmed the subscription.
func (c *Collector) subscribeSession(ctx context.Context, channel string) (subscribed bool, err error) {
	// A reply go-redis cannot decode makes it panic; that must end the
	// session, not Caddy.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: undecodable reply from CPA: %v", ErrRESPUnavailable, r)
		}
	}()
	client := newRESPClient(c.cfg.URL, c.cfg.ManagementKey, c.cfg.TLSInsecureSkipVerify)
	defer client.Close()
	ps := client.Subscribe(ctx, channel)
	sessionDone := make(chan struct{})
	defer close(sessionDone)
	var closeOnce sync.Once
	closePS := func() { closeOnce.Do(func() { _ = ps.Close() }) }
	defer closePS()
	// Receive blocks on the socket; closing it is how ctx ends a session.
	go func() {
		select {
		case <-ctx.Done():
			closePS()
		case <-sessionDone:
		}
	}()

	first, err := ps.Receive(ctx)
	if err != nil {
		return false, respError(err)
	}
	if _, ok := first.(*redis.Subscription); !ok {
		return false, fmt.Errorf("%w: unexpected first reply %T to SUBSCRIBE", ErrRESPUnavailable, first)
	}
	if channel == "usage" {
		c.status.setTransport(ModeSubscribe, true)
		c.markCollecting()
		c.logger.Info("subscribed to CPA usage")
		c.checkRestart(ctx)
		// While a subscriber is attached CPA publishes instead of queueing,
		// so what is in the queue now arrived while nobody listened.
		if err := c.drain(ctx, client); err != nil {
			if isFatal(err) {
				return true, err
			}
			c.status.fail("drain", err)
		}
	}

	// Ping inside the subscription so a dead connection is noticed even
	// when CPA has nothing to publish.
	var lastPong sync.Mutex
	pongAt := c.now()
	go func() {
		t := time.NewTicker(c.pingEvery)
		defer t.Stop()
		for {
			select {
			case <-sessionDone:
				return
			case <-t.C:
				lastPong.Lock()
				silent := c.now().Sub(pongAt)
				lastPong.Unlock()
				if silent > 2*c.pingEvery+5*time.Second {
					closePS()
					return
				}
				// Always with a payload: CPA answers a bare PING with a nil
				// bulk string, which go-redis cannot decode (it panics).
				_ = ps.Ping(ctx, "cpam")
			}
		}
	}()

	for {
		msg, err := ps.Receive(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return true, ctx.Err()
			}
			return true, respError(err)
		}
		lastPong.Lock()
		pongAt = c.now()
		lastPong.Unlock()
		switch m := msg.(type) {
		case *redis.Message:
			if channel == "errors" {
				if c.onCredentialError != nil {
					c.onCredentialError(c.cfg.Name, []byte(m.Payload))
				}
				continue
			}
			if err := c.accept(ctx, []byte(m.Payload)); err != nil {
				return true, err
			}
		case *redis.Subscription:
			if channel == "usage" && m.Kind == "subscribe" {
				if err := c.drain(ctx, client); err != nil && isFatal(err) {
					return true, err
				}
			}
		}
	}
}

// accept takes one payload off the wire: control messages are handled,
// records go to the spool. It only returns an error when ctx ends while the
// spool keeps failing.
func (c *Collector) accept(ctx context.Context, payload []byte) error {
	if kind, ok := usage.IsControl(payload); ok {
		switch kind {
		case "support_refresh":
			c.status.update(func(s *Status) { s.SupportRefresh = true })
		case "refresh":
			select {
			case c.refresh <- struct{}{}:
			default:
			}
		}
		return nil
	}
	e := Entry{Upstream: c.cfg.Name, Received: c.now().UTC(), Payload: append([]byte(nil), payload...)}
	for n := 0; ; n++ {
		err := c.sink.Append(e)
		if err == nil {
			break
		}
		// The record exists only here now; hold it until the spool takes it.
		c.status.fail("spool", err)
		c.logger.Error("cannot write to the ingest spool; holding the record", zap.Error(err))
		if !sleep(ctx, backoff(n)) {
			return fmt.Errorf("spool unavailable while stopping: %w", err)
		}
	}
	c.status.received(1)
	return nil
}

// drain pops CPA's queue until it is empty: over RESP, or over HTTP when
// RESP pops are refused.
func (c *Collector) drain(ctx context.Context, client *redis.Client) error {
	for {
		recs, err := client.RPopCount(ctx, "usage", popBatch).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			err = respError(err)
			if errors.Is(err, ErrRESPUnavailable) {
				return c.drainHTTP(ctx)
			}
			return err
		}
		for _, r := range recs {
			if err := c.accept(ctx, []byte(r)); err != nil {
				return err
			}
		}
		if len(recs) < popBatch {
			return nil
		}
	}
}

// drainHTTP pops CPA's queue over HTTP until it is empty.
func (c *Collector) drainHTTP(ctx context.Context) error {
	for {
		recs, err := c.cpa.popQueue(ctx, popBatch)
		if err != nil {
			return err
		}
		for _, r := range recs {
			if err := c.accept(ctx, r); err != nil {
				return err
			}
		}
		if len(recs) < popBatch {
			return nil
		}
	}
}

// pollLoop pops the queue every poll interval, over RESP or HTTP.
func (c *Collector) pollLoop(ctx context.Context, transport string, stop func(error)) {
	var client *redis.Client
	if transport == ModeRESP {
		client = newRESPClient(c.cfg.URL, c.cfg.ManagementKey, c.cfg.TLSInsecureSkipVerify)
		defer client.Close()
	}
	failures := 0
	for {
		var err error
		if client != nil {
			err = c.drainRESPOnly(ctx, client)
		} else {
			err = c.drainHTTP(ctx)
		}
		if ctx.Err() != nil {
			return
		}
		wait := c.cfg.PollInterval
		if err != nil {
			stop(err)
			if isFatal(err) {
				return
			}
			c.status.setTransport("", false)
			c.status.fail("poll", err)
			wait = max(wait, retryWait(err, failures))
			failures++
		} else {
			c.status.setTransport(transport, true)
			c.markCollecting()
			failures = 0
		}
		if !sleep(ctx, wait) {
			return
		}
	}
}

// drainRESPOnly is drain without the HTTP fallback (resp mode).
func (c *Collector) drainRESPOnly(ctx context.Context, client *redis.Client) error {
	for {
		recs, err := client.RPopCount(ctx, "usage", popBatch).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return respError(err)
		}
		for _, r := range recs {
			if err := c.accept(ctx, []byte(r)); err != nil {
				return err
			}
		}
		if len(recs) < popBatch {
			return nil
		}
	}
}

// pollFor polls over HTTP for d (auto mode's fallback).
func (c *Collector) pollFor(ctx context.Context, d time.Duration, stop func(error)) error {
	deadline := c.now().Add(d)
	for n := 0; ; {
		err := c.drainHTTP(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		wait := c.cfg.PollInterval
		if err != nil {
			stop(err)
			if isFatal(err) {
				return err
			}
			c.status.setTransport("", false)
			c.status.fail("poll", err)
			wait = max(wait, retryWait(err, n))
			n++
		} else {
			c.status.setTransport(ModeHTTP, true)
			c.markCollecting()
			n = 0
		}
		if remaining := deadline.Sub(c.now()); remaining < wait {
			if remaining > 0 && !sleep(ctx, remaining) {
				return ctx.Err()
			}
			return err
		}
		if !sleep(ctx, wait) {
			return ctx.Err()
		}
	}
}

// markCollecting notes the first time records could flow.
func (c *Collector) markCollecting() {
	c.sinceMu.Lock()
	defer c.sinceMu.Unlock()
	if c.since.IsZero() {
		c.since = c.now().UTC()
	}
}

func (c *Collector) collectingSince() time.Time {
	c.sinceMu.Lock()
	defer c.sinceMu.Unlock()
	return c.since
}
