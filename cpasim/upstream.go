package cpasim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cpam-caddy/cpam/cpasim/mgmt"
)

// Upstream behaviours of the reference mock upstream.
const (
	// ModelMockFail always answers 429.
	ModelMockFail = "mock-fail"
	// SourceBad is an upstream key the mock rejects with 401.
	SourceBad = "sk-mock-bad"
	// SourceBusy is an upstream key the mock answers with 503.
	SourceBusy = "sk-mock-busy"
)

// Upstream error bodies.
const (
	bodyRateLimited  = `{"error":{"message":"mock rate limit","type":"rate_limit_error","code":"rate_limited"}}`
	bodyUnauthorized = `{"error":{"message":"invalid upstream api key","type":"authentication_error","code":"invalid_api_key"}}`
	bodyBusy         = `{"error":{"message":"mock upstream busy","type":"server_error","code":"overloaded"}}`
)

// upstream is the simulated upstream provider shared by every credential.
type upstream struct {
	mu      sync.Mutex
	seq     int
	backoff map[string]int // auth_index|model -> quota backoff level
}

func (u *upstream) init() { u.backoff = make(map[string]int) }

func (u *upstream) reset() {
	u.mu.Lock()
	defer u.mu.Unlock()
	clear(u.backoff)
}

func (u *upstream) next() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.seq++
	return u.seq
}

// noteResult updates the quota backoff of a credential and model and
// returns the new level.
func (u *upstream) noteResult(authIndex, model string, quotaHit bool) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	k := authIndex + "|" + model
	if !quotaHit {
		delete(u.backoff, k)
		return 0
	}
	u.backoff[k]++
	return u.backoff[k]
}

// attempt is the outcome of one simulated upstream call.
type attempt struct {
	model   string // upstream model
	start   time.Time
	status  int
	body    string // upstream error text for failures
	headers map[string][]string
	usage   Usage
	ttft    time.Duration
}

func (a *attempt) failed() bool { return a.status >= 400 }

// usageFor is the usage the mock upstream reports for a prompt of
// contentLen characters: DefaultUsage for a short prompt such as "hi",
// growing slowly with longer prompts.
func usageFor(contentLen int) Usage {
	prompt := int64(11 + (contentLen+3)/4)
	completion := int64(7 + contentLen/16)
	cached := min(int64(4), prompt)
	return Usage{
		PromptTokens:     prompt,
		CachedTokens:     cached,
		CompletionTokens: completion,
		ReasoningTokens:  2,
		TotalTokens:      prompt + completion,
	}
}

// callUpstream simulates one upstream attempt with cred.
func (s *Server) callUpstream(ctx context.Context, cred mgmt.Credential, model string, contentLen int, stream bool) attempt {
	a := attempt{model: model, start: s.opts.Now()}
	if d := s.faults.getLatency(); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			a.status = http.StatusInternalServerError
			a.body = ctx.Err().Error()
			return a
		}
	}
	seq := s.up.next()
	a.status = http.StatusOK
	if forced := s.faults.takeForced(); forced != 0 {
		a.status = forced
	}
	switch {
	case a.status != http.StatusOK:
	case model == ModelMockFail:
		a.status = http.StatusTooManyRequests
	case cred.Source == SourceBad:
		a.status = http.StatusUnauthorized
	case cred.Source == SourceBusy:
		a.status = http.StatusServiceUnavailable
	}
	a.headers = map[string][]string{
		"Date":                           {s.opts.Now().UTC().Format(http.TimeFormat)},
		"X-Ratelimit-Remaining-Requests": {strconv.Itoa(99 - (seq-1)%100)},
		"X-Request-Id":                   {"mock-req-" + strconv.Itoa(seq)},
	}
	if cred.Provider == "codex" {
		for k, v := range codexQuotaHeaders(mgmt.CodexQuotaOf(cred)) {
			a.headers[k] = []string{v}
		}
	}
	if a.status != http.StatusOK {
		a.body = errorBodyFor(a.status)
		a.headers["Content-Type"] = []string{"application/json"}
		a.headers["Content-Length"] = []string{strconv.Itoa(len(a.body))}
		a.ttft = s.opts.Now().Sub(a.start)
		return a
	}
	a.usage = usageFor(contentLen)
	if stream {
		a.headers["Content-Type"] = []string{"text/event-stream"}
	} else {
		a.headers["Content-Type"] = []string{"application/json"}
		a.headers["Content-Length"] = []string{strconv.Itoa(len(upstreamChatBody(model, a.usage)))}
		a.ttft = s.opts.Now().Sub(a.start)
	}
	return a
}

// codexQuotaHeaders are the quota headers the ChatGPT backend sends with
// a Codex answer, from the account's simulated windows (the ones its
// wham/usage reports); none for an account without windows.
func codexQuotaHeaders(q mgmt.CodexQuota) map[string]string {
	if q.Status != http.StatusOK {
		return nil
	}
	out := make(map[string]string, 6)
	for _, w := range []struct {
		name string
		win  mgmt.CodexWindow
	}{{"Primary", q.Primary}, {"Secondary", q.Secondary}} {
		out["X-Codex-"+w.name+"-Used-Percent"] = strconv.Itoa(w.win.UsedPercent)
		out["X-Codex-"+w.name+"-Window-Minutes"] = strconv.FormatInt(w.win.WindowSeconds/60, 10)
		out["X-Codex-"+w.name+"-Reset-After-Seconds"] = strconv.FormatInt(int64(w.win.ResetAfter/time.Second), 10)
	}
	return out
}

