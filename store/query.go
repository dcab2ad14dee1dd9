package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cpam-caddy/cpam/usage"
)

// Filter selects events or rollup rows. Empty lists and zero times do not
// filter. Lists match any of their values (API keys by hash).
//
// Queries served from rollups (Summary, TimeSeries, Breakdown and
// Distinct) count whole 15-minute buckets: those whose start lies in
// [From, To). Events, RecentFailures and CountEvents use the exact times.
type Filter struct {
	From, To    time.Time
	Upstreams   []string
	Models      []string
	Providers   []string
	AuthIndexes []string
	APIKeys     []string // key hashes
	Endpoints   []string
	// Aliases are the model names clients asked for.
	Aliases []string
	// Failed, when set, keeps only failed (true) or successful (false) attempts.
	Failed *bool

	// MinLatencyMS, when > 0, keeps attempts that took at least that long.
	// Events only: rollup queries refuse it.
	MinLatencyMS int64
	// Query, when not blank, keeps events whose request id, model, alias,
	// auth_index or account (label, email, provider, project, file name)
	// contains it, ignoring case. Events only: rollup queries refuse it.
	Query string
}

// eventsOnly reports whether f uses a condition the rollups cannot answer.
func (f *Filter) eventsOnly() bool {
	return f.MinLatencyMS > 0 || strings.TrimSpace(f.Query) != ""
}

// Summary aggregates attempts. Percentiles are estimated from the rollup
// histograms (see HistogramBounds) and are in milliseconds. Requests are not
// counted here: failover attempts of one request are separate attempts.
type Summary struct {
	Attempts int64
	Failed   int64
	// Tokens sums the token buckets; Quality is empty.
	Tokens usage.Tokens
	// CostMicroUSD sums the priced attempts; Unpriced counts the others.
	CostMicroUSD int64
	Unpriced     int64

	LatencyAvgMS                       float64
	LatencyP50, LatencyP95, LatencyP99 float64
	// TTFTCount counts the attempts whose TTFT was measured; the TTFT
	// figures are over those only.
	TTFTCount                 int64
	TTFTAvgMS                 float64
	TTFTP50, TTFTP95, TTFTP99 float64
}

// agg is a sum of rollup rows: failed attempts and rollupMeasures.
type agg struct {
	failed int64
	m      [nMeasAll]int64
}

// aggSelect is the select list that scans into an agg.
var aggSelect = func() string {
	parts := []string{"COALESCE(SUM(failed*attempts),0)"}
	for _, m := range rollupMeasures {
		parts = append(parts, "COALESCE(SUM("+m+"),0)")
	}
	return strings.Join(parts, ",")
}()

// dests returns scan destinations for a.
func (a *agg) dests() []any {
	d := []any{&a.failed}
	for i := range a.m {
		d = append(d, &a.m[i])
	}
	return d
}

// add adds b to a.
func (a *agg) add(b *agg) {
	a.failed += b.failed
	for i := range a.m {
		a.m[i] += b.m[i]
	}
}

// summary turns a into a Summary.
func (a *agg) summary() Summary {
	m := a.m
	s := Summary{
		Attempts: m[mAttempts],
		Failed:   a.failed,
		Tokens: usage.Tokens{Uncached: m[mUncached], CacheRead: m[mCacheRead], CacheWrite: m[mCacheWrite],
			Output: m[mOutput], Reasoning: m[mReasoning], Unclassified: m[mUnclassified]},
		CostMicroUSD: m[mCost],
		Unpriced:     m[mUnpriced],
		TTFTCount:    m[mTTFTN],
	}
	if s.Attempts > 0 {
		s.LatencyAvgMS = float64(m[mLatencySum]) / float64(s.Attempts)
	}
	if s.TTFTCount > 0 {
		s.TTFTAvgMS = float64(m[mTTFTSum]) / float64(s.TTFTCount)
	}
	lat, tt := m[mLat0:mLat0+histBins], m[mTTFT0:mTTFT0+histBins]
	s.LatencyP50, s.LatencyP95, s.LatencyP99 = percentile(lat, .50), percentile(lat, .95), percentile(lat, .99)
	s.TTFTP50, s.TTFTP95, s.TTFTP99 = percentile(tt, .50), percentile(tt, .95), percentile(tt, .99)
	return s
}

