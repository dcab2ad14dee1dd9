package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cpam-caddy/cpam/store"
)

// The live feed, GET /api/v1/live, is a Server-Sent Events stream of the
// events as they are stored, in storage (row id) order:
//
//	retry: 3000
//
//	id: 1234
//	event: events
//	data: [<event>, ...]
//
//	: ping
//
//	event: close
//	data: {"reason":"server stopping"}
//
// Each "events" frame carries up to liveBatch events (the objects of
// /api/v1/events) and the row id of the last of them as its id. A client
// resumes after that id with the Last-Event-ID header (EventSource sends it
// when it reconnects) or the after parameter; at most liveBacklog events
// are replayed, and when more were missed a "gap" frame says which ids were
// skipped. Without either the stream starts after the latest stored event.
const (
	livePath    = "/api/v1/live"
	livePattern = "GET " + livePath

	// pAfter resumes the feed after an event id.
	pAfter = "after"

	// DefaultMaxLiveStreams is how many live streams one handler serves at
	// once; more get 503.
	DefaultMaxLiveStreams = 64
	// liveBacklog is the most stored events a resumed stream replays.
	liveBacklog = 500
	// liveBatch is the most events of one frame.
	liveBatch = 500
	// livePoll is how often the stream looks for new events when the
	// store's change signal stays silent (it misses commits whose caller
	// gave up waiting).
	livePoll = 5 * time.Second
	// livePing is the interval of keep-alive comments.
	livePing = 15 * time.Second
	// liveRetryMS is the reconnection delay the stream asks clients for.
	liveRetryMS = 3000
	// liveMinGap spaces out the queries of one stream, so a burst of
	// commits becomes one frame.
	liveMinGap = 200 * time.Millisecond
	// liveWriteTimeout bounds one write to a client that stopped reading.
	liveWriteTimeout = 30 * time.Second
)

// liveParams are the query parameters of the live feed: the dimension
// filters and event filters of /api/v1/events, without a period.
var liveParams = []string{pTZ, pUpstream, pModel, pAlias, pProvider, pAccount, pAPIKey, pEndpoint, pFailed,
	pMinLatency, pQ, pReveal, pAfter}

// liveHub serves the live feed of one Handler and ends its streams when the
// handler is closed.
type liveHub struct {
	h *Handler

	mu      sync.Mutex
	streams int
	closed  bool
	done    chan struct{} // closed by close
	// max, poll and ping default to DefaultMaxLiveStreams, livePoll and
	// livePing; tests change them.
	max        int
	poll, ping time.Duration
}

// liveRoutes registers /api/v1/live.
func (h *Handler) liveRoutes(mux *routeMux) {
	h.liveHub = &liveHub{h: h, max: DefaultMaxLiveStreams, poll: livePoll, ping: livePing, done: make(chan struct{})}
	mux.Handle(livePattern, h.liveHub)
}

// Close ends every live stream (each gets an "event: close" frame) and
// refuses new ones with 503; the other routes keep working. Call it when
// the server stops or the configuration that made the handler is replaced.
// It returns without waiting for the streams to finish and may be called
// more than once.
func (h *Handler) Close() {
	h.liveHub.close()
}

func (l *liveHub) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.closed = true
		close(l.done)
	}
}

// acquire takes a stream slot and returns the poll and ping intervals; it
// answers a refusal itself.
func (l *liveHub) acquire(w http.ResponseWriter) (poll, ping time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.closed:
		w.Header().Set("Retry-After", "3")
		writeError(w, http.StatusServiceUnavailable, "stopping", "the server is stopping or reloading its configuration; reconnect in a few seconds")
		return 0, 0, false
	case l.streams >= l.max:
		w.Header().Set("Retry-After", "30")
		writeError(w, http.StatusServiceUnavailable, "too_many_streams",
			fmt.Sprintf("%d live streams are open, the most this server serves; close another tab or client and retry", l.max))
		return 0, 0, false
	}
	l.streams++
	return l.poll, l.ping, true
}

// open returns how many streams are open.
func (l *liveHub) open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.streams
}

func (l *liveHub) release() {
	l.mu.Lock()
	l.streams--
	l.mu.Unlock()
}

// liveRequest is a parsed live feed request.
type liveRequest struct {
	filter store.Filter
	q      *query
	reveal bool
	// after is where a resumed stream continues; resume is false for a new
	// stream.
	after  int64
	resume bool
}

// parseLive reads the parameters and the Last-Event-ID header.
func parseLive(r *http.Request) (*liveRequest, error) {
	v := r.URL.Query()
	if err := checkParams(v, liveParams); err != nil {
		return nil, err
	}
	q, err := parseQuery(v)
	if err != nil {
		return nil, err
	}
	f, err := eventFilter(q)
	if err != nil {
		return nil, err
	}
	f.From, f.To = time.Time{}, time.Time{} // the feed has no period
	reveal, err := revealEmails(q)
	if err != nil {
		return nil, err
	}
	lr := &liveRequest{filter: f, q: q, reveal: reveal}
	// EventSource sends Last-Event-ID when it reconnects, with the URL of
	// the first connection: the header is the newer position, but after
	// is checked either way.
	if s, ok, err := single(v, pAfter); err != nil {
		return nil, err
	} else if ok && s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id < 0 {
			return nil, badParamf("after=%q: send the id of the last event received (0 or more), or leave it out to start with the next event", s)
		}
		lr.after, lr.resume = id, true
	}
	if s := strings.TrimSpace(r.Header.Get("Last-Event-ID")); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id < 0 {
			return nil, badParamf("Last-Event-ID %q is not an event id this feed sent: reconnect without it", s)
		}
		lr.after, lr.resume = id, true
	}
	return lr, nil
}

