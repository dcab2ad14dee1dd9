package store

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cpam-caddy/cpam/usage"
)

// closed reports whether ch is closed, waiting up to d.
func closed(ch <-chan struct{}, d time.Duration) bool {
	select {
	case <-ch:
		return true
	default:
	}
	select {
	case <-ch:
		return true
	case <-time.After(d):
		return false
	}
}

func TestChangedWakesWaitersOnNewEvents(t *testing.T) {
	s := openTest(t)
	g := newGen(7, time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), time.Hour)
	evs := g.events(3)

	// Many waiters on one channel, all woken by one commit.
	ch := s.Changed()
	if s.Changed() != ch {
		t.Fatal("Changed returned a new channel before any commit")
	}
	var wg sync.WaitGroup
	woken := make(chan int, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if closed(s.Changed(), 5*time.Second) {
				woken <- i
			}
		}()
	}
	time.Sleep(50 * time.Millisecond) // let the waiters take the channel
	mustCommit(t, s, Batch{Events: evs[:2]})
	wg.Wait()
	if len(woken) != 20 {
		t.Fatalf("%d of 20 waiters woke up", len(woken))
	}
	if !closed(ch, 0) {
		t.Fatal("the channel taken before the commit is not closed")
	}

	// A fresh channel after the wake-up; duplicates alone do not close it.
	next := s.Changed()
	if next == ch {
		t.Fatal("Changed did not replace the closed channel")
	}
	if res := mustCommit(t, s, Batch{Events: evs[:2]}); res.Duplicates != 2 || res.Stored != 0 {
		t.Fatalf("recommit: %+v", res)
	}
	if closed(next, 100*time.Millisecond) {
		t.Fatal("a commit of duplicates only closed the channel")
	}
	// Dead letters only: no new events either.
	mustCommit(t, s, Batch{DeadLetters: []DeadLetter{{Upstream: "u", Received: time.Now(), Payload: []byte("{}"), Error: "bad"}}})
	if closed(next, 100*time.Millisecond) {
		t.Fatal("a commit of dead letters only closed the channel")
	}
	// One new event among duplicates does.
	mustCommit(t, s, Batch{Events: evs})
	if !closed(next, time.Second) {
		t.Fatal("a commit with one new event did not close the channel")
	}

	// Another store's commits do not wake this one.
	other := openTest(t)
	mine := s.Changed()
	mustCommit(t, other, Batch{Events: g.events(1)})
	if closed(mine, 100*time.Millisecond) {
		t.Fatal("another store's commit closed the channel")
	}
}

func TestEventsAfter(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if id, err := s.LatestEventID(ctx); err != nil || id != 0 {
		t.Fatalf("empty store: latest %d, %v", id, err)
	}
	if evs, err := s.EventsAfter(ctx, Filter{}, 0, 10); err != nil || len(evs) != 0 {
		t.Fatalf("empty store: %d events, %v", len(evs), err)
	}
	base := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	mk := func(i int, minutes int, model string, failed bool) usage.Event {
		return usage.Event{Hash: hashOf("live", i), Upstream: "u", Time: base.Add(time.Duration(minutes) * time.Minute),
			Model: model, Alias: model, Provider: "p", AuthIndex: "a", Endpoint: "POST /v1/x", Failed: failed, StatusCode: 200,
			LatencyMS: int64(100 * i)}
	}
	// Stored in this order; the second and fourth carry older times.
	mustCommit(t, s, Batch{Events: []usage.Event{mk(1, 10, "m1", false), mk(2, -60, "m2", true)}})
	mustCommit(t, s, Batch{Events: []usage.Event{mk(3, 20, "m1", false), mk(4, -120, "m1", true), mk(5, 30, "m2", false)}})

	all, err := s.EventsAfter(ctx, Filter{}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 5 {
		t.Fatalf("%d events, want 5", len(all))
	}
	wantOrder := []int64{100, 200, 300, 400, 500} // latency marks the event
	for i, e := range all {
		if e.LatencyMS != wantOrder[i] {
			t.Fatalf("event %d has latency %d, want insertion order %v", i, e.LatencyMS, wantOrder)
		}
		if i > 0 && e.ID <= all[i-1].ID {
			t.Fatalf("ids not ascending: %d after %d", e.ID, all[i-1].ID)
		}
		if e.Model == "" || e.Upstream != "u" {
			t.Fatalf("event %d not decoded: %+v", i, e.Event)
		}
	}
	latest, err := s.LatestEventID(ctx)
	if err != nil || latest != all[4].ID {
		t.Fatalf("latest = %d, %v; want %d", latest, err, all[4].ID)
	}

	// After an id, with a limit.
	got, err := s.EventsAfter(ctx, Filter{}, all[1].ID, 2)
	if err != nil || len(got) != 2 || got[0].ID != all[2].ID || got[1].ID != all[3].ID {
		t.Fatalf("after #2, limit 2: %v %v", ids(got), err)
	}
	if got, err := s.EventsAfter(ctx, Filter{}, latest, 10); err != nil || len(got) != 0 {
		t.Fatalf("after the latest: %v %v", ids(got), err)
	}

	// Filters apply; the time bounds too (though the feed does not use them).
	failed := true
	for _, c := range []struct {
		name string
		f    Filter
		want []int64
	}{
		{"model", Filter{Models: []string{"m1"}}, []int64{100, 300, 400}},
		{"failed", Filter{Failed: &failed}, []int64{200, 400}},
		{"model and failed", Filter{Models: []string{"m1"}, Failed: &failed}, []int64{400}},
		{"min latency", Filter{MinLatencyMS: 300}, []int64{300, 400, 500}},
		{"unknown model", Filter{Models: []string{"nope"}}, nil},
		{"time", Filter{From: base, To: base.Add(25 * time.Minute)}, []int64{100, 300}},
	} {
		got, err := s.EventsAfter(ctx, c.f, 0, 100)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var lat []int64
		for _, e := range got {
			lat = append(lat, e.LatencyMS)
		}
		if len(lat) != len(c.want) {
			t.Errorf("%s: %v, want %v", c.name, lat, c.want)
			continue
		}
		for i := range lat {
			if lat[i] != c.want[i] {
				t.Errorf("%s: %v, want %v", c.name, lat, c.want)
				break
			}
		}
	}
}

func ids(evs []StoredEvent) []int64 {
	var out []int64
	for _, e := range evs {
		out = append(out, e.ID)
	}
	return out
}