// where is a WHERE clause under construction.
type where struct {
	conds []string
	args  []any
}

// sql returns " WHERE ..." or "".
func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// add appends a condition.
func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// filterDims maps the list fields of Filter to columns and dict kinds.
func filterDims(f *Filter) []struct {
	col    string
	kind   dictKind
	values []string
} {
	return []struct {
		col    string
		kind   dictKind
		values []string
	}{
		{"upstream", kUpstream, f.Upstreams},
		{"model", kModel, f.Models},
		{"provider", kProvider, f.Providers},
		{"auth_index", kAuthIndex, f.AuthIndexes},
		{"api_key", kAPIKey, f.APIKeys},
		{"endpoint", kEndpoint, f.Endpoints},
		{"alias", kModel, f.Aliases},
	}
}

// buildWhere translates f into conditions on event columns (ts in unix
// milliseconds); prefix qualifies the columns. Rollup reads are planned
// by readRollups instead (plan.go).
func (s *Store) buildWhere(ctx context.Context, f Filter, prefix string) (*where, error) {
	w := &where{}
	if !f.From.IsZero() {
		w.add(prefix+"ts >= ?", f.From.UnixMilli())
	}
	if !f.To.IsZero() {
		w.add(prefix+"ts < ?", f.To.UnixMilli())
	}
	fids, err := s.resolveFilter(ctx, &f)
	if err != nil {
		return nil, err
	}
	if fids.none {
		w.add("0")
	}
	for i, col := range fids.cols {
		if len(fids.ids[i]) == 0 {
			continue
		}
		args := make([]any, len(fids.ids[i]))
		for j, id := range fids.ids[i] {
			args[j] = id
		}
		w.add(prefix+col+" IN ("+placeholders(len(args))+")", args...)
	}
	if f.Failed != nil {
		w.add("("+prefix+"flags & 1) = ?", boolInt(*f.Failed))
	}
	if f.MinLatencyMS > 0 {
		w.add(prefix+"latency_ms >= ?", f.MinLatencyMS)
	}
	if q := strings.ToLower(strings.TrimSpace(f.Query)); q != "" {
		addTextSearch(w, prefix, q)
	}
	return w, nil
}

// accountText is the searchable text of a kAccount dict value (JSON of
// accountJSON): its fields, not its keys.
const accountText = "lower(coalesce(json_extract(value,'$.l'),'')||char(10)||coalesce(json_extract(value,'$.e'),'')||char(10)||" +
	"coalesce(json_extract(value,'$.p'),'')||char(10)||coalesce(json_extract(value,'$.j'),'')||char(10)||coalesce(json_extract(value,'$.f'),''))"

// addTextSearch adds the condition of Filter.Query (q lowercased) on event
// columns. Dictionary matches are found by subqueries on dict, so the event
// scan stays on the time index; request ids stored as integers are matched
// on their 8-hex form.
func addTextSearch(w *where, prefix, q string) {
	dictMatch := func(kind dictKind, expr string) string {
		return fmt.Sprintf("(SELECT id FROM dict WHERE kind = %d AND instr(%s, ?) > 0)", kind, expr)
	}
	conds := []string{
		prefix + "model IN " + dictMatch(kModel, "lower(value)"),
		prefix + "alias IN " + dictMatch(kModel, "lower(value)"),
		prefix + "auth_index IN " + dictMatch(kAuthIndex, "lower(value)"),
		prefix + "account IN " + dictMatch(kAccount, accountText),
		"-" + prefix + "request_id IN " + dictMatch(kRequestID, "lower(value)"),
	}
	args := []any{q, q, q, q, q}
	if isHex(q) && len(q) <= 8 {
		conds = append(conds, "("+prefix+"request_id >= 0 AND instr(printf('%08x', "+prefix+"request_id), ?) > 0)")
		args = append(args, q)
	}
	w.add("("+strings.Join(conds, " OR ")+")", args...)
}

