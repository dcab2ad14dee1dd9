// Package usage turns CPA usage records into events caddy-cpam can keep:
// it parses every record shape CPA has published (v6.10 to v7.2), derives
// the canonical token buckets, removes secrets (client and provider keys
// become a keyed hash plus a short mask; headers are reduced to an
// allowlist; failure bodies are truncated and redacted), attaches the
// credential attribution known at ingest, and freezes the cost from the
// price book. It knows nothing about Caddy, SQL or the network.
package usage

import "time"

// Event is one upstream attempt after normalisation: typed, free of
// secrets, attributed and costed. The store keeps it as it is.
type Event struct {
	// Hash identifies the record: the same record delivered twice (for
	// example by a subscription and by a queue pop) has the same Hash;
	// failover attempts sharing a request_id have different ones.
	Hash [16]byte
	// Upstream names the CPA instance the record came from.
	Upstream string
	// Time is when the attempt started, in UTC.
	Time time.Time
	// RequestID is CPA's 8-hex request id, shared by failover attempts.
	RequestID string
	// AuthIndex is CPA's credential id (16 hex).
	AuthIndex string
	// AuthType is "apikey", "oauth" or "unknown".
	AuthType string
	// Provider is CPA's executor id, e.g. "claude" or "openai-compatible-mock".
	Provider string
	// ExecutorType is the executor's type name, e.g. "ClaudeExecutor".
	ExecutorType string
	// Model is the upstream model actually called.
	Model string
	// Alias is the model name the client asked for.
	Alias string
	// Endpoint is "<METHOD> <route>", e.g. "POST /v1/chat/completions".
	Endpoint string
	// APIKey is the client's CPA API key, hashed and masked; zero when the
	// request needed no key.
	APIKey Secret
	// Source is who paid: a provider key (hashed), an account email, or a
	// project id.
	Source Source
	// ClientIP, XForwardedFor and UserAgent describe the downstream client.
	ClientIP      string
	XForwardedFor string
	UserAgent     string
	// Failed reports a failed attempt; StatusCode is the upstream status
	// (200 for a success) and FailBody the truncated, redacted error text.
	Failed     bool
	StatusCode int
	FailBody   string
	// LatencyMS runs from attempt start to publish; TTFTMS is the time to
	// the first upstream byte, 0 when CPA did not measure it.
	LatencyMS int64
	TTFTMS    int64
	// Generate is false only for requests the client marked as non-generating.
	Generate bool
	// ReasoningEffort, ServiceTier and ResponseServiceTier are as CPA reports them.
	ReasoningEffort     string
	ServiceTier         string
	ResponseServiceTier string
	// AccessTokenSHA256 is CPA's hash of the OAuth token used (not a secret).
	AccessTokenSHA256 string
	// Tokens holds the canonical, non-overlapping token buckets.
	Tokens Tokens
	// Headers holds the allowlisted upstream response headers (rate limits,
	// request ids, retry-after), one value each, keys in canonical form.
	Headers map[string]string
	// Account is the credential attribution known when the event was
	// ingested; it does not change when the credential is later renamed.
	Account Account
	// Cost is the price of the attempt, frozen at ingest.
	Cost Cost
}

// Secret is a value that must never be stored in clear: a keyed hash that
// identifies it and a short mask a person can recognise ("sk-c…st-1").
type Secret struct {
	// Hash is the hex HMAC-SHA256 of the value under the database's secret,
	// truncated to 16 bytes; empty when there was no value.
	Hash string
	// Mask shows the first and last few characters.
	Mask string
}

// IsZero reports whether the secret was absent.
func (s Secret) IsZero() bool { return s.Hash == "" }

// Source kinds.
const (
	SourceAPIKey  = "apikey"  // an upstream provider key (hashed)
	SourceEmail   = "email"   // an OAuth account email (kept for attribution)
	SourceProject = "project" // a Vertex project id
	SourceOther   = "other"   // anything else CPA put there
)

// Source is who paid for the attempt.
type Source struct {
	// Kind is one of the Source* constants, or "" when CPA sent nothing.
	Kind string
	// Key is set for SourceAPIKey.
	Key Secret
	// Value is the email (SourceEmail), project id (SourceProject) or a
	// redacted value (SourceOther). Emails are masked in API output unless an
	// admin asks for them.
	Value string
}

// Token accounting quality, as CPA's token_breakdown reports it, or
// "derived" when the buckets were computed from the legacy counters.
const (
	QualityComplete     = "complete"
	QualityUnclassified = "unclassified"
	QualityInconsistent = "inconsistent"
	QualityDerived      = "derived"
)

// Tokens are CPA's canonical token buckets (token_breakdown schema 2). They
// do not overlap: the input total is Uncached+CacheRead+CacheWrite, the
// output total Output+Reasoning, and the grand total adds Unclassified.
type Tokens struct {
	Uncached     int64
	CacheRead    int64
	CacheWrite   int64
	Output       int64 // output without reasoning
	Reasoning    int64
	Unclassified int64
	Quality      string
}

// Input is the total of the input buckets.
func (t Tokens) Input() int64 { return t.Uncached + t.CacheRead + t.CacheWrite }

// OutputTotal is the total of the output buckets.
func (t Tokens) OutputTotal() int64 { return t.Output + t.Reasoning }

// Total is every token of the attempt.
func (t Tokens) Total() int64 { return t.Input() + t.OutputTotal() + t.Unclassified }

// Account is what CPA's management API says about a credential, frozen onto
// events at ingest.
type Account struct {
	// Label is the human name CPA shows (auth file label, provider entry name).
	Label string
	// Email is the account email of an OAuth credential.
	Email string
	// Provider is the credential's provider or section.
	Provider string
	// ProjectID is the Gemini/Vertex/Antigravity project.
	ProjectID string
	// FileName is the auth file name, for OAuth credentials.
	FileName string
}

// Cost is the price of one attempt in millionths of a US dollar.
type Cost struct {
	MicroUSD int64
	// Priced is false when the price book had no price for the model; such
	// events are reported as unpriced, never as costing 0.
	Priced bool
}
