package cpasim

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// faults holds the injected failure modes.
type faults struct {
	mu          sync.Mutex
	stalled     bool
	resume      chan struct{} // closed while not stalled
	latency     time.Duration
	forceStatus int
	forceLeft   int // < 0: unlimited
}

func (f *faults) init() {
	f.resume = make(chan struct{})
	close(f.resume)
}

// waitUnstalled blocks while subscribers are stalled.
func (f *faults) waitUnstalled(ctx context.Context) error {
	f.mu.Lock()
	ch := f.resume
	f.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for unstall: %w", ctx.Err())
	}
}

func (f *faults) setStalled(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if on == f.stalled {
		return
	}
	f.stalled = on
	if on {
		f.resume = make(chan struct{})
	} else {
		close(f.resume)
	}
}

// release unstalls everything, for shutdown.
func (f *faults) release() { f.setStalled(false) }

// takeForced returns the forced upstream status for one attempt, or 0.
func (f *faults) takeForced() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.forceStatus == 0 || f.forceLeft == 0 {
		return 0
	}
	if f.forceLeft > 0 {
		f.forceLeft--
	}
	return f.forceStatus
}

func (f *faults) getLatency() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.latency
}

// DropConnections closes every open connection, HTTP and RESP alike, and
// returns how many were closed. The listener keeps accepting.
func (s *Server) DropConnections() int {
	s.popMu.Lock()
	defer s.popMu.Unlock()
	return s.conns.closeAll()
}

// OpenConnections returns the number of open client connections.
func (s *Server) OpenConnections() int { return s.conns.len() }

// StallSubscribers pauses (true) or resumes (false) writing to RESP
// subscribers. While paused, their 256-message buffers fill up and
// overflowing subscribers are dropped, as with a slow client.
func (s *Server) StallSubscribers(stall bool) { s.faults.setStalled(stall) }

// Restart simulates a CPA restart on the same port: the queue, the IP
// bans and the request counters are lost and every connection and
// subscriber is closed.
func (s *Server) Restart() {
	s.popMu.Lock()
	defer s.popMu.Unlock()
	s.queue.clear()
	s.guard.reset()
	s.state.ResetRuntime()
	s.up.reset()
	s.hub.dropAll()
	s.conns.closeAll()
}

// ForceStatus makes the next n upstream attempts on /v1 routes fail with
// HTTP status code (429, 503, ...), producing failed records. n < 0 keeps
// failing until ForceStatus(0, 0) clears it.
func (s *Server) ForceStatus(code, n int) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.forceStatus = code
	s.faults.forceLeft = n
	if code == 0 {
		s.faults.forceLeft = 0
	}
}

// SetLatency adds d of simulated upstream latency to every attempt.
func (s *Server) SetLatency(d time.Duration) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.latency = max(d, 0)
}