// isHex reports whether s is made of lowercase hex digits only.
func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return s != ""
}

// Summary aggregates the attempts matching f from the rollups.
func (s *Store) Summary(ctx context.Context, f Filter) (Summary, error) {
	var sum agg
	if err := s.readRollups(ctx, rollupRead{f: f}, func(_, _ int64, a *agg) { sum.add(a) }); err != nil {
		return Summary{}, fmt.Errorf("store: summary: %w", err)
	}
	return sum.summary(), nil
}

// SummaryWithPrevious returns the summary of f and of the period of the
// same length just before f.From, for comparison. f needs From and To.
func (s *Store) SummaryWithPrevious(ctx context.Context, f Filter) (cur, prev Summary, err error) {
	if f.From.IsZero() || f.To.IsZero() || !f.To.After(f.From) {
		return Summary{}, Summary{}, errors.New("store: SummaryWithPrevious needs From before To")
	}
	if cur, err = s.Summary(ctx, f); err != nil {
		return Summary{}, Summary{}, err
	}
	p := f
	p.From, p.To = f.From.Add(-f.To.Sub(f.From)), f.From
	if prev, err = s.Summary(ctx, p); err != nil {
		return Summary{}, Summary{}, err
	}
	return cur, prev, nil
}

// Point is one step of a time series.
type Point struct {
	// Start is the step's start in the requested zone.
	Start time.Time
	Summary
}

