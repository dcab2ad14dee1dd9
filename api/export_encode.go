package api

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/cpam-caddy/cpam/store"
	"github.com/cpam-caddy/cpam/usage"
)

// exportEncoder writes export lines. Its fast path appends the bytes
// encoding/json would write for exportLine (SetEscapeHTML(false), then a
// newline) without reflection or allocations; for the rare event it cannot
// vouch for, it asks encoding/json itself. It is not safe for concurrent
// use.
type exportEncoder struct {
	// slow and enc are the encoding/json fallback, made on first use.
	slow bytes.Buffer
	enc  *json.Encoder
	// keys is scratch space for sorting header names.
	keys []string
}

// appendLine appends the export line of e, newline included, to dst. On
// error dst is returned unchanged with the error encoding/json reported.
func (x *exportEncoder) appendLine(dst []byte, e *store.StoredEvent) ([]byte, error) {
	if out, ok := x.appendFast(dst, e); ok {
		return out, nil
	}
	return x.appendSlow(dst, e)
}

// appendSlow appends the export line of e as encoding/json writes it.
func (x *exportEncoder) appendSlow(dst []byte, e *store.StoredEvent) ([]byte, error) {
	if x.enc == nil {
		x.enc = json.NewEncoder(&x.slow)
		x.enc.SetEscapeHTML(false)
	}
	x.slow.Reset()
	if err := x.enc.Encode(exportLine{Schema: exportSchema, eventJSON: eventView(e, time.UTC, true)}); err != nil {
		return dst, fmt.Errorf("encoding event %d: %w", e.ID, err)
	}
	return append(dst, x.slow.Bytes()...), nil
}

// appendFast appends the export line of e the way eventView (in UTC,
// emails revealed) and encoding/json would render it. It reports false,
// with dst unchanged, when it cannot produce those bytes: when the time
// has no RFC 3339 form (encoding/json fails on it).
func (x *exportEncoder) appendFast(dst []byte, e *store.StoredEvent) ([]byte, bool) {
	n0 := len(dst)
	dst = append(dst, `{"schema":`...)
	dst = appendJSONString(dst, exportSchema)
	dst = append(dst, `,"id":`...)
	dst = strconv.AppendInt(dst, e.ID, 10)
	dst = append(dst, `,"hash":"`...)
	dst = hex.AppendEncode(dst, e.Hash[:])
	dst = append(dst, `","time":"`...)
	withTime, err := e.Time.In(time.UTC).AppendText(dst)
	if err != nil {
		return dst[:n0], false
	}
	dst = withTime
	dst = append(dst, `","upstream":`...)
	dst = appendJSONString(dst, e.Upstream)
	dst = append(dst, `,"requestId":`...)
	dst = appendJSONString(dst, e.RequestID)
	dst = append(dst, `,"authIndex":`...)
	dst = appendJSONString(dst, e.AuthIndex)
	dst = append(dst, `,"authType":`...)
	dst = appendJSONString(dst, e.AuthType)
	dst = append(dst, `,"provider":`...)
	dst = appendJSONString(dst, e.Provider)
	dst = append(dst, `,"executorType":`...)
	dst = appendJSONString(dst, e.ExecutorType)
	dst = append(dst, `,"model":`...)
	dst = appendJSONString(dst, e.Model)
	dst = append(dst, `,"alias":`...)
	dst = appendJSONString(dst, e.Alias)
	dst = append(dst, `,"endpoint":`...)
	dst = appendJSONString(dst, e.Endpoint)
	dst = append(dst, `,"apiKey":`...)
	if e.APIKey.IsZero() {
		dst = append(dst, "null"...)
	} else {
		dst = appendSecret(dst, e.APIKey)
	}
	dst = append(dst, `,"source":`...)
	if src := e.Source; src.Kind != "" || !src.Key.IsZero() || src.Value != "" {
		dst = append(dst, `{"kind":`...)
		dst = appendJSONString(dst, src.Kind)
		if !src.Key.IsZero() {
			dst = append(dst, `,"key":`...)
			dst = appendSecret(dst, src.Key)
		}
		if src.Value != "" {
			dst = append(dst, `,"value":`...)
			dst = appendJSONString(dst, src.Value)
		}
		dst = append(dst, '}')
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"account":`...)
	if a := e.Account; a != (usage.Account{}) {
		dst = appendAccount(dst, a)
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"clientIp":`...)
	dst = appendJSONString(dst, e.ClientIP)
	if e.XForwardedFor != "" {
		dst = append(dst, `,"xForwardedFor":`...)
		dst = appendJSONString(dst, e.XForwardedFor)
	}
	dst = append(dst, `,"userAgent":`...)
	dst = appendJSONString(dst, e.UserAgent)
	dst = append(dst, `,"failed":`...)
	dst = strconv.AppendBool(dst, e.Failed)
	dst = append(dst, `,"statusCode":`...)
	dst = strconv.AppendInt(dst, int64(e.StatusCode), 10)
	if e.FailBody != "" {
		dst = append(dst, `,"failBody":`...)
		dst = appendJSONString(dst, e.FailBody)
	}
	dst = append(dst, `,"latencyMs":`...)
	dst = strconv.AppendInt(dst, e.LatencyMS, 10)
	dst = append(dst, `,"ttftMs":`...)
	dst = strconv.AppendInt(dst, e.TTFTMS, 10)
	dst = append(dst, `,"generate":`...)
	dst = strconv.AppendBool(dst, e.Generate)
	dst = appendOmitEmpty(dst, `,"reasoningEffort":`, e.ReasoningEffort)
	dst = appendOmitEmpty(dst, `,"serviceTier":`, e.ServiceTier)
	dst = appendOmitEmpty(dst, `,"responseServiceTier":`, e.ResponseServiceTier)
	dst = appendOmitEmpty(dst, `,"accessTokenSha256":`, e.AccessTokenSHA256)
	dst = append(dst, `,"tokens":`...)
	dst = appendTokens(dst, e.Tokens)
	if len(e.Headers) > 0 {
		dst = append(dst, `,"headers":`...)
		dst = x.appendHeaders(dst, e.Headers)
	}
	dst = append(dst, `,"costMicroUsd":`...)
	dst = strconv.AppendInt(dst, e.Cost.MicroUSD, 10)
	dst = append(dst, `,"costUsd":`...)
	dst = appendJSONFloat(dst, float64(e.Cost.MicroUSD)/1e6)
	dst = append(dst, `,"priced":`...)
	dst = strconv.AppendBool(dst, e.Cost.Priced)
	return append(dst, '}', '\n'), true
}

