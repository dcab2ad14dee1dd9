package api

import (
	"encoding/hex"
	"regexp"
	"time"

	"github.com/cpam-caddy/cpam/store"
	"github.com/cpam-caddy/cpam/usage"
)

// tokensJSON is usage.Tokens with the totals.
type tokensJSON struct {
	Uncached     int64  `json:"uncached"`
	CacheRead    int64  `json:"cacheRead"`
	CacheWrite   int64  `json:"cacheWrite"`
	Output       int64  `json:"output"`
	Reasoning    int64  `json:"reasoning"`
	Unclassified int64  `json:"unclassified"`
	Input        int64  `json:"input"`
	OutputTotal  int64  `json:"outputTotal"`
	Total        int64  `json:"total"`
	Quality      string `json:"quality,omitempty"`
}

func tokensView(t usage.Tokens) tokensJSON {
	return tokensJSON{Uncached: t.Uncached, CacheRead: t.CacheRead, CacheWrite: t.CacheWrite, Output: t.Output,
		Reasoning: t.Reasoning, Unclassified: t.Unclassified, Input: t.Input(), OutputTotal: t.OutputTotal(),
		Total: t.Total(), Quality: t.Quality}
}

// summaryJSON is store.Summary as the API answers it.
type summaryJSON struct {
	Attempts  int64 `json:"attempts"`
	Failed    int64 `json:"failed"`
	Succeeded int64 `json:"succeeded"`
	// FailureRate is Failed/Attempts, 0 without attempts.
	FailureRate  float64    `json:"failureRate"`
	Tokens       tokensJSON `json:"tokens"`
	CostMicroUSD int64      `json:"costMicroUsd"`
	CostUSD      float64    `json:"costUsd"`
	Unpriced     int64      `json:"unpriced"`
	LatencyAvgMS float64    `json:"latencyAvgMs"`
	LatencyP50MS float64    `json:"latencyP50Ms"`
	LatencyP95MS float64    `json:"latencyP95Ms"`
	LatencyP99MS float64    `json:"latencyP99Ms"`
	TTFTCount    int64      `json:"ttftCount"`
	TTFTAvgMS    float64    `json:"ttftAvgMs"`
	TTFTP50MS    float64    `json:"ttftP50Ms"`
	TTFTP95MS    float64    `json:"ttftP95Ms"`
	TTFTP99MS    float64    `json:"ttftP99Ms"`
}

func summaryView(s store.Summary) summaryJSON {
	v := summaryJSON{
		Attempts: s.Attempts, Failed: s.Failed, Succeeded: s.Attempts - s.Failed, Tokens: tokensView(s.Tokens),
		CostMicroUSD: s.CostMicroUSD, CostUSD: float64(s.CostMicroUSD) / 1e6, Unpriced: s.Unpriced,
		LatencyAvgMS: s.LatencyAvgMS, LatencyP50MS: s.LatencyP50, LatencyP95MS: s.LatencyP95, LatencyP99MS: s.LatencyP99,
		TTFTCount: s.TTFTCount, TTFTAvgMS: s.TTFTAvgMS, TTFTP50MS: s.TTFTP50, TTFTP95MS: s.TTFTP95, TTFTP99MS: s.TTFTP99,
	}
	if s.Attempts > 0 {
		v.FailureRate = float64(s.Failed) / float64(s.Attempts)
	}
	return v
}

// periodJSON echoes the period and zone a response covers.
type periodJSON struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	TZ   string    `json:"tz"`
}

func (q *query) period() periodJSON { return periodJSON{From: q.from, To: q.to, TZ: q.tzName} }

// secretJSON is a hashed secret: never the value.
type secretJSON struct {
	Hash string `json:"hash"`
	Mask string `json:"mask"`
}

// sourceJSON is usage.Source with the email masked unless revealed.
type sourceJSON struct {
	Kind  string      `json:"kind"`
	Key   *secretJSON `json:"key,omitempty"`
	Value string      `json:"value,omitempty"`
}

// accountJSON is usage.Account with the email masked unless revealed.
type accountJSON struct {
	Label     string `json:"label,omitempty"`
	Email     string `json:"email,omitempty"`
	Provider  string `json:"provider,omitempty"`
	ProjectID string `json:"projectId,omitempty"`
	FileName  string `json:"fileName,omitempty"`
}

