package api

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cpam-caddy/cpam/store"
	"github.com/cpam-caddy/cpam/usage"
)

// The CPA-Manager compatible usage routes. CPA itself no longer keeps usage
// statistics; panels written for its old /v0/management/usage routes read
// them from here instead. The routes are served by the API under its base
// path and, through ServeUsageCompat, by the management proxy at CPA's own
// paths.

// Paths of the compatible routes, relative to /v0/management.
const (
	compatUsagePath  = "/usage"
	compatExportPath = "/usage/export"
	compatImportPath = "/usage/import"
	compatPrefix     = "/v0/management"
)

// exportSchema marks every line of an export.
const exportSchema = "cpam.event.v1"

// exportBatch is how many events the export reads per query.
const exportBatch = 1000

// exportFlushEvery is how often the export pushes buffered output to the
// client.
const exportFlushEvery = time.Second

// Query parameters of the compatible routes.
var (
	compatUsageParams  = []string{pFrom, pTo, pTZ, pUpstream}
	compatExportParams = []string{pFrom, pTo, pTZ, pUpstream}
	compatImportParams = []string{pUpstream}
)

// compatRoutes registers the CPA-Manager compatible usage routes.
func (h *Handler) compatRoutes(mux *routeMux) {
	mux.HandleFunc("GET "+compatPrefix+compatUsagePath, h.compatUsage)
	mux.HandleFunc("GET "+compatPrefix+compatExportPath, h.compatExport)
	mux.HandleFunc("POST "+compatPrefix+compatImportPath, h.compatImport)
}

// ServeUsageCompat serves GET /usage, GET /usage/export and POST
// /usage/import for the management proxy, where r.URL.Path is relative to
// /v0/management (e.g. "/usage/export"). It does not authenticate: the
// caller has. For any other path or method it writes nothing and returns
// false.
func (h *Handler) ServeUsageCompat(w http.ResponseWriter, r *http.Request) bool {
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch {
	case r.URL.Path == compatUsagePath && get:
		h.compatUsage(w, r)
	case r.URL.Path == compatExportPath && get:
		h.compatExport(w, r)
	case r.URL.Path == compatImportPath && r.Method == http.MethodPost:
		h.compatImport(w, r)
	default:
		return false
	}
	return true
}

// compatQuery is the parsed query of /usage and /usage/export.
type compatQuery struct {
	// from and to bound the period (to exclusive); zero does not bound.
	from, to  time.Time
	loc       *time.Location
	upstreams []string
}

