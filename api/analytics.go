package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cpam-caddy/cpam/store"
	"github.com/cpam-caddy/cpam/usage"
)

// queryTimeout bounds the database work of one analytics request.
const queryTimeout = 30 * time.Second

// analyticsRoute is one authenticated route of this file. The table below
// both registers the routes and drives the OpenAPI test, so the document
// and the served routes cannot drift apart.
type analyticsRoute struct {
	method, path string
	// params are the query parameters the route accepts; others are
	// refused with 400.
	params []string
	// filtered routes parse the period, zone and dimension filters (see
	// filterParams) before serve runs; q is nil for the others.
	filtered bool
	serve    func(h *Handler, w http.ResponseWriter, r *http.Request, q *query) error
}

// withFilter returns filterParams followed by extra.
func withFilter(extra ...string) []string { return append(slices.Clip(filterParams), extra...) }

// withFilterButFailed is withFilter without failed (for routes that fix it).
func withFilterButFailed(extra ...string) []string {
	return slices.DeleteFunc(withFilter(extra...), func(p string) bool { return p == pFailed })
}

// Parameters specific to some routes.
const (
	pBucket     = "bucket"
	pBy         = "by"
	pTop        = "top"
	pSort       = "sort"
	pCursor     = "cursor"
	pLimit      = "limit"
	pMinLatency = "min_latency_ms"
	pQ          = "q"
	pReveal     = "reveal"
)

// analyticsRoutesTable lists /status, /api/v1/* and the OpenAPI document.
var analyticsRoutesTable = []analyticsRoute{
	{method: "GET", path: "/status", serve: (*Handler).status},
	{method: "GET", path: "/api/v1/openapi.json", serve: (*Handler).openAPI},
	{method: "GET", path: "/api/v1/summary", params: withFilter(), filtered: true, serve: (*Handler).summary},
	{method: "GET", path: "/api/v1/timeseries", params: withFilter(pBucket), filtered: true, serve: (*Handler).timeseries},
	{method: "GET", path: "/api/v1/breakdown", params: withFilter(pBy, pTop, pSort), filtered: true, serve: (*Handler).breakdown},
	{method: "GET", path: "/api/v1/events", params: withFilter(pMinLatency, pQ, pCursor, pLimit, pReveal), filtered: true, serve: (*Handler).events},
	{method: "GET", path: "/api/v1/failures", params: withFilterButFailed(pMinLatency, pQ, pLimit, pReveal), filtered: true, serve: (*Handler).failures},
	{method: "GET", path: "/api/v1/filters", params: withFilter(), filtered: true, serve: (*Handler).filters},
}

// analyticsRoutes registers /status and /api/v1/*.
func (h *Handler) analyticsRoutes(mux *routeMux) {
	for _, rt := range analyticsRoutesTable {
		mux.HandleFunc(rt.method+" "+rt.path, func(w http.ResponseWriter, r *http.Request) {
			h.serveAnalytics(w, r, rt)
		})
	}
}

// serveAnalytics checks the parameters of rt, runs it and answers its
// error: 400 for parameter problems, 503 without a database, 500 else.
func (h *Handler) serveAnalytics(w http.ResponseWriter, r *http.Request, rt analyticsRoute) {
	v := r.URL.Query()
	err := checkParams(v, rt.params)
	var q *query
	if err == nil && rt.filtered {
		q, err = parseQuery(v)
	}
	if err == nil {
		ctx, cancel := context.WithTimeout(r.Context(), queryTimeout)
		defer cancel()
		err = rt.serve(h, w, r.WithContext(ctx), q)
	}
	if err == nil {
		return
	}
	if b, ok := isBadParam(err); ok {
		writeError(w, http.StatusBadRequest, "bad_parameter", b.msg)
		return
	}
	if errors.Is(err, errNoStore) {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "the usage database is not open yet; check the Caddy log and retry")
		return
	}
	if errors.Is(err, context.DeadlineExceeded) {
		writeError(w, http.StatusServiceUnavailable, "timeout", "the query took longer than "+queryTimeout.String()+": query a shorter period or fewer dimensions")
		return
	}
	writeError(w, http.StatusInternalServerError, "internal", "the query failed: "+err.Error())
}

