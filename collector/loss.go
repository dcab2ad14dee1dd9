package collector

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// EventCounter counts stored events; *store.Store is one.
type EventCounter interface {
	CountEvents(ctx context.Context, upstream string, from, to time.Time) (int64, error)
}

// CPA's recent counters: 20 buckets of 10 minutes, labelled in CPA's local
// time, oldest first, the last one still filling.
const (
	cpaBucket = 10 * time.Minute
	// lossSettle is how long after a bucket ends before it is compared:
	// records reach the store a moment after CPA counts them.
	lossSettle = time.Minute
	// lossTolerance absorbs attempts that straddle a bucket edge: CPA counts
	// an attempt when it ends, its record carries the time it started.
	lossToleranceAbs = 5
	lossToleranceRel = 0.01
)

type recentBucket struct {
	Time    string `json:"time"`
	Success int64  `json:"success"`
	Failed  int64  `json:"failed"`
}

// cpaCounters are CPA's in-memory request counters summed over every
// credential (auth files and config API keys): the lifetime total and the
// recent buckets by label. CPA resets them when it restarts.
type cpaCounters struct {
	total  int64
	recent map[string]int64
}

type counterEntry struct {
	Success int64          `json:"success"`
	Failed  int64          `json:"failed"`
	Recent  []recentBucket `json:"recent_requests"`
}

func (c *Collector) readCPACounters(ctx context.Context) (cpaCounters, error) {
	out := cpaCounters{recent: make(map[string]int64)}
	add := func(e counterEntry) {
		out.total += e.Success + e.Failed
		for _, b := range e.Recent {
			out.recent[b.Time] += b.Success + b.Failed
		}
	}
	var files struct {
		Files []counterEntry `json:"files"`
	}
	if _, err := c.cpa.get(ctx, "auth-files", &files); err != nil {
		return out, fmt.Errorf("reading auth files: %w", err)
	}
	for _, f := range files.Files {
		add(f)
	}
	var keys map[string]map[string]counterEntry
	if _, err := c.cpa.get(ctx, "api-key-usage", &keys); err != nil {
		return out, fmt.Errorf("reading api-key-usage: %w", err)
	}
	for _, group := range keys {
		for _, k := range group {
			add(k)
		}
	}
	return out, nil
}

// noteCounters compares CPA's lifetime counter with the last one seen: a
// smaller total means CPA restarted, and whatever it held in memory then
// (queued records, records in flight to subscribers) is gone for good.
func (c *Collector) noteCounters(cc cpaCounters) {
	c.sinceMu.Lock()
	last, seen := c.lastCPATotal, c.cpaTotalSeen
	c.lastCPATotal, c.cpaTotalSeen = cc.total, true
	c.sinceMu.Unlock()
	if seen && cc.total < last {
		at := c.now().UTC()
		c.status.update(func(s *Status) {
			s.RestartWarning = fmt.Sprintf("CPA restarted shortly before %s UTC: records it held in memory then (its queue and records on their way to this collector) are lost; CPA keeps none on disk.", at.Format("2006-01-02 15:04"))
		})
	}
}

// checkRestart reads CPA's counters to notice a restart; it runs after
// every (re)connection.
func (c *Collector) checkRestart(ctx context.Context) {
	cc, err := c.readCPACounters(ctx)
	if err != nil {
		if ctx.Err() == nil {
			c.status.fail("metadata", err)
		}
		return
	}
	c.noteCounters(cc)
}

