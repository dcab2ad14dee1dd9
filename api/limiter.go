package api

import (
	"sync"
	"time"
)

// Brute-force policy: more than maxFailures failed authentications from one
// client IP within failureWindow block further attempts from it until the
// oldest failure leaves the window.
const (
	maxFailures   = 10
	failureWindow = 15 * time.Minute
	// maxTrackedIPs bounds the limiter's memory.
	maxTrackedIPs = 100_000
)

// limiter counts failed authentications per client IP in a sliding window.
// It has no goroutine: stale entries are dropped as failures are recorded.
type limiter struct {
	mu        sync.Mutex
	failures  map[string][]time.Time // oldest first, all within the window
	lastPrune time.Time
}

func newLimiter() *limiter {
	return &limiter{failures: make(map[string][]time.Time)}
}

// blocked reports whether ip has used up its failures at now, and if so how
// long until it may try again.
func (l *limiter) blocked(ip string, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fs := l.current(ip, now)
	if len(fs) < maxFailures {
		return 0, false
	}
	return fs[len(fs)-maxFailures].Add(failureWindow).Sub(now), true
}

// fail records a failure of ip at now and returns how many failures it has
// in the window.
func (l *limiter) fail(ip string, now time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastPrune) >= time.Minute || len(l.failures) >= maxTrackedIPs {
		l.prune(now)
	}
	fs := append(l.current(ip, now), now)
	if len(fs) > maxFailures {
		fs = fs[len(fs)-maxFailures:]
	}
	l.failures[ip] = fs
	return len(fs)
}

// succeed forgets the failures of ip.
func (l *limiter) succeed(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, ip)
}

// current returns ip's failures still in the window at now. l.mu is held.
func (l *limiter) current(ip string, now time.Time) []time.Time {
	fs := l.failures[ip]
	i := 0
	for i < len(fs) && now.Sub(fs[i]) >= failureWindow {
		i++
	}
	if i == len(fs) && fs != nil {
		delete(l.failures, ip)
		return nil
	}
	return fs[i:]
}

// prune drops IPs without recent failures and, if still too many remain,
// an arbitrary tenth of the rest. l.mu is held.
func (l *limiter) prune(now time.Time) {
	l.lastPrune = now
	for ip, fs := range l.failures {
		if len(fs) == 0 || now.Sub(fs[len(fs)-1]) >= failureWindow {
			delete(l.failures, ip)
		}
	}
	if len(l.failures) >= maxTrackedIPs {
		// Under a spread-out attack, forget an arbitrary tenth at once so
		// pruning stays cheap.
		drop := len(l.failures) / 10
		for ip := range l.failures {
			if drop <= 0 {
				break
			}
			delete(l.failures, ip)
			drop--
		}
	}
}
