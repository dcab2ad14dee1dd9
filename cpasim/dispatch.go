package cpasim

import (
	"context"
	"fmt"
	"sync"
)

// item is one message on its way to subscribers or the queue.
type item struct {
	channel string
	data    []byte
	// publishOnly items (errors, control messages) are never queued.
	publishOnly bool
}

// dispatcher publishes records asynchronously and in order, like CPA's
// usage dispatcher. Producers never block.
type dispatcher struct {
	deliver func(item)

	mu        sync.Mutex
	pending   []item
	submitted uint64
	done      uint64
	waiters   []syncWaiter
	wake      chan struct{}
}

type syncWaiter struct {
	target uint64
	ch     chan struct{}
}

func newDispatcher(deliver func(item)) *dispatcher {
	return &dispatcher{deliver: deliver, wake: make(chan struct{}, 1)}
}

// submit queues it for delivery.
func (d *dispatcher) submit(it item) {
	d.mu.Lock()
	d.pending = append(d.pending, it)
	d.submitted++
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// run delivers items until ctx is done.
func (d *dispatcher) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			d.mu.Lock()
			d.pending = nil
			d.done = d.submitted
			d.notifyLocked()
			d.mu.Unlock()
			return
		case <-d.wake:
		}
		for {
			d.mu.Lock()
			batch := d.pending
			d.pending = nil
			d.mu.Unlock()
			if len(batch) == 0 {
				break
			}
			for _, it := range batch {
				d.deliver(it)
			}
			d.mu.Lock()
			d.done += uint64(len(batch))
			d.notifyLocked()
			d.mu.Unlock()
		}
	}
}

func (d *dispatcher) notifyLocked() {
	kept := d.waiters[:0]
	for _, w := range d.waiters {
		if d.done >= w.target {
			close(w.ch)
			continue
		}
		kept = append(kept, w)
	}
	d.waiters = kept
}

// sync waits until every item submitted so far has been delivered.
func (d *dispatcher) sync(ctx context.Context) error {
	d.mu.Lock()
	if d.done >= d.submitted {
		d.mu.Unlock()
		return nil
	}
	w := syncWaiter{target: d.submitted, ch: make(chan struct{})}
	d.waiters = append(d.waiters, w)
	d.mu.Unlock()
	select {
	case <-w.ch:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("cpasim: wait for dispatcher: %w", ctx.Err())
	}
}
