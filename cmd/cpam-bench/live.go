package main

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"time"

	"github.com/cpam-caddy/cpam/collector"
	"github.com/cpam-caddy/cpam/cpasim"
	"github.com/cpam-caddy/cpam/internal/benchgen"
)

const liveKey = "cpam-bench-live-key"

// liveUpstream names the live collector's events.
const liveUpstream = "live"

// measureLive starts the CPA simulator in-process and the production
// pipeline with a collector subscribed to it (RESP SUBSCRIBE usage), then
// publishes generated records at rising rates, each for liveDuration.
// A rate is held when the subscriber was never dropped (no record
// overflowed its 256-message buffer, no resubscription) and every record
// was stored.
func (b *bench) measureLive(ctx context.Context) error {
	sim, err := cpasim.New(cpasim.Options{ManagementKey: liveKey, AuthDelay: -1})
	if err != nil {
		return err
	}
	sim.Start()
	defer sim.Close()
	p, err := startPipeline(ctx, filepath.Join(b.dir, "live", "cpam.db"))
	if err != nil {
		return err
	}
	defer p.close()
	u, err := url.Parse(sim.URL())
	if err != nil {
		return err
	}
	col := collector.New(collector.Config{Name: liveUpstream, URL: u, ManagementKey: liveKey, Mode: collector.ModeAuto},
		collector.Options{Sink: p.spool, Attribution: p.attr})
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); col.Run(cctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(30 * time.Second)
	for col.Status().Transport != collector.ModeSubscribe || sim.Subscribers("usage") != 1 {
		if time.Now().After(deadline) {
			return fmt.Errorf("the collector did not subscribe: %+v", col.Status())
		}
		time.Sleep(20 * time.Millisecond)
	}

	gen := benchgen.New(benchgen.Config{Seed: b.cfg.seed + 1, Events: 1 << 30, End: time.Now()})
	b.rep.liveDuration = b.cfg.liveDuration
	for _, rate := range b.cfg.liveRates {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		before := sim.DeliveryStats()
		stored0, _ := p.handled(liveUpstream)
		logf("live: publishing %d events/s for %s", rate, b.cfg.liveDuration)
		start := time.Now()
		produced := int64(0)
		tick := time.NewTicker(10 * time.Millisecond)
		for time.Since(start) < b.cfg.liveDuration {
			<-tick.C
			due := int64(float64(rate) * time.Since(start).Seconds())
			now := time.Now()
			for ; produced < due; produced++ {
				sim.Produce(gen.NextAt(now))
			}
		}
		tick.Stop()
		sent := time.Since(start)
		_ = sim.Sync(ctx)
		// Wait for the collector to store what was delivered (lag).
		var stored int64
		caught := time.Now()
		for {
			stored, _ = p.handled(liveUpstream)
			st := sim.DeliveryStats()
			if stored-stored0 >= (st.Deliverable()-before.Deliverable()) && sim.QueueLen() == 0 {
				break
			}
			if time.Since(caught) > 60*time.Second {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		lag := time.Since(caught)
		after := sim.DeliveryStats()
		row := liveRow{
			rate:      rate,
			achieved:  float64(produced) / sent.Seconds(),
			produced:  after.Produced - before.Produced,
			published: after.Published - before.Published,
			lost:      after.Lost - before.Lost + after.Discarded - before.Discarded,
			resubs:    after.Subscriptions - before.Subscriptions,
			queued:    after.Queued - before.Queued,
			stored:    stored - stored0,
			lag:       lag,
		}
		row.held = row.lost == 0 && row.resubs == 0 && row.stored == row.produced && row.achieved >= 0.95*float64(rate)
		logf("live %d/s: produced %d (%.0f/s), to subscriber %d, lost %d, resubscribed %d, queued %d, stored %d, lag %s, held %v",
			rate, row.produced, row.achieved, row.published, row.lost, row.resubs, row.queued, row.stored, lag.Round(time.Millisecond), row.held)
		b.rep.live = append(b.rep.live, row)
		if !row.held {
			break
		}
	}
	return nil
}
