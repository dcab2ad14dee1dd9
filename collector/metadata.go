package collector

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// checkCPA reads CPA's settings until it answers. Collection starts only
// after one management call succeeded, so a wrong key costs one failed
// login per start instead of one per connection (CPA bans after five).
func (c *Collector) checkCPA(ctx context.Context) error {
	for n := 0; ; n++ {
		err := c.readSettings(ctx)
		if err == nil || isFatal(err) || ctx.Err() != nil {
			return err
		}
		c.status.fail("metadata", err)
		wait := retryWait(err, n)
		if errors.Is(err, ErrManagementOff) {
			wait = subscribeRetryAfter
		}
		if !sleep(ctx, wait) {
			return ctx.Err()
		}
	}
}

// readSettings reads CPA's version, usage switch and retention, and sets the
// warnings they call for.
func (c *Collector) readSettings(ctx context.Context) error {
	s, err := c.cpa.settings(ctx)
	if err != nil {
		return err
	}
	var warnings []string
	if s.UsageEnabled != nil && !*s.UsageEnabled {
		warnings = append(warnings, "CPA's usage-statistics-enabled is false: CPA publishes no usage records; turn it on in CPA's config or with PUT /v0/management/usage-statistics-enabled")
	}
	if c.cfg.Mode == ModeHTTP || c.cfg.Mode == ModeRESP {
		if limit := time.Duration(s.RetentionSeconds) * time.Second / 2; c.cfg.PollInterval > limit {
			warnings = append(warnings, fmt.Sprintf("poll_interval %s is more than half of CPA's queue retention (%ds): records can expire before they are collected; lower poll_interval or raise redis-usage-queue-retention-seconds", c.cfg.PollInterval, s.RetentionSeconds))
		}
	}
	c.status.update(func(st *Status) {
		st.CPAVersion, st.UsageStatisticsEnabled, st.RetentionSeconds = s.Version, s.UsageEnabled, s.RetentionSeconds
		st.Warnings = warnings
	})
	return nil
}

// metadataLoop refreshes the attribution map at start, after CPA's
// {"refresh":true} (debounced), and periodically; it also re-reads CPA's
// settings.
func (c *Collector) metadataLoop(ctx context.Context, stop func(error)) {
	tick := time.NewTicker(metadataInterval)
	defer tick.Stop()
	refreshAttribution := func() {
		m, err := c.fetchAttribution(ctx)
		if err != nil {
			if ctx.Err() == nil {
				stop(err)
				c.status.fail("metadata", err)
				c.logger.Warn("cannot read CPA's credentials", zap.Error(err))
			}
			return
		}
		if c.attr != nil {
			c.attr.set(c.cfg.Name, m)
		}
	}
	refreshAttribution()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.refresh:
			// CPA sends refresh after every config save; let a burst settle.
			if !sleep(ctx, refreshDebounce) {
				return
			}
			select {
			case <-c.refresh:
			default:
			}
			refreshAttribution()
		case <-tick.C:
			if err := c.readSettings(ctx); err != nil && ctx.Err() == nil {
				stop(err)
				c.status.fail("metadata", err)
			}
			refreshAttribution()
			if err := c.checkLoss(ctx, c.collectingSince()); err != nil && ctx.Err() == nil {
				c.status.fail("loss check", err)
			}
		}
	}
}
