package cpasim

import (
	"sync"
	"time"
)

// usageQueue is CPA's in-memory usage queue: FIFO, per-item enqueue time,
// lazy pruning of expired items on every enqueue and pop, no size cap.
type usageQueue struct {
	now       func() time.Time
	retention func() time.Duration

	mu    sync.Mutex
	items []queuedItem
	// Counters for DeliveryStats.
	queued, popped, expired, cleared int64
}

type queuedItem struct {
	at   time.Time
	data []byte
}

func newUsageQueue(now func() time.Time, retention func() time.Duration) *usageQueue {
	return &usageQueue{now: now, retention: retention}
}

// pruneLocked drops items older than the retention window.
func (q *usageQueue) pruneLocked(now time.Time) {
	cutoff := now.Add(-q.retention())
	n := 0
	for n < len(q.items) && q.items[n].at.Before(cutoff) {
		n++
	}
	q.expired += int64(n)
	q.dropLocked(n)
}

// dropLocked removes the first n items, releasing their memory.
func (q *usageQueue) dropLocked(n int) {
	if n == 0 {
		return
	}
	clear(q.items[:n])
	q.items = q.items[n:]
	if len(q.items) == 0 {
		q.items = nil
	} else if cap(q.items) > 64 && len(q.items) < cap(q.items)/4 {
		q.items = append([]queuedItem(nil), q.items...)
	}
}

// enqueue appends one record.
func (q *usageQueue) enqueue(data []byte) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.now()
	q.pruneLocked(now)
	q.items = append(q.items, queuedItem{at: now, data: data})
	q.queued++
}

// pop removes and returns up to n of the oldest records.
func (q *usageQueue) pop(n int) [][]byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pruneLocked(q.now())
	if n > len(q.items) {
		n = len(q.items)
	}
	out := make([][]byte, n)
	for i := range n {
		out[i] = q.items[i].data
	}
	q.dropLocked(n)
	q.popped += int64(n)
	return out
}

// clear drops every queued record.
func (q *usageQueue) clear() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.cleared += int64(len(q.items))
	q.items = nil
}

// Len returns the number of queued records, without pruning.
func (q *usageQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}