// parseCompatQuery reads from, to, tz and upstream. Unlike the analytics
// routes, the period is not limited and defaults to everything kept: from
// the first event to now (toNow) or without an end.
func parseCompatQuery(v url.Values, allowed []string, toNow bool) (*compatQuery, error) {
	if err := checkParams(v, allowed); err != nil {
		return nil, err
	}
	loc, err := parseZone(v)
	if err != nil {
		return nil, err
	}
	q := &query{values: v, loc: loc}
	from, _, err := q.timeParam(pFrom)
	if err != nil {
		return nil, err
	}
	to, hasTo, err := q.timeParam(pTo)
	if err != nil {
		return nil, err
	}
	if !hasTo && toNow {
		to = timeNow()
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return nil, badParamf("from (%s) must be before to (%s)", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	ups, err := list(v, pUpstream)
	if err != nil {
		return nil, err
	}
	return &compatQuery{from: from, to: to, loc: loc, upstreams: ups}, nil
}

// filter is the store filter of q.
func (q *compatQuery) filter() store.Filter {
	return store.Filter{From: q.from, To: q.to, Upstreams: q.upstreams}
}

// writeCompatError answers err of a compatible route: 400 for parameter
// problems, 503 without a database or after a timeout, 500 else.
func writeCompatError(w http.ResponseWriter, err error) {
	if b, ok := isBadParam(err); ok {
		writeError(w, http.StatusBadRequest, "bad_parameter", b.msg)
		return
	}
	switch {
	case errors.Is(err, errNoStore):
		writeError(w, http.StatusServiceUnavailable, "unavailable", "the usage database is not open yet; check the Caddy log and retry")
	case errors.Is(err, context.DeadlineExceeded):
		writeError(w, http.StatusServiceUnavailable, "timeout", "the query took longer than "+queryTimeout.String()+": query a shorter period (from, to) or one upstream")
	default:
		writeError(w, http.StatusInternalServerError, "internal", "the query failed: "+err.Error())
	}
}

// ---- GET /usage ----

// legacyTokensJSON are the flat token counters of CPA's old usage
// statistics.
type legacyTokensJSON struct {
	InputTokens     int64 `json:"input_tokens"`
	OutputTokens    int64 `json:"output_tokens"`
	ReasoningTokens int64 `json:"reasoning_tokens"`
	CachedTokens    int64 `json:"cached_tokens"`
	TotalTokens     int64 `json:"total_tokens"`
}

// legacyDetailJSON is one request of CPA's old usage statistics.
type legacyDetailJSON struct {
	Timestamp string           `json:"timestamp"`
	LatencyMS int64            `json:"latency_ms"`
	Source    string           `json:"source"`
	AuthIndex string           `json:"auth_index"`
	Tokens    legacyTokensJSON `json:"tokens"`
	Failed    bool             `json:"failed"`
}

// legacyModelJSON is one model of an endpoint.
type legacyModelJSON struct {
	TotalRequests int64              `json:"total_requests"`
	TotalTokens   int64              `json:"total_tokens"`
	Details       []legacyDetailJSON `json:"details"`
}

// legacyAPIJSON is one endpoint.
type legacyAPIJSON struct {
	TotalRequests int64                       `json:"total_requests"`
	TotalTokens   int64                       `json:"total_tokens"`
	Models        map[string]*legacyModelJSON `json:"models"`
}

// legacyUsageJSON is the "usage" object of CPA's old GET /usage.
type legacyUsageJSON struct {
	TotalRequests  int64                     `json:"total_requests"`
	SuccessCount   int64                     `json:"success_count"`
	FailureCount   int64                     `json:"failure_count"`
	TotalTokens    int64                     `json:"total_tokens"`
	APIs           map[string]*legacyAPIJSON `json:"apis"`
	RequestsByDay  map[string]int64          `json:"requests_by_day"`
	RequestsByHour map[string]int64          `json:"requests_by_hour"`
	TokensByDay    map[string]int64          `json:"tokens_by_day"`
	TokensByHour   map[string]int64          `json:"tokens_by_hour"`
}

// unknownKey names an empty endpoint or model, as CPA did.
const unknownKey = "unknown"

// legacyKey maps "" to unknownKey.
func legacyKey(s string) string {
	if s == "" {
		return unknownKey
	}
	return s
}

// legacyTokens maps our token buckets to the legacy counters: output
// includes reasoning, cached is the cache read.
func legacyTokens(t usage.Tokens) legacyTokensJSON {
	return legacyTokensJSON{InputTokens: t.Input(), OutputTokens: t.OutputTotal(), ReasoningTokens: t.Reasoning,
		CachedTokens: t.CacheRead, TotalTokens: t.Total()}
}

// legacySource is what CPA showed as the source: the account email, the
// provider key's mask (never the key), the project.
func legacySource(e *store.StoredEvent) string {
	switch e.Source.Kind {
	case "":
	case usage.SourceAPIKey:
		return e.Source.Key.Mask
	default:
		if e.Source.Value != "" {
			return e.Source.Value
		}
	}
	return e.Account.Email
}

// quarter is the rollup bucket length.
const quarter = 15 * time.Minute

// bucketAligned returns the first rollup bucket start at or after t's
// whole second: the rollup queries count the buckets starting in
// [From, To) (compared in seconds), so the events in
// [bucketAligned(From), bucketAligned(To)) are exactly the events those
// buckets count. Zero stays zero.
func bucketAligned(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	s := time.Unix(t.Unix(), 0).UTC()
	if a := s.Truncate(quarter); !a.Equal(s) {
		return a.Add(quarter)
	}
	return s
}

// compatUsage answers GET /usage: CPA's old aggregate. Totals, days and
// hours cover the whole period from the rollups; details list the newest
// QueryLimit events of it.
func (h *Handler) compatUsage(w http.ResponseWriter, r *http.Request) {
	if err := h.serveCompatUsage(w, r); err != nil {
		writeCompatError(w, err)
	}
}

func (h *Handler) serveCompatUsage(w http.ResponseWriter, r *http.Request) error {
	q, err := parseCompatQuery(r.URL.Query(), compatUsageParams, true)
	if err != nil {
		return err
	}
	s, err := h.store()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), queryTimeout)
	defer cancel()
	f := q.filter()
	u := &legacyUsageJSON{
		APIs:          map[string]*legacyAPIJSON{},
		RequestsByDay: map[string]int64{}, RequestsByHour: map[string]int64{},
		TokensByDay: map[string]int64{}, TokensByHour: map[string]int64{},
	}
	for hour := range 24 {
		k := fmt.Sprintf("%02d", hour)
		u.RequestsByHour[k], u.TokensByHour[k] = 0, 0
	}
	model := func(ep, m string) *legacyModelJSON {
		api := u.APIs[ep]
		if api == nil {
			api = &legacyAPIJSON{Models: map[string]*legacyModelJSON{}}
			u.APIs[ep] = api
		}
		mj := api.Models[m]
		if mj == nil {
			mj = &legacyModelJSON{Details: []legacyDetailJSON{}}
			api.Models[m] = mj
		}
		return mj
	}

	// The details first: every event read is then also in the rollups read
	// after it (ingest writes both in one transaction).
	ef := f
	ef.From, ef.To = bucketAligned(f.From), bucketAligned(f.To)
	limit := h.opts.QueryLimit
	truncated := false
	var cur store.Cursor
	for n := 0; n < limit; {
		page, next, err := s.Events(ctx, ef, store.Page{Limit: min(1000, limit-n), After: cur})
		if err != nil {
			return fmt.Errorf("usage details: %w", err)
		}
		for i := range page {
			e := &page[i]
			mj := model(legacyKey(e.Endpoint), legacyKey(e.Model))
			mj.Details = append(mj.Details, legacyDetailJSON{
				Timestamp: e.Time.In(q.loc).Format(time.RFC3339Nano), LatencyMS: e.LatencyMS, Source: legacySource(e),
				AuthIndex: e.AuthIndex, Tokens: legacyTokens(e.Tokens), Failed: e.Failed,
			})
		}
		n += len(page)
		if next == "" {
			break
		}
		cur = next
		truncated = n >= limit
	}
	// Newest first was the reading order; CPA listed details oldest first.
	for _, api := range u.APIs {
		for _, mj := range api.Models {
			slices.Reverse(mj.Details)
		}
	}

	sum, err := s.Summary(ctx, f)
	if err != nil {
		return fmt.Errorf("usage totals: %w", err)
	}
	u.TotalRequests, u.FailureCount, u.TotalTokens = sum.Attempts, sum.Failed, sum.Tokens.Total()
	u.SuccessCount = sum.Attempts - sum.Failed

	eps, err := s.Breakdown(ctx, f, "endpoint", 0, store.ByAttempts)
	if err != nil {
		return fmt.Errorf("usage by endpoint: %w", err)
	}
	for _, ep := range eps {
		mf := f
		mf.Endpoints = []string{ep.Key}
		models, err := s.Breakdown(ctx, mf, "model", 0, store.ByAttempts)
		if err != nil {
			return fmt.Errorf("usage by model: %w", err)
		}
		for _, m := range models {
			mj := model(legacyKey(ep.Key), legacyKey(m.Key))
			mj.TotalRequests += m.Attempts
			mj.TotalTokens += m.Tokens.Total()
		}
		api := u.APIs[legacyKey(ep.Key)]
		if api == nil { // no model rows: written between the two queries
			continue
		}
		api.TotalRequests += ep.Attempts
		api.TotalTokens += ep.Tokens.Total()
	}

	buckets, err := s.BucketTotals(ctx, f)
	if err != nil {
		return fmt.Errorf("usage by day and hour: %w", err)
	}
	for _, b := range buckets {
		lt := b.Start.In(q.loc)
		day, hour := lt.Format(time.DateOnly), fmt.Sprintf("%02d", lt.Hour())
		tok := b.Tokens.Total()
		u.RequestsByDay[day] += b.Attempts
		u.TokensByDay[day] += tok
		u.RequestsByHour[hour] += b.Attempts
		u.TokensByHour[hour] += tok
	}

	writeJSON(w, http.StatusOK, struct {
		Usage          *legacyUsageJSON `json:"usage"`
		FailedRequests int64            `json:"failed_requests"`
		QueryLimit     int              `json:"query_limit"`
		Truncated      bool             `json:"truncated"`
	}{u, sum.Failed, limit, truncated})
	return nil
}