// eventJSON is one stored attempt.
type eventJSON struct {
	ID                  int64             `json:"id"`
	Hash                string            `json:"hash"`
	Time                time.Time         `json:"time"`
	Upstream            string            `json:"upstream"`
	RequestID           string            `json:"requestId"`
	AuthIndex           string            `json:"authIndex"`
	AuthType            string            `json:"authType"`
	Provider            string            `json:"provider"`
	ExecutorType        string            `json:"executorType"`
	Model               string            `json:"model"`
	Alias               string            `json:"alias"`
	Endpoint            string            `json:"endpoint"`
	APIKey              *secretJSON       `json:"apiKey"`
	Source              *sourceJSON       `json:"source"`
	Account             *accountJSON      `json:"account"`
	ClientIP            string            `json:"clientIp"`
	XForwardedFor       string            `json:"xForwardedFor,omitempty"`
	UserAgent           string            `json:"userAgent"`
	Failed              bool              `json:"failed"`
	StatusCode          int               `json:"statusCode"`
	FailBody            string            `json:"failBody,omitempty"`
	LatencyMS           int64             `json:"latencyMs"`
	TTFTMS              int64             `json:"ttftMs"`
	Generate            bool              `json:"generate"`
	ReasoningEffort     string            `json:"reasoningEffort,omitempty"`
	ServiceTier         string            `json:"serviceTier,omitempty"`
	ResponseServiceTier string            `json:"responseServiceTier,omitempty"`
	AccessTokenSHA256   string            `json:"accessTokenSha256,omitempty"`
	Tokens              tokensJSON        `json:"tokens"`
	Headers             map[string]string `json:"headers,omitempty"`
	CostMicroUSD        int64             `json:"costMicroUsd"`
	CostUSD             float64           `json:"costUsd"`
	Priced              bool              `json:"priced"`
}

// eventView renders e in loc; emails are masked unless reveal.
func eventView(e *store.StoredEvent, loc *time.Location, reveal bool) eventJSON {
	email, text := usage.MaskEmail, maskEmailsIn
	if reveal {
		email = func(s string) string { return s }
		text = email
	}
	v := eventJSON{
		ID: e.ID, Hash: hex.EncodeToString(e.Hash[:]), Time: e.Time.In(loc), Upstream: e.Upstream, RequestID: e.RequestID,
		AuthIndex: e.AuthIndex, AuthType: e.AuthType, Provider: e.Provider, ExecutorType: e.ExecutorType,
		Model: e.Model, Alias: e.Alias, Endpoint: e.Endpoint, ClientIP: e.ClientIP, XForwardedFor: e.XForwardedFor,
		UserAgent: e.UserAgent, Failed: e.Failed, StatusCode: e.StatusCode, FailBody: e.FailBody,
		LatencyMS: e.LatencyMS, TTFTMS: e.TTFTMS, Generate: e.Generate, ReasoningEffort: e.ReasoningEffort,
		ServiceTier: e.ServiceTier, ResponseServiceTier: e.ResponseServiceTier, AccessTokenSHA256: e.AccessTokenSHA256,
		Tokens: tokensView(e.Tokens), Headers: e.Headers, CostMicroUSD: e.Cost.MicroUSD,
		CostUSD: float64(e.Cost.MicroUSD) / 1e6, Priced: e.Cost.Priced,
	}
	if !e.APIKey.IsZero() {
		v.APIKey = &secretJSON{Hash: e.APIKey.Hash, Mask: e.APIKey.Mask}
	}
	if src := e.Source; src.Kind != "" || !src.Key.IsZero() || src.Value != "" {
		s := &sourceJSON{Kind: src.Kind, Value: src.Value}
		if !src.Key.IsZero() {
			s.Key = &secretJSON{Hash: src.Key.Hash, Mask: src.Key.Mask}
		}
		if src.Kind == usage.SourceEmail {
			s.Value = email(src.Value)
		} else {
			s.Value = text(src.Value)
		}
		v.Source = s
	}
	if a := e.Account; a != (usage.Account{}) {
		v.Account = &accountJSON{Label: text(a.Label), Email: email(a.Email), Provider: a.Provider, ProjectID: a.ProjectID,
			FileName: text(a.FileName)}
	}
	return v
}

// eventsView renders evs; the result is never nil.
func eventsView(evs []store.StoredEvent, loc *time.Location, reveal bool) []eventJSON {
	out := make([]eventJSON, len(evs))
	for i := range evs {
		out[i] = eventView(&evs[i], loc, reveal)
	}
	return out
}

// emailPattern finds email addresses inside other text (auth file names
// and labels often carry the account email).
var emailPattern = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)

// maskEmailsIn masks every email address in s with usage.MaskEmail.
func maskEmailsIn(s string) string {
	if s == "" {
		return s
	}
	return emailPattern.ReplaceAllStringFunc(s, usage.MaskEmail)
}