// appendSecret appends a secretJSON object.
func appendSecret(dst []byte, s usage.Secret) []byte {
	dst = append(dst, `{"hash":`...)
	dst = appendJSONString(dst, s.Hash)
	dst = append(dst, `,"mask":`...)
	dst = appendJSONString(dst, s.Mask)
	return append(dst, '}')
}

// appendAccount appends an accountJSON object (every field omitempty).
// Callers pass a non-zero account, so some field shows; an all-empty one
// would still come out as encoding/json writes it, "{}".
func appendAccount(dst []byte, a usage.Account) []byte {
	n := len(dst)
	dst = appendOmitEmpty(dst, `,"label":`, a.Label)
	dst = appendOmitEmpty(dst, `,"email":`, a.Email)
	dst = appendOmitEmpty(dst, `,"provider":`, a.Provider)
	dst = appendOmitEmpty(dst, `,"projectId":`, a.ProjectID)
	dst = appendOmitEmpty(dst, `,"fileName":`, a.FileName)
	if len(dst) == n {
		return append(dst, '{', '}')
	}
	dst[n] = '{' // the first field's comma opens the object
	return append(dst, '}')
}

// appendOmitEmpty appends a comma-led member for a string field tagged
// omitempty: nothing when s is empty.
func appendOmitEmpty(dst []byte, member, s string) []byte {
	if s == "" {
		return dst
	}
	dst = append(dst, member...)
	return appendJSONString(dst, s)
}

// appendTokens appends a tokensJSON object.
func appendTokens(dst []byte, t usage.Tokens) []byte {
	dst = append(dst, `{"uncached":`...)
	dst = strconv.AppendInt(dst, t.Uncached, 10)
	dst = append(dst, `,"cacheRead":`...)
	dst = strconv.AppendInt(dst, t.CacheRead, 10)
	dst = append(dst, `,"cacheWrite":`...)
	dst = strconv.AppendInt(dst, t.CacheWrite, 10)
	dst = append(dst, `,"output":`...)
	dst = strconv.AppendInt(dst, t.Output, 10)
	dst = append(dst, `,"reasoning":`...)
	dst = strconv.AppendInt(dst, t.Reasoning, 10)
	dst = append(dst, `,"unclassified":`...)
	dst = strconv.AppendInt(dst, t.Unclassified, 10)
	dst = append(dst, `,"input":`...)
	dst = strconv.AppendInt(dst, t.Input(), 10)
	dst = append(dst, `,"outputTotal":`...)
	dst = strconv.AppendInt(dst, t.OutputTotal(), 10)
	dst = append(dst, `,"total":`...)
	dst = strconv.AppendInt(dst, t.Total(), 10)
	dst = appendOmitEmpty(dst, `,"quality":`, t.Quality)
	return append(dst, '}')
}

// appendHeaders appends a non-empty map[string]string as encoding/json
// does: keys sorted bytewise.
func (x *exportEncoder) appendHeaders(dst []byte, h map[string]string) []byte {
	keys := x.keys[:0]
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i == 0 {
			dst = append(dst, '{')
		} else {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, k)
		dst = append(dst, ':')
		dst = appendJSONString(dst, h[k])
	}
	clear(keys)
	x.keys = keys[:0]
	return append(dst, '}')
}

// appendJSONFloat appends a finite float64 as encoding/json does: like
// strconv's shortest form, in exponent form below 1e-6 and from 1e21 on,
// with a one-digit negative exponent not zero-padded ("1e-7", not "1e-07").
func appendJSONFloat(dst []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

// jsonPlain marks the ASCII bytes encoding/json copies into a string
// as they are when HTML escaping is off: printable characters and DEL,
// except the quote and the backslash.
var jsonPlain = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

// appendJSONString appends s as a quoted JSON string exactly as
// encoding/json writes it with HTML escaping off: \" \\ \b \f \n \r \t,
// other control characters as \u00XX, each invalid UTF-8 byte as \ufffd,
// U+2028 and U+2029 escaped, everything else as it is.
func appendJSONString(dst []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if jsonPlain[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case c == '\u2028' || c == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
