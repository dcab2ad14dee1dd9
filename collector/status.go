package collector

import (
	"sync"
	"time"
)

// Status is what a collector reports about one CPA upstream.
type Status struct {
	Upstream string `json:"upstream"`
	// Mode is the configured collector mode.
	Mode string `json:"mode"`
	// Transport is how records arrive right now: "subscribe", "resp",
	// "http", or "" while disconnected.
	Transport string `json:"transport"`
	Connected bool   `json:"connected"`
	// SupportRefresh is set once CPA announced {"support_refresh":true}.
	SupportRefresh bool `json:"supportRefresh"`
	// LastEventAt is when the last record arrived.
	LastEventAt time.Time `json:"lastEventAt,omitzero"`
	// LagMS is how long the last stored record took from CPA's timestamp to
	// the database.
	LagMS int64 `json:"lagMs"`
	// EventsPerSecond1m and EventsPerSecond5m are receive rates.
	EventsPerSecond1m float64 `json:"eventsPerSecond1m"`
	EventsPerSecond5m float64 `json:"eventsPerSecond5m"`
	// Received counts records taken from CPA since start.
	Received int64 `json:"received"`
	// Stored, Duplicates and DeadLetters count ingest outcomes since start.
	Stored      int64 `json:"stored"`
	Duplicates  int64 `json:"duplicates"`
	DeadLetters int64 `json:"deadLetters"`
	// LastError is the most recent problem; LastErrorStage says where it
	// happened (connect, subscribe, drain, poll, spool, metadata).
	LastError      string    `json:"lastError,omitempty"`
	LastErrorStage string    `json:"lastErrorStage,omitempty"`
	LastErrorAt    time.Time `json:"lastErrorAt,omitzero"`
	// Stopped is set when collection stopped for a reason only a
	// configuration change can fix (a rejected key, remote management off).
	Stopped bool `json:"stopped"`
	// CPAVersion is CPA's X-CPA-VERSION.
	CPAVersion string `json:"cpaVersion,omitempty"`
	// UsageStatisticsEnabled is CPA's usage-statistics-enabled (nil: unknown).
	UsageStatisticsEnabled *bool `json:"usageStatisticsEnabled"`
	// RetentionSeconds is CPA's redis-usage-queue-retention-seconds.
	RetentionSeconds int `json:"retentionSeconds,omitempty"`
	// Warnings explain conditions that lose or may lose usage.
	Warnings []string `json:"warnings,omitempty"`
	// LossWarning is set when CPA's own counters show more attempts than
	// were collected; it is also listed in Warnings.
	LossWarning string `json:"lossWarning,omitempty"`
	// RestartWarning is set when CPA restarted while being collected (its
	// in-memory queue was lost); it is also listed in Warnings.
	RestartWarning string `json:"restartWarning,omitempty"`
	// SpoolDepth is the number of records received and not yet stored (for
	// all upstreams).
	SpoolDepth int64 `json:"spoolDepth"`
	// IngestError is the last failed database commit, cleared by the next
	// successful one.
	IngestError string `json:"ingestError,omitempty"`
}

// rateWindow is how many one-second slots the receive rate keeps.
const rateWindow = 300

// tracker keeps a collector's status.
type tracker struct {
	now func() time.Time

	mu    sync.Mutex
	s     Status
	slots [rateWindow]int64
	stamp [rateWindow]int64 // the Unix second each slot counts
}

func newTracker(upstream, mode string, now func() time.Time) *tracker {
	return &tracker{now: now, s: Status{Upstream: upstream, Mode: mode}}
}

func (t *tracker) update(f func(*Status)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f(&t.s)
}

// received counts records taken from CPA.
func (t *tracker) received(n int) {
	now := t.now()
	sec := now.Unix()
	t.mu.Lock()
	defer t.mu.Unlock()
	i := sec % rateWindow
	if t.stamp[i] != sec {
		t.stamp[i], t.slots[i] = sec, 0
	}
	t.slots[i] += int64(n)
	t.s.Received += int64(n)
	t.s.LastEventAt = now
}

// fail records the latest error and where it happened.
func (t *tracker) fail(stage string, err error) {
	now := t.now()
	t.update(func(s *Status) { s.LastError, s.LastErrorStage, s.LastErrorAt = err.Error(), stage, now })
}

func (t *tracker) setTransport(transport string, connected bool) {
	t.update(func(s *Status) { s.Transport, s.Connected = transport, connected })
}

// snapshot returns a copy with the rates computed.
func (t *tracker) snapshot() Status {
	sec := t.now().Unix()
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.s
	s.Warnings = append([]string(nil), t.s.Warnings...)
	for _, w := range []string{s.LossWarning, s.RestartWarning} {
		if w != "" {
			s.Warnings = append(s.Warnings, w)
		}
	}
	var one, five int64
	for i := range rateWindow {
		age := sec - t.stamp[i]
		if age < 0 || age >= rateWindow {
			continue
		}
		// The current second is still filling; count full seconds only.
		if age == 0 {
			continue
		}
		five += t.slots[i]
		if age <= 60 {
			one += t.slots[i]
		}
	}
	s.EventsPerSecond1m = float64(one) / 60
	s.EventsPerSecond5m = float64(five) / (rateWindow - 1)
	return s
}
