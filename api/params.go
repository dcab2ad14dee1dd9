package api

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zones work on hosts without a zoneinfo database

	"github.com/cpam-caddy/cpam/store"
)

// Limits of the analytics parameters.
const (
	// defaultRange is the period queried when from is not given.
	defaultRange = 24 * time.Hour
	// maxRange is the longest period one query may cover.
	maxRange = 400 * 24 * time.Hour
	// maxValues is how many values one dimension filter may list.
	maxValues = 100
	// maxValueLen is the longest accepted filter value, in bytes.
	maxValueLen = 512
	// maxPoints is the most points a time series may have.
	maxPoints = 10000
)

// timeNow is the clock of the default time range; tests replace it.
var timeNow = time.Now

// badParam is a request parameter problem, answered with 400.
type badParam struct{ msg string }

func (e *badParam) Error() string { return e.msg }

// badParamf formats a badParam.
func badParamf(format string, args ...any) error {
	return &badParam{msg: fmt.Sprintf(format, args...)}
}

// isBadParam reports whether err is (or wraps) a badParam, and returns it.
func isBadParam(err error) (*badParam, bool) {
	var b *badParam
	ok := errors.As(err, &b)
	return b, ok
}

// Query parameter names shared by the analytics routes.
const (
	pFrom     = "from"
	pTo       = "to"
	pTZ       = "tz"
	pUpstream = "upstream"
	pModel    = "model"
	pAlias    = "alias"
	pProvider = "provider"
	pAccount  = "account"
	pAPIKey   = "api_key"
	pEndpoint = "endpoint"
	pFailed   = "failed"
)

// filterParams are the parameters every analytics query accepts: the
// period, the zone and the dimension filters.
var filterParams = []string{pFrom, pTo, pTZ, pUpstream, pModel, pAlias, pProvider, pAccount, pAPIKey, pEndpoint, pFailed}

// query is the parsed common part of an analytics request.
type query struct {
	// from and to bound the period, to exclusive.
	from, to time.Time
	// loc is the zone of tz; tzName its name ("UTC" by default).
	loc    *time.Location
	tzName string
	// filter is the store filter for the period and the dimensions.
	filter store.Filter
	// values are the raw query parameters.
	values url.Values
}

