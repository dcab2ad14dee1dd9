package collector

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cpam-caddy/cpam/cpasim"
)

func TestBucketWindows(t *testing.T) {
	// now is 01:15 UTC: 5 minutes into the 01:10 bucket.
	now := time.Date(2026, 11, 27, 1, 15, 0, 0, time.UTC)
	labels := func(loc *time.Location) map[string]int64 {
		m := make(map[string]int64)
		end := now.In(loc).Truncate(time.Minute)
		// CPA's buckets are aligned to local ten minutes.
		local := time.Date(end.Year(), end.Month(), end.Day(), end.Hour(), end.Minute()/10*10, 0, 0, loc)
		for i := range 20 {
			from := local.Add(-time.Duration(19-i) * cpaBucket)
			m[from.Format("15:04")+"-"+from.Add(cpaBucket).Format("15:04")] = int64(i)
		}
		return m
	}
	for _, zone := range []string{"UTC", "Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns", "America/Los_Angeles"} {
		t.Run(zone, func(t *testing.T) {
			loc, err := time.LoadLocation(zone)
			if err != nil {
				t.Skipf("no zone data: %v", err)
			}
			ws, ok := bucketWindows(labels(loc), now)
			if !ok || len(ws) != 20 {
				t.Fatalf("bucketWindows: %d windows, %v", len(ws), ok)
			}
			for _, w := range ws {
				// Bucket i starts 19-i buckets before the one holding now.
				want := time.Date(2026, 11, 27, 1, 15, 0, 0, time.UTC).In(loc)
				want = time.Date(want.Year(), want.Month(), want.Day(), want.Hour(), want.Minute()/10*10, 0, 0, loc).
					Add(-time.Duration(19-w.count) * cpaBucket)
				if !w.start.Equal(want) {
					t.Errorf("bucket %d starts %s, want %s", w.count, w.start.UTC(), want.UTC())
				}
			}
		})
	}
	if _, ok := bucketWindows(labels(time.UTC), now.Add(-4*time.Minute)); ok {
		t.Error("placed labels one minute into a bucket, where clock skew makes them ambiguous")
	}
	if _, ok := bucketWindows(map[string]int64{"01:00-01:10": 1, "01:30-01:40": 1}, now); ok {
		t.Error("accepted labels that are not one run of buckets")
	}
	if _, ok := bucketWindows(map[string]int64{"25:00-25:10": 1}, now); ok {
		t.Error("accepted an impossible label")
	}
}

// fakeCounter answers CountEvents with a fixed number and remembers the window.
type fakeCounter struct {
	mu       sync.Mutex
	n        int64
	from, to time.Time
}

func (f *fakeCounter) CountEvents(_ context.Context, _ string, from, to time.Time) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.from, f.to = from, to
	return f.n, nil
}

func TestLossWarning(t *testing.T) {
	var mu sync.Mutex
	clock := time.Date(2026, 11, 27, 1, 3, 0, 0, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	sim := startSim(t, func(o *cpasim.Options) { o.Now = now; o.Management.Location = time.UTC })
	emit(t, sim, 30) // counted by CPA in the 01:00-01:10 bucket
	mu.Lock()
	clock = time.Date(2026, 11, 27, 1, 15, 0, 0, time.UTC)
	mu.Unlock()

	u, _ := url.Parse(sim.URL())
	counter := &fakeCounter{n: 30}
	c := New(Config{Name: "main", URL: u, ManagementKey: simKey}, Options{Sink: &countingSink{}, Counter: counter, Now: now})
	ctx := context.Background()
	since := time.Date(2026, 11, 27, 0, 59, 0, 0, time.UTC)
	if err := c.checkLoss(ctx, since); err != nil {
		t.Fatal(err)
	}
	if !counter.from.Equal(time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)) || !counter.to.Equal(time.Date(2026, 11, 27, 1, 10, 0, 0, time.UTC)) {
		t.Errorf("compared window [%s, %s), want [01:00, 01:10)", counter.from, counter.to)
	}
	if w := c.Status().LossWarning; w != "" {
		t.Errorf("warning with every record stored: %s", w)
	}
	counter.n = 10
	if err := c.checkLoss(ctx, since); err != nil {
		t.Fatal(err)
	}
	s := c.Status()
	if !strings.Contains(s.LossWarning, "CPA counted 30 attempts between 01:00 and 01:10 UTC but only 10 were collected") ||
		!strings.Contains(s.LossWarning, "another consumer pops CPA's usage queue") || len(s.Warnings) != 1 {
		t.Errorf("status = %+v", s)
	}
	// Buckets from before collection started are not held against it.
	counter.from = time.Time{}
	if err := c.checkLoss(ctx, time.Date(2026, 11, 27, 1, 5, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if !counter.from.IsZero() {
		t.Errorf("compared [%s, %s) although collection started at 01:05", counter.from, counter.to)
	}
}