// errNoStore reports a request made before the database is open.
var errNoStore = errors.New("api: no database")

// store returns the database, or errNoStore.
func (h *Handler) store() (*store.Store, error) {
	if h.opts.Backend == nil {
		return nil, errNoStore
	}
	s := h.opts.Backend.Store()
	if s == nil {
		return nil, errNoStore
	}
	return s, nil
}

// summary answers GET /api/v1/summary: the period and the one of the same
// length just before it.
func (h *Handler) summary(w http.ResponseWriter, r *http.Request, q *query) error {
	s, err := h.store()
	if err != nil {
		return err
	}
	cur, prev, err := s.SummaryWithPrevious(r.Context(), q.filter)
	if err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	type previousJSON struct {
		From time.Time `json:"from"`
		To   time.Time `json:"to"`
		summaryJSON
	}
	writeJSON(w, http.StatusOK, struct {
		periodJSON
		Current  summaryJSON  `json:"current"`
		Previous previousJSON `json:"previous"`
	}{q.period(), summaryView(cur), previousJSON{From: q.from.Add(-q.to.Sub(q.from)), To: q.from, summaryJSON: summaryView(prev)}})
	return nil
}

// buckets maps the bucket parameter to time series steps.
var buckets = map[string]time.Duration{
	"15m": 15 * time.Minute, "30m": 30 * time.Minute, "1h": time.Hour, "6h": 6 * time.Hour, "1d": 24 * time.Hour,
}

// bucketNames lists the accepted buckets, shortest first.
var bucketNames = []string{"15m", "30m", "1h", "6h", "1d"}

// timeseries answers GET /api/v1/timeseries.
func (h *Handler) timeseries(w http.ResponseWriter, r *http.Request, q *query) error {
	name, err := choice(q.values, pBucket, "1h", bucketNames)
	if err != nil {
		return err
	}
	step := buckets[name]
	if n := q.to.Sub(q.from) / step; n > maxPoints {
		return badParamf("bucket=%s over this period gives %d points, more than %d: choose a larger bucket or a shorter period", name, n, maxPoints)
	}
	s, err := h.store()
	if err != nil {
		return err
	}
	pts, err := s.TimeSeries(r.Context(), q.filter, step, q.loc)
	if err != nil {
		return fmt.Errorf("time series: %w", err)
	}
	type pointJSON struct {
		Start time.Time `json:"start"`
		End   time.Time `json:"end"`
		summaryJSON
	}
	out := make([]pointJSON, len(pts))
	for i, p := range pts {
		end := p.Start.Add(step)
		if step%(24*time.Hour) == 0 {
			end = p.Start.AddDate(0, 0, int(step/(24*time.Hour)))
		}
		out[i] = pointJSON{Start: p.Start, End: end, summaryJSON: summaryView(p.Summary)}
	}
	writeJSON(w, http.StatusOK, struct {
		periodJSON
		Bucket string      `json:"bucket"`
		Points []pointJSON `json:"points"`
	}{q.period(), name, out})
	return nil
}

// breakdownDims maps the by parameter to store dimensions (see
// store.Dimensions).
var breakdownDims = map[string]string{
	"model": "model", "alias": "alias", "provider": "provider", "account": "auth_index", "api_key": "api_key",
	"endpoint": "endpoint", "upstream": "upstream", "status": "failed",
}

// breakdownNames lists the accepted by values.
var breakdownNames = []string{"model", "alias", "provider", "account", "api_key", "endpoint", "upstream", "status"}

// statusKey names the failed dimension's values.
func statusKey(failed string) string {
	if failed == "true" {
		return "failed"
	}
	return "ok"
}

