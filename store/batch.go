package store

import (
	"time"

	"github.com/cpam-caddy/cpam/usage"
)

// Batch is what the ingest pipeline commits in one transaction: events, the
// records that could not be normalised, and how far the spool has been
// consumed. Committing them together makes ingest exactly-once across
// crashes: a record is either stored and past the checkpoint, or neither.
type Batch struct {
	Events      []usage.Event
	DeadLetters []DeadLetter
	// Checkpoint, when not nil, is stored in the same transaction.
	Checkpoint *Checkpoint
}

// DeadLetter is a record that could not be turned into an event. Payload
// must already be redacted.
type DeadLetter struct {
	Upstream string
	Received time.Time
	Payload  []byte
	Error    string
}

// Checkpoint is a position in the ingest spool: the segment number and the
// byte offset just after the last committed record.
type Checkpoint struct {
	Segment uint64
	Offset  int64
}

// CommitResult counts what a commit did.
type CommitResult struct {
	// Stored events were new.
	Stored int
	// Duplicates were already stored (same event hash) and were skipped.
	Duplicates int
	// DeadLetters were written to the dead-letter table.
	DeadLetters int
	// Upstreams splits Stored and Duplicates by the events' upstream.
	Upstreams map[string]UpstreamResult
}

// UpstreamResult counts one upstream's events in a commit.
type UpstreamResult struct {
	Stored     int
	Duplicates int
}

// count adds one event's outcome.
func (r *CommitResult) count(upstream string, duplicate bool) {
	if r.Upstreams == nil {
		r.Upstreams = make(map[string]UpstreamResult)
	}
	u := r.Upstreams[upstream]
	if duplicate {
		r.Duplicates++
		u.Duplicates++
	} else {
		r.Stored++
		u.Stored++
	}
	r.Upstreams[upstream] = u
}
