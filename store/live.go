package store

import (
	"context"
	"fmt"
	"sync"
)

// This file serves the live event feed: a change signal that wakes any
// number of waiters when new events are stored, and a query that reads
// events in insertion (row id) order after a given id.

// changeSignal is a broadcast that is closed by the next Commit that stored
// new events and then replaced. The channel is made only when someone waits,
// so commits without listeners cost a mutex.
type changeSignal struct {
	mu sync.Mutex
	ch chan struct{}
}

// signal returns s's change signal.
func (s *Store) signal() *changeSignal { return &s.changes }

// Changed returns a channel that is closed when a later Commit stores at
// least one new event (a commit of duplicates only, or of dead letters only,
// does not close it). Each closed channel is replaced by a new one: call
// Changed again before reading what changed, so no commit is missed.
// Waiting costs no goroutine, whatever the number of waiters.
//
// The signal is a hint: a commit whose caller gave up (context ended) while
// it ran may store events without closing the channel, so waiters should
// also poll now and then.
func (s *Store) Changed() <-chan struct{} {
	c := s.signal()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ch == nil {
		c.ch = make(chan struct{})
	}
	return c.ch
}

// notifyChanged wakes the waiters of Changed. Commit calls it after a
// transaction that stored new events.
func (s *Store) notifyChanged() {
	c := s.signal()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ch != nil {
		close(c.ch)
		c.ch = nil
	}
}

// EventsAfter returns the events matching f whose row id is greater than
// afterID, in ascending id order (the order they were stored in, which is
// not always the order of their times: a late record may carry an older
// time), at most limit (100 when limit <= 0, at most 1000).
func (s *Store) EventsAfter(ctx context.Context, f Filter, afterID int64, limit int) ([]StoredEvent, error) {
	if limit <= 0 {
		limit = 100
	}
	if limit > 1000 {
		limit = 1000
	}
	w, err := s.buildWhere(ctx, f, "e.")
	if err != nil {
		return nil, err
	}
	w.add("e.id > ?", afterID)
	rows, err := s.rdb.QueryContext(ctx, eventSelect+w.sql()+" ORDER BY e.id LIMIT ?", append(w.args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("store: listing new events: %w", err)
	}
	evs, refs, err := scanEvents(rows)
	if err != nil {
		return nil, err
	}
	if err := s.decodeEvents(ctx, evs, refs); err != nil {
		return nil, err
	}
	return evs, nil
}

// LatestEventID returns the row id of the most recently stored event, 0
// when there are none.
func (s *Store) LatestEventID(ctx context.Context) (int64, error) {
	var id int64
	if err := s.rdb.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM events").Scan(&id); err != nil {
		return 0, fmt.Errorf("store: reading the latest event id: %w", err)
	}
	return id, nil
}