// breakdown answers GET /api/v1/breakdown.
func (h *Handler) breakdown(w http.ResponseWriter, r *http.Request, q *query) error {
	by, err := choice(q.values, pBy, "", breakdownNames)
	if err != nil {
		return err
	}
	top, err := intParam(q.values, pTop, 10, 0, 1000)
	if err != nil {
		return err
	}
	sortName, err := choice(q.values, pSort, "attempts", []string{"attempts", "cost"})
	if err != nil {
		return err
	}
	order := store.ByAttempts
	if sortName == "cost" {
		order = store.ByCost
	}
	s, err := h.store()
	if err != nil {
		return err
	}
	rows, err := s.Breakdown(r.Context(), q.filter, breakdownDims[by], int(top), order)
	if err != nil {
		return fmt.Errorf("breakdown by %s: %w", by, err)
	}
	type rowJSON struct {
		Key   string `json:"key"`
		Label string `json:"label"`
		// Hint is the raw form a Label replaced: the key mask of an aliased
		// API key, the auth_index of a named account.
		Hint  string `json:"hint,omitempty"`
		Other bool   `json:"other"`
		// PricedAs (by=model only) is the price-book name whose price new
		// attempts of the model get, or JSON null when none applies.
		PricedAs json.RawMessage `json:"priced_as,omitempty"`
		summaryJSON
	}
	hints := make([]string, len(rows))
	switch by {
	case "account":
		err = h.labelAccounts(r.Context(), s, rows, hints)
	case "api_key":
		err = labelAPIKeys(r.Context(), s, rows, hints)
	}
	if err != nil {
		return fmt.Errorf("breakdown by %s: %w", by, err)
	}
	out := make([]rowJSON, len(rows))
	for i, row := range rows {
		if by == "status" && !row.Other {
			row.Key = statusKey(row.Key)
			row.Label = row.Key
		}
		out[i] = rowJSON{Key: row.Key, Label: row.Label, Hint: hints[i], Other: row.Other, summaryJSON: summaryView(row.Summary)}
		if by == "model" && !row.Other {
			out[i].PricedAs = h.pricedAs(row.Key)
		}
	}
	writeJSON(w, http.StatusOK, struct {
		periodJSON
		By   string    `json:"by"`
		Sort string    `json:"sort"`
		Top  int64     `json:"top"`
		Rows []rowJSON `json:"rows"`
	}{q.period(), by, sortName, top, out})
	return nil
}

// pricedAs is the JSON price-book name the current book prices model
// under (as the normaliser looks it up), null when it has no price, or
// nothing when no book is loaded (collection not running).
func (h *Handler) pricedAs(model string) json.RawMessage {
	norm := h.opts.Backend.Normalizer()
	if norm == nil || norm.Prices() == nil {
		return nil
	}
	_, name, ok := norm.Prices().Lookup(model, "")
	if !ok || model == "" {
		return json.RawMessage("null")
	}
	out, err := json.Marshal(name)
	if err != nil {
		return json.RawMessage("null")
	}
	return out
}

// AccountLookup is implemented by backends that know the current names of
// CPA credentials (from CPA's auth-file and provider listings).
type AccountLookup interface {
	// Account returns the credential with this auth_index, if known.
	Account(authIndex string) (usage.Account, bool)
}

// labelAccounts names the auth_index rows of an account breakdown: the
// credential's current name when the backend knows it, else the name
// frozen on its newest event. Emails are masked.
func (h *Handler) labelAccounts(ctx context.Context, s *store.Store, rows []store.Row, hints []string) error {
	lookup, _ := h.opts.Backend.(AccountLookup)
	var missing []string
	names := make(map[string]usage.Account)
	for _, row := range rows {
		if row.Other || row.Key == "" {
			continue
		}
		if lookup != nil {
			if a, ok := lookup.Account(row.Key); ok {
				names[row.Key] = a
				continue
			}
		}
		missing = append(missing, row.Key)
	}
	stored, err := s.LatestAccounts(ctx, missing)
	if err != nil {
		return err
	}
	for k, a := range stored {
		names[k] = a
	}
	for i := range rows {
		if label := accountLabel(names[rows[i].Key]); label != "" {
			hints[i] = rows[i].Key
			rows[i].Label = label
		}
	}
	return nil
}