// ---- GET /usage/export ----

// exportLine is one line of an export: the event as the events route
// shows it, emails unmasked, with the schema marker.
type exportLine struct {
	Schema string `json:"schema"`
	eventJSON
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip.
func acceptsGzip(header string) bool {
	explicit, star := -1.0, -1.0
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		switch name {
		case "gzip", "x-gzip":
			explicit = max(explicit, q)
		case "*":
			star = max(star, q)
		}
	}
	if explicit >= 0 {
		return explicit > 0
	}
	return star > 0
}

// compatExport answers GET /usage/export: every event of the period as
// NDJSON, oldest first, gzip-compressed when the client accepts it. Memory
// stays constant: events are read and written exportBatch at a time (the
// store reads the next batch while this one is encoded), each line by
// exportEncoder, which writes exactly what encoding/json would.
func (h *Handler) compatExport(w http.ResponseWriter, r *http.Request) {
	q, err := parseCompatQuery(r.URL.Query(), compatExportParams, false)
	if err != nil {
		writeCompatError(w, err)
		return
	}
	s, err := h.store()
	if err != nil {
		writeCompatError(w, err)
		return
	}
	compress := acceptsGzip(r.Header.Get("Accept-Encoding"))
	hd := w.Header()
	hd.Add("Vary", "Accept-Encoding")
	started := false
	var out io.Writer = w
	var zw *gzip.Writer
	start := func() {
		started = true
		hd.Set("Content-Type", "application/x-ndjson")
		hd.Set("Content-Disposition", `attachment; filename="usage-events.jsonl"`)
		hd.Set("Cache-Control", "no-store")
		hd.Set("X-Content-Type-Options", "nosniff")
		if compress {
			hd.Set("Content-Encoding", "gzip")
			zw, _ = gzip.NewWriterLevel(w, gzip.BestSpeed) // the level is valid
			out = zw
		}
		w.WriteHeader(http.StatusOK)
	}
	if r.Method == http.MethodHead {
		start()
		return
	}
	rc := http.NewResponseController(w)
	flush := func() error {
		if zw != nil {
			if err := zw.Flush(); err != nil {
				return err
			}
		}
		if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
		return nil
	}
	var enc exportEncoder
	var buf []byte // one batch of lines, reused across batches
	lastFlush := time.Now()
	ctx := r.Context()
	var werr error // writing to the client failed: it went away
	err = s.ScanEvents(ctx, q.filter(), exportBatch, func(evs []store.StoredEvent) error {
		if !started {
			start()
		}
		buf = buf[:0]
		for i := range evs {
			var err error
			if buf, err = enc.appendLine(buf, &evs[i]); err != nil {
				return err
			}
		}
		if _, werr = out.Write(buf); werr != nil {
			return werr
		}
		if time.Since(lastFlush) >= exportFlushEvery {
			lastFlush = time.Now()
			werr = flush()
		}
		return werr
	})
	switch {
	case err == nil:
		if !started {
			start()
		}
		if zw != nil {
			if err := zw.Close(); err != nil {
				return
			}
		}
		_ = flush()
	case werr != nil || ctx.Err() != nil:
		// The client went away; nothing is left to answer.
	case !started:
		writeCompatError(w, fmt.Errorf("export: %w", err))
	default:
		// The status line is gone: abort the response so the client sees
		// an incomplete transfer instead of a short but valid-looking file.
		panic(http.ErrAbortHandler)
	}
}

// endpointPattern matches "<METHOD> <path>", the apis keys of CPA versions
// that grouped usage by endpoint (older ones grouped by client API key).
var endpointPattern = regexp.MustCompile(`^[A-Z]+ /\S*$`)
