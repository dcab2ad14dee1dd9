package usage

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
	"sync/atomic"
)

// MinSecretLen is the shortest HMAC secret NewNormalizer accepts.
const MinSecretLen = 16

// Length bounds applied to the free-text fields of an event.
const (
	maxField     = 256  // ids, names, tiers
	maxLongField = 1024 // user agent, x-forwarded-for
)

// Attributor resolves a credential (CPA upstream + auth_index) to what the
// management API says about it. Implementations must be safe for
// concurrent use.
type Attributor interface {
	Lookup(upstream, authIndex string) (Account, bool)
}

// Normalizer turns usage payloads into events. It is safe for concurrent
// use; the price book can be swapped at run time with SetPrices.
type Normalizer struct {
	secret []byte
	attr   Attributor
	prices atomic.Pointer[PriceBook]
	macs   sync.Pool
}

// NewNormalizer returns a Normalizer that hashes secrets with HMAC-SHA256
// under secret (the per-database key, at least MinSecretLen bytes),
// attributes events through attr (may be nil) and prices them from prices
// (may be nil: every event is then unpriced).
func NewNormalizer(secret []byte, attr Attributor, prices *PriceBook) (*Normalizer, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("usage: new normalizer: secret is %d bytes, need at least %d", len(secret), MinSecretLen)
	}
	n := &Normalizer{secret: append([]byte(nil), secret...), attr: attr}
	n.macs.New = func() any { return hmac.New(sha256.New, n.secret) }
	n.prices.Store(prices)
	return n, nil
}

// SetPrices replaces the price book used for events normalised from now on.
func (n *Normalizer) SetPrices(p *PriceBook) { n.prices.Store(p) }

// Prices returns the current price book (nil when none).
func (n *Normalizer) Prices() *PriceBook { return n.prices.Load() }

// Secret hashes and masks a secret value: Hash is the first 32 hex digits
// of HMAC-SHA256(secret, value), Mask is Mask(value). An empty value gives
// the zero Secret. Use it to find the events of a key a user typed in.
func (n *Normalizer) Secret(value string) Secret {
	if value == "" {
		return Secret{}
	}
	if len(n.secret) == 0 {
		panic(errNoSecret)
	}
	m := n.macs.Get().(hash.Hash)
	m.Reset()
	m.Write([]byte(value))
	var sum [sha256.Size]byte
	m.Sum(sum[:0])
	n.macs.Put(m)
	return Secret{Hash: hex.EncodeToString(sum[:16]), Mask: Mask(value)}
}

// Normalize parses one usage payload from the CPA instance named upstream
// and returns its event. Errors (see Parse) mean the payload belongs in the
// dead-letter table, after RedactPayload.
func (n *Normalizer) Normalize(upstream string, payload []byte) (Event, error) {
	r, err := Parse(payload)
	if err != nil {
		return Event{}, fmt.Errorf("usage: normalize: %w", err)
	}
	return n.NormalizeRecord(upstream, &r)
}

// NormalizeRecord builds the event of a parsed record (r.Time must be set,
// as Parse does).
func (n *Normalizer) NormalizeRecord(upstream string, r *Record) (Event, error) {
	if len(n.secret) == 0 {
		return Event{}, errNoSecret
	}
	if r.Time.IsZero() {
		return Event{}, fmt.Errorf("usage: normalize: %w", ErrTimestamp)
	}
	e := Event{
		Upstream:            truncate(upstream, maxField),
		Time:                r.Time.UTC(),
		RequestID:           truncate(r.RequestID, maxField),
		AuthIndex:           truncate(r.AuthIndex, maxField),
		AuthType:            truncate(r.AuthType, maxField),
		Provider:            truncate(r.Provider, maxField),
		ExecutorType:        truncate(r.ExecutorType, maxField),
		Model:               truncate(r.Model, maxField),
		Alias:               truncate(r.Alias, maxField),
		Endpoint:            truncate(r.Endpoint, maxField),
		APIKey:              n.Secret(r.APIKey),
		Source:              n.source(r),
		ClientIP:            truncate(r.ClientIP, maxField),
		XForwardedFor:       truncate(r.XForwardedFor, maxLongField),
		UserAgent:           truncate(r.UserAgent, maxLongField),
		Failed:              r.Failed,
		StatusCode:          r.Fail.StatusCode,
		FailBody:            RedactFailBody(r.Fail.Body),
		LatencyMS:           r.LatencyMS,
		TTFTMS:              r.TTFTMS,
		Generate:            r.Generate == nil || *r.Generate,
		ReasoningEffort:     truncate(r.ReasoningEffort, maxField),
		ServiceTier:         truncate(r.ServiceTier, maxField),
		ResponseServiceTier: truncate(r.ResponseServiceTier, maxField),
		AccessTokenSHA256:   truncate(r.AccessTokenSHA256, maxField),
		Tokens:              TokensOf(r),
		Headers:             FilterHeaders(r.ResponseHeaders),
	}
	if e.StatusCode == 0 && !e.Failed {
		e.StatusCode = 200 // records before v7.0.0 have no "fail" object
	}
	if n.attr != nil && e.AuthIndex != "" {
		if a, ok := n.attr.Lookup(e.Upstream, e.AuthIndex); ok {
			e.Account = a
		}
	}
	if book := n.prices.Load(); book != nil {
		e.Cost, _ = book.Cost(e.Model, e.Alias, e.Tokens)
	}
	e.Hash = EventHash(&e)
	return e, nil
}