// errorBodyFor returns the upstream error text for a failure status.
func errorBodyFor(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return bodyRateLimited
	case http.StatusUnauthorized:
		return bodyUnauthorized
	case http.StatusServiceUnavailable:
		return bodyBusy
	}
	text := http.StatusText(status)
	if text == "" {
		text = "upstream error"
	}
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"message": "mock " + strings.ToLower(text), "type": "server_error", "code": strconv.Itoa(status),
	}})
	return string(b)
}

// upstreamChatBody is the OpenAI chat completion the mock upstream sends;
// its length is the Content-Length recorded in response_headers.
func upstreamChatBody(model string, u Usage) []byte {
	b, _ := json.Marshal(chatCompletion("chatcmpl-mock", model, 0, u))
	return b
}

// authID renders CPA's auth id of a credential, e.g.
// openai-compatibility:mock:2303260f1889.
func authID(c mgmt.Credential) string {
	sum := sha256.Sum256([]byte(c.Source + "|" + c.AuthIndex))
	short := hex.EncodeToString(sum[:6])
	if name, ok := strings.CutPrefix(c.Provider, "openai-compatible-"); ok {
		return "openai-compatibility:" + name + ":" + short
	}
	if c.AuthType == "oauth" && c.Label != "" {
		return c.Label
	}
	return c.Provider + ":" + short
}

// ErrorEvent is a message of the errors channel: a failed credential
// execution. It carries no request_id.
type ErrorEvent struct {
	Timestamp  time.Time  `json:"timestamp"`
	Provider   string     `json:"provider"`
	Model      string     `json:"model"`
	AuthID     string     `json:"auth_id"`
	AuthIndex  string     `json:"auth_index"`
	StatusCode int        `json:"status_code"`
	Body       string     `json:"body"`
	Code       string     `json:"code,omitempty"`
	Retryable  *bool      `json:"retryable,omitempty"`
	AuthStatus AuthStatus `json:"auth_status"`
}

// AuthStatus is the credential state attached to an ErrorEvent.
type AuthStatus struct {
	Status         string      `json:"status"`
	StatusMessage  string      `json:"status_message"`
	Disabled       bool        `json:"disabled"`
	Unavailable    bool        `json:"unavailable"`
	NextRetryAfter *time.Time  `json:"next_retry_after,omitempty"`
	Quota          *QuotaState `json:"quota,omitempty"`
	Model          *ModelState `json:"model,omitempty"`
}

// QuotaState describes a quota cooldown.
type QuotaState struct {
	Exceeded      bool      `json:"exceeded"`
	Reason        string    `json:"reason"`
	NextRecoverAt time.Time `json:"next_recover_at"`
	BackoffLevel  int       `json:"backoff_level"`
}

// ModelState is the per-model state of a credential.
type ModelState struct {
	Name           string      `json:"name"`
	Status         string      `json:"status"`
	StatusMessage  string      `json:"status_message"`
	Unavailable    bool        `json:"unavailable"`
	NextRetryAfter *time.Time  `json:"next_retry_after,omitempty"`
	Quota          *QuotaState `json:"quota,omitempty"`
}

// errorEvent builds the errors-channel event for a failed attempt.
func (s *Server) errorEvent(c mgmt.Credential, model string, a *attempt) ErrorEvent {
	now := s.opts.Now()
	ev := ErrorEvent{
		Timestamp:  now.Local(),
		Provider:   c.Provider,
		Model:      model,
		AuthID:     authID(c),
		AuthIndex:  c.AuthIndex,
		StatusCode: a.status,
		Body:       a.body,
	}
	var parsed struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal([]byte(a.body), &parsed) == nil {
		ev.Code = parsed.Error.Code
	}
	retryable := a.status == http.StatusTooManyRequests || a.status >= 500
	ev.Retryable = &retryable
	switch {
	case a.status == http.StatusTooManyRequests:
		level := s.up.noteResult(c.AuthIndex, model, true)
		cooldown := min(time.Second<<min(level-1, 11), 30*time.Minute)
		next := now.Add(cooldown).Local()
		q := &QuotaState{Exceeded: true, Reason: "quota", NextRecoverAt: next, BackoffLevel: level}
		ev.AuthStatus = AuthStatus{
			Status: "active",
			Quota:  q,
			Model: &ModelState{
				Name: model, Status: "error", StatusMessage: "quota exhausted",
				Unavailable: true, NextRetryAfter: &next, Quota: q,
			},
		}
	case a.status == http.StatusUnauthorized || a.status == http.StatusForbidden:
		next := now.Add(30 * time.Minute).Local()
		ev.AuthStatus = AuthStatus{
			Status: "error", StatusMessage: "unauthorized", Unavailable: true, NextRetryAfter: &next,
			Model: &ModelState{
				Name: model, Status: "error", StatusMessage: "unauthorized",
				Unavailable: true, NextRetryAfter: &next,
			},
		}
	default:
		next := now.Add(time.Minute).Local()
		ev.AuthStatus = AuthStatus{
			Status: "active",
			Model: &ModelState{
				Name: model, Status: "error", StatusMessage: "transient upstream error",
				Unavailable: true, NextRetryAfter: &next,
			},
		}
	}
	return ev
}