// TimeSeries returns one Point per step from f.From to f.To, including
// empty steps. step must be a positive multiple of 15 minutes. Steps are
// aligned in loc (UTC when nil): multiples of a day start at local
// midnight (and follow the calendar across DST changes), shorter steps are
// counted from the local midnight of From's day. Since every zone offset in
// use is a multiple of 15 minutes, the rollups fill steps exactly. From is
// rounded down and To up to step boundaries.
func (s *Store) TimeSeries(ctx context.Context, f Filter, step time.Duration, loc *time.Location) ([]Point, error) {
	if step <= 0 || step%(15*time.Minute) != 0 {
		return nil, fmt.Errorf("store: time series step %v is not a positive multiple of 15m", step)
	}
	if f.From.IsZero() || f.To.IsZero() || !f.To.After(f.From) {
		return nil, errors.New("store: time series needs From before To")
	}
	if loc == nil {
		loc = time.UTC
	}
	starts := stepStarts(f.From, f.To, step, loc)
	if len(starts) > 100000 {
		return nil, fmt.Errorf("store: time series of %d points is too long", len(starts))
	}
	end := nextStep(starts[len(starts)-1], step)
	qf := f
	qf.From, qf.To = starts[0], end
	// Step starts are whole quarter hours (every zone offset in use is a
	// multiple of 15 minutes); no coarse rollup row may straddle one.
	cuts := make([]int64, 0, len(starts)+1)
	for _, t := range starts {
		cuts = append(cuts, ceilBucket(t))
	}
	cuts = append(cuts, ceilBucket(end))
	sums := make([]agg, len(starts))
	err := s.readRollups(ctx, rollupRead{f: qf, cuts: cuts, byBucket: true}, func(b, _ int64, a *agg) {
		t := time.Unix(b, 0)
		i := sort.Search(len(starts), func(i int) bool { return starts[i].After(t) }) - 1
		if i >= 0 {
			sums[i].add(a)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("store: time series: %w", err)
	}
	pts := make([]Point, len(starts))
	for i := range starts {
		pts[i] = Point{Start: starts[i], Summary: sums[i].summary()}
	}
	return pts, nil
}

// nextStep returns the start of the step after t.
func nextStep(t time.Time, step time.Duration) time.Time {
	if step%(24*time.Hour) == 0 {
		return t.AddDate(0, 0, int(step/(24*time.Hour)))
	}
	return t.Add(step)
}

// stepStarts lists the step starts covering [from, to) in loc.
func stepStarts(from, to time.Time, step time.Duration, loc *time.Location) []time.Time {
	lf := from.In(loc)
	mid := time.Date(lf.Year(), lf.Month(), lf.Day(), 0, 0, 0, 0, loc)
	start := mid
	if step%(24*time.Hour) != 0 {
		start = mid.Add(from.Sub(mid) / step * step)
	}
	var out []time.Time
	for t := start; t.Before(to); t = nextStep(t, step) {
		if !nextStep(t, step).After(from) {
			continue
		}
		out = append(out, t)
	}
	return out
}

// SortBy orders Breakdown rows.
type SortBy int

// Breakdown orders.
const (
	ByAttempts SortBy = iota
	ByCost
)

// Row is one value of a Breakdown dimension.
type Row struct {
	// Key is the value (for api_key the key hash; for failed "true" or
	// "false"); Label is the displayable form (the key mask) or Key.
	Key, Label string
	// Other marks the row that sums the values beyond the top N.
	Other bool
	Summary
}

// dimKinds maps rollup dimensions to their dict kind.
var dimKinds = map[string]dictKind{
	"upstream": kUpstream, "model": kModel, "alias": kModel, "provider": kProvider, "auth_index": kAuthIndex,
	"api_key": kAPIKey, "endpoint": kEndpoint, "service_tier": kServiceTier, "failed": 0,
}

// Dimensions lists the dimensions Breakdown and Distinct accept.
func Dimensions() []string { return append([]string(nil), rollupDims...) }

// Breakdown aggregates f by one rollup dimension (see Dimensions) and
// returns the topN values (all when topN <= 0) ordered by attempts or cost,
// then a row with Other set summing the rest, when there is a rest.
func (s *Store) Breakdown(ctx context.Context, f Filter, dim string, topN int, by SortBy) ([]Row, error) {
	if _, ok := dimKinds[dim]; !ok {
		return nil, fmt.Errorf("store: unknown breakdown dimension %q", dim)
	}
	type grp struct {
		id int64
		a  agg
	}
	byID := map[int64]*grp{}
	err := s.readRollups(ctx, rollupRead{f: f, group: dim}, func(_, id int64, a *agg) {
		g := byID[id]
		if g == nil {
			g = &grp{id: id}
			byID[id] = g
		}
		g.a.add(a)
	})
	if err != nil {
		return nil, fmt.Errorf("store: breakdown by %s: %w", dim, err)
	}
	gs := make([]grp, 0, len(byID))
	for _, g := range byID {
		gs = append(gs, *g)
	}
	names, err := s.dimNames(ctx, dim, func(yield func(int64)) {
		for _, g := range gs {
			yield(g.id)
		}
	})
	if err != nil {
		return nil, err
	}
	measure := func(g *grp) int64 {
		if by == ByCost {
			return g.a.m[mCost]
		}
		return g.a.m[mAttempts]
	}
	sort.Slice(gs, func(i, j int) bool {
		mi, mj := measure(&gs[i]), measure(&gs[j])
		if mi != mj {
			return mi > mj
		}
		return names[gs[i].id].value < names[gs[j].id].value
	})
	var out []Row
	var other agg
	nOther := 0
	for i := range gs {
		if topN > 0 && i >= topN {
			other.add(&gs[i].a)
			nOther++
			continue
		}
		e := names[gs[i].id]
		label := e.value
		if e.mask != "" {
			label = e.mask
		}
		out = append(out, Row{Key: e.value, Label: label, Summary: gs[i].a.summary()})
	}
	if nOther > 0 {
		out = append(out, Row{Key: "other", Label: "other", Other: true, Summary: other.summary()})
	}
	return out, nil
}

// dimNames decodes the ids of a dimension.
func (s *Store) dimNames(ctx context.Context, dim string, ids func(yield func(int64))) (map[int64]dictEntry, error) {
	if dim == "failed" {
		return map[int64]dictEntry{0: {value: "false"}, 1: {value: "true"}}, nil
	}
	set := make(map[int64]struct{})
	ids(func(id int64) { set[id] = struct{}{} })
	return s.resolve(ctx, set)
}

// Distinct lists the values of a rollup dimension (see Dimensions) seen in
// the period of f, sorted, without "". For api_key the values are key
// hashes (Breakdown gives their masks).
func (s *Store) Distinct(ctx context.Context, dim string, f Filter) ([]string, error) {
	if _, ok := dimKinds[dim]; !ok {
		return nil, fmt.Errorf("store: unknown dimension %q", dim)
	}
	seen := map[int64]bool{}
	var ids []int64
	err := s.readRollups(ctx, rollupRead{f: f, group: dim}, func(_, id int64, _ *agg) {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("store: distinct %s: %w", dim, err)
	}
	names, err := s.dimNames(ctx, dim, func(yield func(int64)) {
		for _, id := range ids {
			yield(id)
		}
	})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, id := range ids {
		if v := names[id].value; v != "" {
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out, nil
}

// StoredEvent is an event read back from the database.
type StoredEvent struct {
	// ID is the event's row id (increasing in insertion order).
	ID int64
	usage.Event
}

// Cursor is an opaque position in a newest-first event listing; "" is the
// start.
type Cursor string

// Page selects a page of events.
type Page struct {
	// Limit is the page size; 100 when <= 0, at most 1000.
	Limit int
	// After is the cursor returned with the previous page.
	After Cursor
}

// eventSelect reads events with their details.
var eventSelect = "SELECT e.id, e." + strings.Join(eventCols, ", e.") +
	", x.fail_body, x.headers, x.xff FROM events e LEFT JOIN event_extra x ON x.event_id = e.id"

// Events returns the events matching f, newest first (by time, then id),
// one page at a time. The returned cursor is "" after the last page.
func (s *Store) Events(ctx context.Context, f Filter, p Page) ([]StoredEvent, Cursor, error) {
	limit := p.Limit
	if limit <= 0 {
		limit = 100
	}
	if limit > 1000 {
		limit = 1000
	}
	w, err := s.buildWhere(ctx, f, "e.")
	if err != nil {
		return nil, "", err
	}
	if p.After != "" {
		ts, id, ok := parseCursor(p.After)
		if !ok {
			return nil, "", fmt.Errorf("store: bad cursor %q", p.After)
		}
		w.add("(e.ts < ? OR (e.ts = ? AND e.id < ?))", ts, ts, id)
	}
	q := eventSelect + w.sql() + " ORDER BY e.ts DESC, e.id DESC LIMIT ?"
	rows, err := s.rdb.QueryContext(ctx, q, append(w.args, limit+1)...)
	if err != nil {
		return nil, "", fmt.Errorf("store: listing events: %w", err)
	}
	evs, refs, err := scanEvents(rows)
	if err != nil {
		return nil, "", err
	}
	var next Cursor
	if len(evs) > limit {
		evs, refs = evs[:limit], refs[:limit]
		last := evs[limit-1]
		next = Cursor(strconv.FormatInt(last.Time.UnixMilli(), 10) + "." + strconv.FormatInt(last.ID, 10))
	}
	if err := s.decodeEvents(ctx, evs, refs); err != nil {
		return nil, "", err
	}
	return evs, next, nil
}

// RecentFailures returns the newest failed attempts matching f.
func (s *Store) RecentFailures(ctx context.Context, f Filter, limit int) ([]StoredEvent, error) {
	t := true
	f.Failed = &t
	evs, _, err := s.Events(ctx, f, Page{Limit: limit})
	return evs, err
}

// parseCursor splits a cursor into time and id.
func parseCursor(c Cursor) (ts, id int64, ok bool) {
	a, b, found := strings.Cut(string(c), ".")
	if !found {
		return 0, 0, false
	}
	ts, err1 := strconv.ParseInt(a, 10, 64)
	id, err2 := strconv.ParseInt(b, 10, 64)
	return ts, id, err1 == nil && err2 == nil
}

// eventRefs are the dict ids of one event, in eventCols order from
// upstream (index 2) to response_service_tier (index 19).
type eventRefs [20]int64

// Column positions in a row of eventSelect: the id, then eventCols, then
// the three event_extra columns.
const (
	colID        = 0
	colTS        = 1
	colHash      = 2
	colRequestID = 4  // request_id (eventCols index 3)
	colStatus    = 21 // status; the counters follow in eventCols order
	colFailBody  = 32
	colHeaders   = 33
	colXFF       = 34
)

// scanEvents reads rows of eventSelect.
func scanEvents(rows *sql.Rows) ([]StoredEvent, []eventRefs, error) {
	return scanEventsCap(rows, 0)
}

// scanEventsCap reads rows of eventSelect into slices preallocated for n
// rows. Every column is scanned into an interface value, which
// database/sql assigns without reflection, and the same destinations are
// reused for every row.
func scanEventsCap(rows *sql.Rows, n int) ([]StoredEvent, []eventRefs, error) {
	defer rows.Close()
	evs := make([]StoredEvent, 0, n)
	refs := make([]eventRefs, 0, n)
	vals := make([]any, 1+len(eventCols)+3)
	dest := make([]any, len(vals))
	for i := range dest {
		dest[i] = &vals[i]
	}
	var hash sql.RawBytes
	dest[colHash] = &hash
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, nil, fmt.Errorf("store: reading events: %w", err)
		}
		evs = append(evs, StoredEvent{})
		refs = append(refs, eventRefs{})
		e, r := &evs[len(evs)-1], &refs[len(refs)-1]
		var bad error
		num := func(i int) int64 {
			v, err := int64Value(vals[i])
			if err != nil && bad == nil {
				bad = fmt.Errorf("column %d: %w", i, err)
			}
			return v
		}
		e.ID = num(colID)
		e.Time = time.UnixMilli(num(colTS)).UTC()
		copy(e.Hash[:], hash)
		for i := 2; i < 20; i++ {
			if i != 3 {
				r[i] = num(i + 1)
			}
		}
		if vals[colRequestID] != nil {
			if id := num(colRequestID); id >= 0 {
				e.RequestID = requestIDString(id)
			} else {
				r[3] = -id
			}
		}
		e.StatusCode = int(num(colStatus))
		flags := num(colStatus + 1)
		e.LatencyMS, e.TTFTMS = num(colStatus+2), num(colStatus+3)
		t := &e.Tokens
		t.Uncached, t.CacheRead, t.CacheWrite = num(colStatus+4), num(colStatus+5), num(colStatus+6)
		t.Output, t.Reasoning, t.Unclassified = num(colStatus+7), num(colStatus+8), num(colStatus+9)
		e.Cost.MicroUSD = num(colStatus + 10)
		e.Failed = flags&flagFailed != 0
		e.Generate = flags&flagGenerate != 0
		e.Cost.Priced = flags&flagPriced != 0
		t.Quality = qualityNames[(flags>>flagQShift)&7]
		text := func(i int) string {
			v, err := textValue(vals[i])
			if err != nil && bad == nil {
				bad = fmt.Errorf("column %d: %w", i, err)
			}
			return v
		}
		e.FailBody, e.XForwardedFor = text(colFailBody), text(colXFF)
		if bad != nil {
			return nil, nil, fmt.Errorf("store: reading event %d: %w", e.ID, bad)
		}
		switch h := vals[colHeaders].(type) {
		case nil:
		case string:
			if err := json.Unmarshal([]byte(h), &e.Headers); err != nil {
				return nil, nil, fmt.Errorf("store: decoding headers of event %d: %w", e.ID, err)
			}
		case []byte:
			if err := json.Unmarshal(h, &e.Headers); err != nil {
				return nil, nil, fmt.Errorf("store: decoding headers of event %d: %w", e.ID, err)
			}
		default:
			return nil, nil, fmt.Errorf("store: decoding headers of event %d: unexpected %T", e.ID, h)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("store: reading events: %w", err)
	}
	return evs, refs, nil
}

// int64Value converts an integer column read into an interface value.
func int64Value(v any) (int64, error) {
	switch v := v.(type) {
	case int64:
		return v, nil
	case nil:
		return 0, errors.New("unexpected NULL")
	default:
		// Whatever else the driver gives converts as a scan into *int64 would.
		var n sql.NullInt64
		if err := n.Scan(v); err != nil {
			return 0, err
		}
		return n.Int64, nil
	}
}

// textValue converts a nullable text column read into an interface value;
// NULL is "".
func textValue(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case []byte:
		return string(v), nil
	case nil:
		return "", nil
	default:
		// Whatever else the driver gives converts as sql.NullString does.
		var ns sql.NullString
		err := ns.Scan(v)
		return ns.String, err
	}
}

// requestIDString formats a numeric request id as "%08x" does, without
// going through fmt.
func requestIDString(id int64) string {
	const digits = "0123456789abcdef"
	if id >= 1<<32 {
		return strconv.FormatInt(id, 16)
	}
	var b [8]byte
	for i := 7; i >= 0; i-- {
		b[i] = digits[id&0xf]
		id >>= 4
	}
	return string(b[:])
}

// decodeEvents fills the string fields of evs from their dict ids. Sources
// and accounts are decoded once per distinct dict id.
func (s *Store) decodeEvents(ctx context.Context, evs []StoredEvent, refs []eventRefs) error {
	set := make(map[int64]struct{})
	for i := range refs {
		r := &refs[i]
		for j, id := range r[2:] {
			// Neighbouring events mostly share ids: skip repeats cheaply.
			if i > 0 && refs[i-1][j+2] == id {
				continue
			}
			set[id] = struct{}{}
		}
	}
	names, err := s.resolve(ctx, set)
	if err != nil {
		return err
	}
	sources := make(map[int64]usage.Source)
	accounts := make(map[int64]usage.Account)
	for i := range evs {
		e, r := &evs[i], &refs[i]
		v := func(j int) string { return names[r[j]].value }
		e.Upstream = v(2)
		if r[3] != 0 {
			e.RequestID = v(3)
		}
		e.AuthIndex, e.AuthType, e.Provider, e.ExecutorType = v(4), v(5), v(6), v(7)
		e.Model, e.Alias, e.Endpoint = v(8), v(9), v(10)
		e.APIKey = usage.Secret{Hash: v(11), Mask: names[r[11]].mask}
		if src := v(12); src != "" {
			got, ok := sources[r[12]]
			if !ok {
				parts := strings.SplitN(src, "\x00", 3)
				for len(parts) < 3 {
					parts = append(parts, "")
				}
				got = usage.Source{Kind: parts[0], Key: usage.Secret{Hash: parts[1], Mask: names[r[12]].mask}, Value: parts[2]}
				sources[r[12]] = got
			}
			e.Source = got
		}
		e.ClientIP, e.UserAgent = v(13), v(14)
		if acc := v(15); acc != "" {
			got, ok := accounts[r[15]]
			if !ok {
				var a accountJSON
				if err := json.Unmarshal([]byte(acc), &a); err != nil {
					return fmt.Errorf("store: decoding account of event %d: %w", e.ID, err)
				}
				got = usage.Account(a)
				accounts[r[15]] = got
			}
			e.Account = got
		}
		e.AccessTokenSHA256, e.ReasoningEffort, e.ServiceTier, e.ResponseServiceTier = v(16), v(17), v(18), v(19)
	}
	return nil
}

// CountEvents counts the stored events of upstream whose attempt started
// in [from, to), exactly (from the events, not the 15-minute rollups), so
// windows of any alignment can be compared with CPA's own counters.
func (s *Store) CountEvents(ctx context.Context, upstream string, from, to time.Time) (int64, error) {
	w, err := s.buildWhere(ctx, Filter{From: from, To: to, Upstreams: []string{upstream}}, "")
	if err != nil {
		return 0, err
	}
	var n int64
	if err := s.rdb.QueryRowContext(ctx, "SELECT count(*) FROM events"+w.sql(), w.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: counting events: %w", err)
	}
	return n, nil
}
