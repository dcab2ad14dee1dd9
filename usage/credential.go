package usage

import (
	"encoding/json"
	"fmt"
	"time"
)

// CredentialError is one message of CPA's errors channel (§6, since
// v7.1.44): a failed credential execution and the credential's state after
// it. It carries no request id. The collector keeps the latest one per
// auth_index as the credential's health.
type CredentialError struct {
	// Time is the message timestamp, in UTC.
	Time       time.Time
	Provider   string
	Model      string
	AuthID     string // e.g. "openai-compatibility:mock:2303260f1889"
	AuthIndex  string
	StatusCode int
	// Body is the upstream error text, redacted and truncated like
	// Event.FailBody.
	Body string
	// Code is the upstream error code, "" when absent.
	Code string
	// Retryable is nil when CPA did not say.
	Retryable  *bool
	AuthStatus AuthStatus
}

// AuthStatus is a credential's state as CPA reports it on the errors
// channel.
type AuthStatus struct {
	// Status is "unknown", "active", "pending", "refreshing", "error" or
	// "disabled".
	Status string
	// StatusMessage is redacted and bounded.
	StatusMessage string
	Disabled      bool
	Unavailable   bool
	// NextRetryAfter is zero when absent.
	NextRetryAfter time.Time
	// Quota is nil when CPA sent no quota state.
	Quota *QuotaState
	// Model is the per-model state, nil when absent.
	Model *ModelState
}

// QuotaState describes a quota cooldown.
type QuotaState struct {
	Exceeded bool
	Reason   string
	// NextRecoverAt is zero when absent.
	NextRecoverAt time.Time
	BackoffLevel  int
}

// ModelState is the state of one model of a credential.
type ModelState struct {
	Name           string
	Status         string
	StatusMessage  string
	Unavailable    bool
	NextRetryAfter time.Time
	Quota          *QuotaState
}

// wire forms; times are decoded leniently (empty, null or invalid → zero).
type (
	wireCredentialError struct {
		Timestamp  string         `json:"timestamp"`
		Provider   string         `json:"provider"`
		Model      string         `json:"model"`
		AuthID     string         `json:"auth_id"`
		AuthIndex  string         `json:"auth_index"`
		StatusCode int            `json:"status_code"`
		Body       string         `json:"body"`
		Code       string         `json:"code"`
		Retryable  *bool          `json:"retryable"`
		AuthStatus wireAuthStatus `json:"auth_status"`
	}
	wireAuthStatus struct {
		Status         string          `json:"status"`
		StatusMessage  string          `json:"status_message"`
		Disabled       bool            `json:"disabled"`
		Unavailable    bool            `json:"unavailable"`
		NextRetryAfter lenientTime     `json:"next_retry_after"`
		Quota          *wireQuotaState `json:"quota"`
		Model          *wireModelState `json:"model"`
	}
	wireQuotaState struct {
		Exceeded      bool        `json:"exceeded"`
		Reason        string      `json:"reason"`
		NextRecoverAt lenientTime `json:"next_recover_at"`
		BackoffLevel  int         `json:"backoff_level"`
	}
	wireModelState struct {
		Name           string          `json:"name"`
		Status         string          `json:"status"`
		StatusMessage  string          `json:"status_message"`
		Unavailable    bool            `json:"unavailable"`
		NextRetryAfter lenientTime     `json:"next_retry_after"`
		Quota          *wireQuotaState `json:"quota"`
	}
)

// lenientTime decodes an optional RFC 3339 time; anything else is zero.
type lenientTime struct{ t time.Time }

// UnmarshalJSON implements json.Unmarshaler; it never fails.
func (l *lenientTime) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) != nil || s == "" {
		return nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil && !t.IsZero() {
		l.t = t.UTC()
	}
	return nil
}

// ParseCredentialError decodes one errors-channel message. The envelope
// rules are those of Parse (object or JSON string holding one, size cap,
// control messages rejected with ErrControl) and the timestamp is
// required. The body and status messages are redacted (RedactText) and
// bounded; strings are bounded.
func ParseCredentialError(payload []byte) (CredentialError, error) {
	var ce CredentialError
	obj, err := objectBytes(payload)
	if err != nil {
		return ce, fmt.Errorf("usage: parse credential error: %w", err)
	}
	if kind, ok := controlKind(obj); ok {
		return ce, fmt.Errorf("usage: parse credential error: %w (%s)", ErrControl, kind)
	}
	var w wireCredentialError
	if err := json.Unmarshal(obj, &w); err != nil {
		return ce, fmt.Errorf("usage: parse credential error: %w", err)
	}
	t, err := parseTime(w.Timestamp)
	if err != nil {
		return ce, fmt.Errorf("usage: parse credential error: %w", err)
	}
	ce = CredentialError{
		Time:       t.UTC(),
		Provider:   truncate(w.Provider, maxField),
		Model:      truncate(w.Model, maxField),
		AuthID:     truncate(w.AuthID, maxField),
		AuthIndex:  truncate(w.AuthIndex, maxField),
		StatusCode: w.StatusCode,
		Body:       RedactFailBody(w.Body),
		Code:       truncate(RedactText(truncate(w.Code, maxField)), maxField),
		Retryable:  w.Retryable,
		AuthStatus: AuthStatus{
			Status:         truncate(w.AuthStatus.Status, maxField),
			StatusMessage:  redactBounded(w.AuthStatus.StatusMessage, maxLongField, false),
			Disabled:       w.AuthStatus.Disabled,
			Unavailable:    w.AuthStatus.Unavailable,
			NextRetryAfter: w.AuthStatus.NextRetryAfter.t,
			Quota:          w.AuthStatus.Quota.convert(),
		},
	}
	if m := w.AuthStatus.Model; m != nil {
		ce.AuthStatus.Model = &ModelState{
			Name:           truncate(m.Name, maxField),
			Status:         truncate(m.Status, maxField),
			StatusMessage:  redactBounded(m.StatusMessage, maxLongField, false),
			Unavailable:    m.Unavailable,
			NextRetryAfter: m.NextRetryAfter.t,
			Quota:          m.Quota.convert(),
		}
	}
	return ce, nil
}

func (q *wireQuotaState) convert() *QuotaState {
	if q == nil {
		return nil
	}
	return &QuotaState{
		Exceeded:      q.Exceeded,
		Reason:        truncate(q.Reason, maxField),
		NextRecoverAt: q.NextRecoverAt.t,
		BackoffLevel:  q.BackoffLevel,
	}
}