// checkParams rejects parameters outside allowed, so that a typo does not
// silently widen a query.
func checkParams(v url.Values, allowed []string) error {
	var unknown []string
	for name := range v {
		if !slices.Contains(allowed, name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	if len(allowed) == 0 {
		return badParamf("unknown query parameter %s: this route takes no parameters", strings.Join(unknown, ", "))
	}
	return badParamf("unknown query parameter %s: this route accepts %s", strings.Join(unknown, ", "), strings.Join(allowed, ", "))
}

// parseZone reads tz (an IANA zone name, UTC by default).
func parseZone(v url.Values) (*time.Location, error) {
	name, ok, err := single(v, pTZ)
	if err != nil || !ok || name == "" {
		return time.UTC, err
	}
	if name == "Local" {
		return nil, badParamf("tz %q is not an IANA time zone name: send e.g. tz=UTC or tz=Asia/Kolkata", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, badParamf("unknown time zone tz=%q: send an IANA name such as UTC, Europe/Berlin or Asia/Kolkata", name)
	}
	return loc, nil
}

// parseQuery reads the period, zone and dimension filters of v.
func parseQuery(v url.Values) (*query, error) {
	loc, err := parseZone(v)
	if err != nil {
		return nil, err
	}
	q := &query{values: v, loc: loc, tzName: loc.String()}
	from, hasFrom, err := q.timeParam(pFrom)
	if err != nil {
		return nil, err
	}
	to, hasTo, err := q.timeParam(pTo)
	if err != nil {
		return nil, err
	}
	switch {
	case !hasTo && !hasFrom:
		to = timeNow()
		from = to.Add(-defaultRange)
	case !hasTo:
		to = timeNow()
	case !hasFrom:
		from = to.Add(-defaultRange)
	}
	if !from.Before(to) {
		return nil, badParamf("from (%s) must be before to (%s)", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	if to.Sub(from) > maxRange {
		return nil, badParamf("the period from %s to %s is longer than %d days: query a shorter period",
			from.Format(time.RFC3339), to.Format(time.RFC3339), int(maxRange/(24*time.Hour)))
	}
	q.from, q.to = from.In(q.loc), to.In(q.loc)
	f := store.Filter{From: from, To: to}
	for _, d := range []struct {
		name string
		dst  *[]string
	}{
		{pUpstream, &f.Upstreams}, {pModel, &f.Models}, {pAlias, &f.Aliases}, {pProvider, &f.Providers},
		{pAccount, &f.AuthIndexes}, {pAPIKey, &f.APIKeys}, {pEndpoint, &f.Endpoints},
	} {
		vals, err := list(v, d.name)
		if err != nil {
			return nil, err
		}
		*d.dst = vals
	}
	if s, ok, err := single(v, pFailed); err != nil {
		return nil, err
	} else if ok && s != "" {
		if s != "true" && s != "false" {
			return nil, badParamf("failed=%q: send failed=true (failed attempts only) or failed=false (successful only)", s)
		}
		b := s == "true"
		f.Failed = &b
	}
	q.filter = f
	return q, nil
}

// timeParam parses an RFC 3339 time, or a date (YYYY-MM-DD, local midnight
// in the query's zone).
func (q *query) timeParam(name string) (time.Time, bool, error) {
	s, ok, err := single(q.values, name)
	if err != nil || !ok || s == "" {
		return time.Time{}, false, err
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil && strings.Contains(s, " ") {
		// An unencoded "+05:30" arrives as " 05:30".
		t, err = time.Parse(time.RFC3339Nano, strings.ReplaceAll(s, " ", "+"))
	}
	if err != nil {
		if d, derr := time.ParseInLocation(time.DateOnly, s, q.loc); derr == nil {
			return d, true, nil
		}
		return time.Time{}, false, badParamf("%s=%q is not an RFC 3339 time: send e.g. %s=2026-11-27T10:00:00Z or 2026-11-27T15:30:00%%2B05:30 (encode + as %%2B)", name, s, name)
	}
	return t, true, nil
}

// single returns the one value of a parameter; repeating it is an error.
func single(v url.Values, name string) (string, bool, error) {
	vals, ok := v[name]
	if !ok {
		return "", false, nil
	}
	if len(vals) > 1 {
		return "", false, badParamf("%s is given %d times: send it once", name, len(vals))
	}
	return strings.TrimSpace(vals[0]), true, nil
}

// list returns the non-empty values of a repeatable parameter.
func list(v url.Values, name string) ([]string, error) {
	var out []string
	for _, s := range v[name] {
		if s == "" {
			continue
		}
		if len(s) > maxValueLen {
			return nil, badParamf("a %s value is longer than %d bytes", name, maxValueLen)
		}
		out = append(out, s)
	}
	if len(out) > maxValues {
		return nil, badParamf("%s lists %d values: send at most %d", name, len(out), maxValues)
	}
	return out, nil
}

// intParam parses an integer parameter in [lo, hi], def when absent.
func intParam(v url.Values, name string, def, lo, hi int64) (int64, error) {
	s, ok, err := single(v, name)
	if err != nil || !ok || s == "" {
		return def, err
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, badParamf("%s=%q: send an integer from %d to %d", name, s, lo, hi)
	}
	return n, nil
}

// choice parses a parameter that takes one of choices, def when absent.
func choice(v url.Values, name, def string, choices []string) (string, error) {
	s, ok, err := single(v, name)
	if err != nil {
		return "", err
	}
	if !ok || s == "" {
		if def == "" {
			return "", badParamf("%s is required: send one of %s", name, strings.Join(choices, ", "))
		}
		return def, nil
	}
	if !slices.Contains(choices, s) {
		return "", badParamf("unknown %s=%q: send one of %s", name, s, strings.Join(choices, ", "))
	}
	return s, nil
}
