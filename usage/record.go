package usage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// MaxPayloadSize is the largest usage payload Parse accepts (1 MiB). A real
// CPA record is about 1–2 KiB; anything this large is not a usage record.
const MaxPayloadSize = 1 << 20

// Errors reported by Parse, Normalize and ParseCredentialError. They are
// wrapped with context; test them with errors.Is.
var (
	// ErrEmpty reports an empty (or whitespace-only) payload.
	ErrEmpty = errors.New("empty payload")
	// ErrTooLarge reports a payload above MaxPayloadSize.
	ErrTooLarge = errors.New("payload too large")
	// ErrNotObject reports a payload that is neither a JSON object nor a
	// JSON string holding one.
	ErrNotObject = errors.New("payload is not a JSON object")
	// ErrControl reports a control message ({"refresh":true}, ...) given
	// where a record was expected; use IsControl first.
	ErrControl = errors.New("payload is a control message, not a record")
	// ErrTimestamp reports a missing or unparsable timestamp.
	ErrTimestamp = errors.New("missing or invalid timestamp")
)

// Record is one CPA usage record as CPA publishes it (v6.10 to v7.2), field
// for field. Parsing is tolerant: unknown fields are ignored and fields an
// older CPA did not send are left at their zero value (Generate and
// TokenBreakdown are pointers so that absence can be told apart).
type Record struct {
	// Timestamp is the raw RFC 3339 timestamp; Time is its parsed value.
	Timestamp         string              `json:"timestamp"`
	Time              time.Time           `json:"-"`
	LatencyMS         int64               `json:"latency_ms"`
	TTFTMS            int64               `json:"ttft_ms"`
	Source            string              `json:"source"`
	AuthIndex         string              `json:"auth_index"`
	AccessTokenSHA256 string              `json:"access_token_sha256"`
	ClientIP          string              `json:"client_ip"`
	XForwardedFor     string              `json:"x_forwarded_for"`
	UserAgent         string              `json:"user_agent"`
	Tokens            LegacyTokens        `json:"tokens"`
	Failed            bool                `json:"failed"`
	Generate          *bool               `json:"generate"`
	Fail              Fail                `json:"fail"`
	ResponseHeaders   map[string][]string `json:"response_headers"`
	AccountingVersion int                 `json:"accounting_version"`
	TokenBreakdown    *TokenBreakdown     `json:"token_breakdown"`
	Provider          string              `json:"provider"`
	ExecutorType      string              `json:"executor_type"`
	Model             string              `json:"model"`
	Alias             string              `json:"alias"`
	Endpoint          string              `json:"endpoint"`
	AuthType          string              `json:"auth_type"`
	APIKey            string              `json:"api_key"`
	RequestID         string              `json:"request_id"`
	ReasoningEffort   string              `json:"reasoning_effort"`
	ServiceTier       string              `json:"service_tier"`
	// ResponseServiceTier is the tier the upstream reports it used.
	ResponseServiceTier string `json:"response_service_tier"`
}

// LegacyTokens are the flat, possibly overlapping counters of a record's
// "tokens" object (§5.2).
type LegacyTokens struct {
	InputTokens            int64 `json:"input_tokens"`
	OutputTokens           int64 `json:"output_tokens"`
	ReasoningTokens        int64 `json:"reasoning_tokens"`
	CachedTokens           int64 `json:"cached_tokens"`
	CacheReadTokens        int64 `json:"cache_read_tokens"`
	CacheReadTokensPresent bool  `json:"cache_read_tokens_present"`
	CacheCreationTokens    int64 `json:"cache_creation_tokens"`
	TotalTokens            int64 `json:"total_tokens"`
}

// Fail is the attempt status: {200, ""} on success, the upstream status and
// error text on failure (since v7.0.0).
type Fail struct {
	StatusCode int    `json:"status_code"`
	Body       string `json:"body"`
}

// TokenBreakdown is CPA's canonical token accounting (schema 2, v7.2.97).
type TokenBreakdown struct {
	SchemaVersion      int             `json:"schema_version"`
	Quality            string          `json:"quality"`
	TotalTokens        int64           `json:"total_tokens"`
	Input              InputBreakdown  `json:"input"`
	Output             OutputBreakdown `json:"output"`
	UnclassifiedTokens int64           `json:"unclassified_tokens"`
}