// accountLabel is the display name of a credential, emails masked.
func accountLabel(a usage.Account) string {
	switch {
	case a.Label != "":
		return maskEmailsIn(a.Label)
	case a.Email != "":
		return usage.MaskEmail(a.Email)
	case a.FileName != "":
		return maskEmailsIn(a.FileName)
	}
	return ""
}

// labelAPIKeys names the rows of an API key breakdown by their aliases.
func labelAPIKeys(ctx context.Context, s *store.Store, rows []store.Row, hints []string) error {
	aliases, err := s.APIKeyAliases(ctx)
	if err != nil {
		return err
	}
	for i := range rows {
		if alias, ok := aliases[rows[i].Key]; ok && !rows[i].Other {
			hints[i] = rows[i].Label
			rows[i].Label = alias
		}
	}
	return nil
}

// eventFilter adds the event-only parameters (min_latency_ms, q) to the
// filter of q.
func eventFilter(q *query) (store.Filter, error) {
	f := q.filter
	ms, err := intParam(q.values, pMinLatency, 0, 0, 1<<40)
	if err != nil {
		return f, err
	}
	f.MinLatencyMS = ms
	text, _, err := single(q.values, pQ)
	if err != nil {
		return f, err
	}
	if len(text) > 200 {
		return f, badParamf("q is longer than 200 bytes: search for a shorter text")
	}
	f.Query = text
	return f, nil
}

// revealEmails parses reveal: "emails" shows email addresses unmasked.
func revealEmails(q *query) (bool, error) {
	s, ok, err := single(q.values, pReveal)
	if err != nil || !ok || s == "" {
		return false, err
	}
	if s != "emails" {
		return false, badParamf("unknown reveal=%q: send reveal=emails to show email addresses unmasked, or leave it out", s)
	}
	return true, nil
}

// cursorPrefix versions the opaque cursor.
const cursorPrefix = "e1:"

// encodeCursor makes a store cursor opaque.
func encodeCursor(c store.Cursor) string {
	if c == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + string(c)))
}

// decodeCursor reverses encodeCursor and checks the store cursor's shape
// ("<unix ms>.<id>"), so that a damaged cursor is a 400, not a 500.
func decodeCursor(s string) (store.Cursor, error) {
	bad := badParamf("cursor %q is not a cursor this API returned: send the nextCursor of the previous page, or leave it out for the first page", s)
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return "", bad
	}
	c, ok := strings.CutPrefix(string(b), cursorPrefix)
	if !ok {
		return "", bad
	}
	ts, id, found := strings.Cut(c, ".")
	if !found {
		return "", bad
	}
	if _, err := strconv.ParseInt(ts, 10, 64); err != nil {
		return "", bad
	}
	if _, err := strconv.ParseInt(id, 10, 64); err != nil {
		return "", bad
	}
	return store.Cursor(c), nil
}

// events answers GET /api/v1/events: newest first, one page at a time.
func (h *Handler) events(w http.ResponseWriter, r *http.Request, q *query) error {
	f, err := eventFilter(q)
	if err != nil {
		return err
	}
	limit, err := intParam(q.values, pLimit, 100, 1, 500)
	if err != nil {
		return err
	}
	reveal, err := revealEmails(q)
	if err != nil {
		return err
	}
	var after store.Cursor
	if c, ok, err := single(q.values, pCursor); err != nil {
		return err
	} else if ok && c != "" {
		if after, err = decodeCursor(c); err != nil {
			return err
		}
	}
	s, err := h.store()
	if err != nil {
		return err
	}
	evs, next, err := s.Events(r.Context(), f, store.Page{Limit: int(limit), After: after})
	if err != nil {
		return fmt.Errorf("events: %w", err)
	}
	var nextCursor *string
	if next != "" {
		c := encodeCursor(next)
		nextCursor = &c
	}
	writeJSON(w, http.StatusOK, struct {
		periodJSON
		Limit      int64       `json:"limit"`
		Events     []eventJSON `json:"events"`
		NextCursor *string     `json:"nextCursor"`
	}{q.period(), limit, eventsView(evs, q.loc, reveal), nextCursor})
	return nil
}