// ServeHTTP serves one live stream until the client leaves or the hub
// closes.
func (l *liveHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	lr, err := parseLive(r)
	if err != nil {
		if b, ok := isBadParam(err); ok {
			writeError(w, http.StatusBadRequest, "bad_parameter", b.msg)
			return
		}
		writeError(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	st, err := l.h.store()
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "the usage database is not open yet; check the Caddy log and retry")
		return
	}
	pollEvery, pingEvery, ok := l.acquire(w)
	if !ok {
		return
	}
	defer l.release()

	ctx := r.Context()
	// Take the change signal before the starting point, so a commit in
	// between wakes the stream.
	changed := st.Changed()
	latest, err := st.LatestEventID(ctx)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", "reading the latest event failed: "+err.Error())
		return
	}
	s := &liveStream{st: st, lr: lr, w: w, rc: http.NewResponseController(w), cursor: latest}
	// Each write sets its own deadline (which also lifts the server's write
	// timeout for the stream); do not leave the last one on a connection
	// that serves other requests afterwards.
	defer func() { _ = s.rc.SetWriteDeadline(time.Time{}) }()
	var gapFrom int64 = -1
	if lr.resume {
		// An id beyond the latest comes from another database (or ids
		// reused after deletions): start afresh.
		s.cursor = min(lr.after, latest)
		if latest-s.cursor > liveBacklog {
			gapFrom, s.cursor = s.cursor, latest-liveBacklog
		}
	}

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if err := s.write("retry: " + strconv.Itoa(liveRetryMS) + "\n\n"); err != nil {
		return
	}
	if gapFrom >= 0 {
		gap, _ := json.Marshal(map[string]any{"skippedAfter": gapFrom, "skippedTo": s.cursor,
			"reason": "more than " + strconv.Itoa(liveBacklog) + " events were stored since the last one received; reload the events list (/api/v1/events) to see them"})
		if err := s.write("event: gap\ndata: " + string(gap) + "\n\n"); err != nil {
			return
		}
	}

	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	poll := time.NewTicker(pollEvery)
	defer poll.Stop()
	check := lr.resume // a resumed stream sends its backlog at once
	var last time.Time
	for {
		if check {
			// Coalesce bursts of commits into one query.
			if wait := liveMinGap - time.Since(last); wait > 0 {
				select {
				case <-ctx.Done():
					return
				case <-l.done:
					s.closeFrame("server stopping")
					return
				case <-time.After(wait):
				}
			}
			// Take the next signal before reading, so a commit that lands
			// during the query wakes the loop again.
			changed = st.Changed()
			last = time.Now()
			if err := s.sendNew(ctx); err != nil {
				if ctx.Err() == nil && !isWriteErr(err) {
					s.closeFrame("the usage database is unavailable")
				}
				return
			}
			check = false
		}
		select {
		case <-ctx.Done():
			return
		case <-l.done:
			s.closeFrame("server stopping")
			return
		case <-changed:
			check = true
		case <-poll.C:
			check = true
		case <-ping.C:
			if err := s.write(": ping\n\n"); err != nil {
				return
			}
		}
	}
}

// liveStream is the state of one stream.
type liveStream struct {
	st     *store.Store
	lr     *liveRequest
	w      http.ResponseWriter
	rc     *http.ResponseController
	cursor int64 // the feed has sent (or skipped) every event up to this id
	buf    bytes.Buffer
}

// writeErr marks a failed write to the client.
type writeErr struct{ err error }

func (e *writeErr) Error() string { return "writing to the client: " + e.err.Error() }
func (e *writeErr) Unwrap() error { return e.err }

func isWriteErr(err error) bool {
	var we *writeErr
	return errors.As(err, &we)
}

// write sends a frame and flushes it.
func (s *liveStream) write(frame string) error { return s.writeBytes([]byte(frame)) }

// writeBytes sends a frame and flushes it. A client that stops reading
// fails the write after liveWriteTimeout.
func (s *liveStream) writeBytes(frame []byte) error {
	_ = s.rc.SetWriteDeadline(time.Now().Add(liveWriteTimeout))
	if _, err := s.w.Write(frame); err != nil {
		return &writeErr{err}
	}
	if err := s.rc.Flush(); err != nil {
		return &writeErr{err}
	}
	return nil
}

// closeFrame tells the client the stream ends.
func (s *liveStream) closeFrame(reason string) {
	data, _ := json.Marshal(map[string]string{"reason": reason})
	_ = s.write("event: close\ndata: " + string(data) + "\n\n")
}

// sendNew sends the events stored after the cursor, liveBatch per frame.
func (s *liveStream) sendNew(ctx context.Context) error {
	for {
		// Every event up to latest that matches the filter is read by the
		// query below, so the cursor may move past the ones that do not.
		latest, err := s.st.LatestEventID(ctx)
		if err != nil {
			return err
		}
		if latest <= s.cursor {
			return nil
		}
		evs, err := s.st.EventsAfter(ctx, s.lr.filter, s.cursor, liveBatch)
		if err != nil {
			return err
		}
		full := len(evs) == liveBatch
		if len(evs) > 0 {
			data, err := json.Marshal(eventsView(evs, s.lr.q.loc, s.lr.reveal))
			if err != nil {
				return err
			}
			last := evs[len(evs)-1].ID
			s.buf.Reset()
			s.buf.WriteString("id: ")
			s.buf.WriteString(strconv.FormatInt(last, 10))
			s.buf.WriteString("\nevent: events\ndata: ")
			s.buf.Write(data)
			s.buf.WriteString("\n\n")
			if err := s.writeBytes(s.buf.Bytes()); err != nil {
				return err
			}
			s.cursor = last
		}
		if !full {
			s.cursor = max(s.cursor, latest)
			return nil
		}
	}
}