// InputBreakdown splits input tokens into uncached, cache-read and
// cache-write buckets.
type InputBreakdown struct {
	TotalTokens      int64 `json:"total_tokens"`
	UncachedTokens   int64 `json:"uncached_tokens"`
	CacheReadTokens  int64 `json:"cache_read_tokens"`
	CacheWriteTokens int64 `json:"cache_write_tokens"`
}

// OutputBreakdown splits output tokens into non-reasoning and reasoning
// buckets.
type OutputBreakdown struct {
	TotalTokens        int64 `json:"total_tokens"`
	NonReasoningTokens int64 `json:"non_reasoning_tokens"`
	ReasoningTokens    int64 `json:"reasoning_tokens"`
}

// objectBytes checks the payload envelope and returns the bytes of the JSON
// object: the payload itself, or the content of a JSON string holding an
// object (CPA-Manager-Plus style string-encoded records).
func objectBytes(payload []byte) ([]byte, error) {
	if len(payload) > MaxPayloadSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(payload), MaxPayloadSize)
	}
	p := bytes.TrimSpace(payload)
	if len(p) == 0 {
		return nil, ErrEmpty
	}
	switch p[0] {
	case '{':
		return p, nil
	case '"':
		var s string
		if err := json.Unmarshal(p, &s); err != nil {
			return nil, fmt.Errorf("%w: bad JSON string: %v", ErrNotObject, err)
		}
		inner := bytes.TrimSpace([]byte(s))
		if len(inner) == 0 {
			return nil, fmt.Errorf("%w: empty JSON string", ErrEmpty)
		}
		if inner[0] != '{' {
			return nil, fmt.Errorf("%w: JSON string does not hold an object", ErrNotObject)
		}
		return inner, nil
	}
	return nil, ErrNotObject
}

// Parse decodes one usage record. It accepts a JSON object or a JSON string
// whose content is an object, and rejects empty payloads, payloads above
// MaxPayloadSize, non-objects, control messages (ErrControl) and records
// without a valid timestamp (ErrTimestamp).
//
// The timestamp must be RFC 3339 (fractional seconds optional, any offset).
// CPA falls back to the publish time, so every genuine record has one; a
// record without it cannot be placed in time or deduplicated reliably, and
// is meant for the dead-letter table.
func Parse(payload []byte) (Record, error) {
	var r Record
	obj, err := objectBytes(payload)
	if err != nil {
		return r, fmt.Errorf("usage: parse record: %w", err)
	}
	if kind, ok := controlKind(obj); ok {
		return r, fmt.Errorf("usage: parse record: %w (%s)", ErrControl, kind)
	}
	if !decodeRecord(obj, &r) {
		r = Record{}
		if err := json.Unmarshal(obj, &r); err != nil {
			return r, fmt.Errorf("usage: parse record: %w", err)
		}
	}
	t, err := parseTime(r.Timestamp)
	if err != nil {
		return r, fmt.Errorf("usage: parse record: %w", err)
	}
	r.Time = t
	return r, nil
}

// parseTime parses an RFC 3339 timestamp with optional fractional seconds.
// The zero time (what Go marshals for an unset time) counts as missing.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("%w: timestamp is missing", ErrTimestamp)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %q: %v", ErrTimestamp, truncate(s, 64), err)
	}
	if t.IsZero() {
		return time.Time{}, fmt.Errorf("%w: zero timestamp", ErrTimestamp)
	}
	return t, nil
}

// IsControl recognises CPA's subscription control messages (§7.4): a JSON
// object with exactly one key whose value is true, such as
// {"support_refresh":true} or {"refresh":true}. It returns that key.
// A JSON string holding such an object is recognised too.
func IsControl(payload []byte) (kind string, ok bool) {
	if len(payload) > 4096 {
		return "", false
	}
	obj, err := objectBytes(payload)
	if err != nil {
		return "", false
	}
	return controlKind(obj)
}

// controlKind implements IsControl on the bytes of a JSON object.
func controlKind(obj []byte) (string, bool) {
	// A control message is tiny; a record never is.
	if len(obj) > 256 || !bytes.Contains(obj, []byte("true")) {
		return "", false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(obj, &m) != nil || len(m) != 1 {
		return "", false
	}
	for k, v := range m {
		if string(bytes.TrimSpace(v)) == "true" && k != "" {
			return k, true
		}
	}
	return "", false
}