// source classifies and protects a record's source field.
func (n *Normalizer) source(r *Record) Source {
	v := r.Source
	switch ClassifySource(v, r.AuthType, r.Provider, r.APIKey) {
	case "":
		return Source{}
	case SourceAPIKey:
		return Source{Kind: SourceAPIKey, Key: n.Secret(v)}
	case SourceEmail:
		return Source{Kind: SourceEmail, Value: truncate(v, maxField)}
	case SourceProject:
		return Source{Kind: SourceProject, Value: v}
	}
	return Source{Kind: SourceOther, Value: truncate(redactText(truncate(v, maxScan), true, false), maxField)}
}

// ClassifySource tells what a record's source holds, in this order:
//
//   - "" when empty;
//   - SourceAPIKey when it equals the client key (CPA's fallback), has a
//     provider key shape (see LooksLikeKey), or auth_type is "apikey"
//     (CPA then puts the upstream key there, whatever its shape) and the
//     value is not an email;
//   - SourceEmail for an email address (OAuth accounts);
//   - SourceProject for a GCP project id when the provider is vertex*;
//   - SourceAPIKey for any other opaque token-like value;
//   - SourceOther otherwise (its value is then kept, redacted).
func ClassifySource(v, authType, provider, apiKey string) string {
	switch {
	case v == "":
		return ""
	case v == apiKey:
		return SourceAPIKey
	case LooksLikeKey(v):
		return SourceAPIKey
	case isEmail(v):
		return SourceEmail
	case strings.EqualFold(authType, "apikey"):
		return SourceAPIKey
	case strings.HasPrefix(strings.ToLower(provider), "vertex") && isProjectID(v):
		return SourceProject
	case opaqueToken(v) && !strings.ContainsAny(v, " \t\r\n"):
		return SourceAPIKey
	}
	return SourceOther
}

// keyPrefixes are the leading characters of common provider credentials.
var keyPrefixes = []string{
	"sk-", "sk_", "rk-", "rk_", "pk-", "pk_", "AIza", "xai-", "ya29.", "gsk_", "ghp_", "gho_",
	"ghu_", "ghs_", "ghr_", "github_pat_", "hf_", "r8_", "pplx-", "glpat-", "AKIA", "eyJ",
	"Bearer ", "bearer ",
}

// LooksLikeKey reports whether v has the shape of a credential: a known
// provider key prefix (sk-, sk_, AIza, xai-, ya29., gsk_, ghp_, hf_, pplx-,
// AKIA, a JWT's eyJ, "Bearer ", ...) followed by at least 4 more
// characters, or an opaque token (20+ key characters mixing upper case,
// lower case and digits, or 32+ hex digits).
func LooksLikeKey(v string) bool {
	for _, p := range keyPrefixes {
		if len(v) >= len(p)+4 && strings.HasPrefix(v, p) {
			return true
		}
	}
	if len(v) < 20 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if !isKeyChar(v[i]) {
			return false
		}
	}
	return opaqueToken(v)
}

// isEmail is a plain shape check: one "@", a non-empty local part, a
// dotted domain, no spaces or quotes.
func isEmail(v string) bool {
	at := strings.IndexByte(v, '@')
	if at <= 0 || at != strings.LastIndexByte(v, '@') || len(v) > 320 {
		return false
	}
	domain := v[at+1:]
	dot := strings.LastIndexByte(domain, '.')
	if dot <= 0 || dot == len(domain)-1 {
		return false
	}
	return !strings.ContainsAny(v, " \t\r\n\"'<>,;:()[]\\")
}

// isProjectID matches a GCP project id: 6–30 characters of lower-case
// letters, digits and hyphens, starting with a letter, not ending with a
// hyphen.
func isProjectID(v string) bool {
	if len(v) < 6 || len(v) > 30 || v[0] < 'a' || v[0] > 'z' || v[len(v)-1] == '-' {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// EventHash is the idempotency key of an event: the first 16 bytes of a
// SHA-256 over a version tag and, length-prefixed, the upstream,
// request_id, timestamp (as Unix seconds and nanoseconds, so the offset
// and formatting do not matter), auth_index, model, endpoint, failed, the
// six token buckets and latency_ms.
func EventHash(e *Event) [16]byte {
	buf := make([]byte, 0, 256)
	buf = append(buf, "cpam-event-v1"...)
	for _, s := range [...]string{e.Upstream, e.RequestID} {
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	buf = binary.BigEndian.AppendUint64(buf, uint64(e.Time.Unix()))
	buf = binary.BigEndian.AppendUint32(buf, uint32(e.Time.Nanosecond()))
	for _, s := range [...]string{e.AuthIndex, e.Model, e.Endpoint} {
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	if e.Failed {
		buf = append(buf, 1)
	} else {
		buf = append(buf, 0)
	}
	t := e.Tokens
	for _, v := range [...]int64{t.Uncached, t.CacheRead, t.CacheWrite, t.Output, t.Reasoning, t.Unclassified, e.LatencyMS} {
		buf = binary.BigEndian.AppendUint64(buf, uint64(v))
	}
	sum := sha256.Sum256(buf)
	var h [16]byte
	copy(h[:], sum[:16])
	return h
}

// errNoSecret is returned when a zero Normalizer is used.
var errNoSecret = errors.New("usage: normalizer has no secret; use NewNormalizer")