// checkLoss compares CPA's own request counters with what was stored for
// the buckets collection fully covered, and sets or clears the loss warning.
func (c *Collector) checkLoss(ctx context.Context, since time.Time) error {
	if c.counter == nil || since.IsZero() {
		return nil
	}
	cc, err := c.readCPACounters(ctx)
	if err != nil {
		return err
	}
	c.noteCounters(cc)
	now := c.now().UTC()
	windows, ok := bucketWindows(cc.recent, now)
	if !ok {
		return nil // labels we cannot place in time (odd clock skew); try later
	}
	var cpaCount int64
	var from, to time.Time
	for _, w := range windows {
		if w.start.Before(since) || w.start.Add(cpaBucket).After(now.Add(-lossSettle)) {
			continue
		}
		if from.IsZero() || w.start.Before(from) {
			from = w.start
		}
		if end := w.start.Add(cpaBucket); end.After(to) {
			to = end
		}
		cpaCount += w.count
	}
	if from.IsZero() {
		return nil
	}
	stored, err := c.counter.CountEvents(ctx, c.cfg.Name, from, to)
	if err != nil {
		return err
	}
	warning := ""
	if missing := cpaCount - stored; missing > lossToleranceAbs && float64(missing) > lossToleranceRel*float64(cpaCount) {
		warning = fmt.Sprintf("CPA counted %d attempts between %s and %s UTC but only %d were collected. Likely causes: another consumer pops CPA's usage queue (only subscribers can share it), usage-statistics-enabled was off, or collection was down longer than CPA's queue retention.",
			cpaCount, from.Format("15:04"), to.Format("15:04"), stored)
	}
	c.status.update(func(s *Status) { s.LossWarning = warning })
	return nil
}

type bucketWindow struct {
	start time.Time
	count int64
}

// bucketWindows places CPA's bucket labels ("HH:MM-HH:MM", CPA local time)
// in absolute time. The newest label is the bucket now falls in; its offset
// from UTC gives CPA's zone offset, which must be a multiple of 15 minutes
// (allowing for a few minutes of clock skew).
func bucketWindows(totals map[string]int64, now time.Time) ([]bucketWindow, bool) {
	type lab struct {
		min   int // minutes after local midnight
		count int64
	}
	var labs []lab
	for label, n := range totals {
		start, _, ok := strings.Cut(label, "-")
		if !ok {
			continue
		}
		m, ok := clockMinutes(start)
		if !ok {
			return nil, false
		}
		labs = append(labs, lab{m, n})
	}
	if len(labs) == 0 {
		return nil, false
	}
	sort.Slice(labs, func(i, j int) bool { return labs[i].min < labs[j].min })
	// The newest label is the one whose successor slot is not present.
	present := make(map[int]bool, len(labs))
	for _, l := range labs {
		present[l.min] = true
	}
	newest := -1
	for _, l := range labs {
		if !present[(l.min+10)%1440] {
			if newest >= 0 {
				return nil, false // not one run of consecutive buckets
			}
			newest = l.min
		}
	}
	if newest < 0 {
		return nil, false
	}
	current := now.Truncate(cpaBucket)
	// Near a bucket edge a little clock skew makes the newest label
	// ambiguous; the next check will land mid-bucket.
	if into := now.Sub(current); into < 3*time.Minute || into > 7*time.Minute {
		return nil, false
	}
	utcMin := current.Hour()*60 + current.Minute()
	delta := ((newest-utcMin)%1440 + 1440) % 1440
	if delta > 720 {
		delta -= 1440
	}
	offset := int(roundTo(float64(delta), 15))
	if d := delta - offset; d > 5 || d < -5 {
		return nil, false
	}
	out := make([]bucketWindow, 0, len(labs))
	for _, l := range labs {
		back := ((newest-l.min)%1440 + 1440) % 1440
		start := current.Add(-time.Duration(back) * time.Minute).Add(time.Duration(delta-offset) * time.Minute)
		out = append(out, bucketWindow{start: start, count: l.count})
	}
	return out, true
}

func roundTo(v, step float64) float64 {
	if v < 0 {
		return -roundTo(-v, step)
	}
	return float64(int((v+step/2)/step)) * step
}

// clockMinutes parses "HH:MM".
func clockMinutes(s string) (int, bool) {
	h, m, ok := strings.Cut(s, ":")
	if !ok {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, false
	}
	return hh*60 + mm, true
}