// failures answers GET /api/v1/failures: the newest failed attempts.
func (h *Handler) failures(w http.ResponseWriter, r *http.Request, q *query) error {
	f, err := eventFilter(q)
	if err != nil {
		return err
	}
	limit, err := intParam(q.values, pLimit, 50, 1, 500)
	if err != nil {
		return err
	}
	reveal, err := revealEmails(q)
	if err != nil {
		return err
	}
	s, err := h.store()
	if err != nil {
		return err
	}
	evs, err := s.RecentFailures(r.Context(), f, int(limit))
	if err != nil {
		return fmt.Errorf("failures: %w", err)
	}
	writeJSON(w, http.StatusOK, struct {
		periodJSON
		Limit    int64       `json:"limit"`
		Failures []eventJSON `json:"failures"`
	}{q.period(), limit, eventsView(evs, q.loc, reveal)})
	return nil
}

// filters answers GET /api/v1/filters: the values of every dimension seen
// in the period, for dropdowns. Each dimension's list honours the other
// dimensions' filters but not its own, so a selected value does not hide
// its alternatives.
func (h *Handler) filters(w http.ResponseWriter, r *http.Request, q *query) error {
	s, err := h.store()
	if err != nil {
		return err
	}
	ctx := r.Context()
	out := struct {
		periodJSON
		Upstreams []string     `json:"upstreams"`
		Models    []string     `json:"models"`
		Aliases   []string     `json:"aliases"`
		Providers []string     `json:"providers"`
		Accounts  []string     `json:"accounts"`
		APIKeys   []secretJSON `json:"apiKeys"`
		Endpoints []string     `json:"endpoints"`
		Statuses  []string     `json:"statuses"`
	}{periodJSON: q.period()}
	for _, d := range []struct {
		dim   string
		dst   *[]string
		clear func(f *store.Filter)
	}{
		{"upstream", &out.Upstreams, func(f *store.Filter) { f.Upstreams = nil }},
		{"model", &out.Models, func(f *store.Filter) { f.Models = nil }},
		{"alias", &out.Aliases, func(f *store.Filter) { f.Aliases = nil }},
		{"provider", &out.Providers, func(f *store.Filter) { f.Providers = nil }},
		{"auth_index", &out.Accounts, func(f *store.Filter) { f.AuthIndexes = nil }},
		{"endpoint", &out.Endpoints, func(f *store.Filter) { f.Endpoints = nil }},
		{"failed", &out.Statuses, func(f *store.Filter) { f.Failed = nil }},
	} {
		f := q.filter
		d.clear(&f)
		vals, err := s.Distinct(ctx, d.dim, f)
		if err != nil {
			return fmt.Errorf("filter values of %s: %w", d.dim, err)
		}
		if d.dim == "failed" {
			for i := range vals {
				vals[i] = statusKey(vals[i])
			}
			slices.Sort(vals)
		}
		*d.dst = append([]string{}, vals...)
	}
	f := q.filter
	f.APIKeys = nil
	rows, err := s.Breakdown(ctx, f, "api_key", 0, store.ByAttempts)
	if err != nil {
		return fmt.Errorf("filter values of api_key: %w", err)
	}
	out.APIKeys = []secretJSON{}
	for _, row := range rows {
		if row.Key != "" {
			out.APIKeys = append(out.APIKeys, secretJSON{Hash: row.Key, Mask: row.Label})
		}
	}
	slices.SortFunc(out.APIKeys, func(a, b secretJSON) int {
		if c := strings.Compare(a.Mask, b.Mask); c != 0 {
			return c
		}
		return strings.Compare(a.Hash, b.Hash)
	})
	writeJSON(w, http.StatusOK, out)
	return nil
}
