package usage

import (
	"bytes"
	"encoding/json"
	"strings"
)

// maxDeadLetterString bounds each string value of a redacted JSON dead
// letter.
const maxDeadLetterString = 4096

// Keys whose values are credentials wherever they appear in a dead letter
// (compared case-insensitively).
var (
	deadLetterKeyFields = map[string]bool{
		"api_key": true, "apikey": true, "api-key": true, "x-api-key": true, "x-goog-api-key": true,
	}
	deadLetterSecretFields = map[string]bool{
		"authorization": true, "proxy-authorization": true, "password": true, "passwd": true,
		"secret": true, "client_secret": true, "token": true, "access_token": true,
		"refresh_token": true, "id_token": true, "cookie": true, "set-cookie": true,
		"session_id": true, "sessionid": true,
	}
	// deadLetterIDFields hold non-secret hex ids that the opaque-token rule
	// would otherwise redact.
	deadLetterIDFields = map[string]bool{
		"access_token_sha256": true, "auth_index": true, "request_id": true,
	}
)

// RedactPayload returns a form of an unprocessable payload that is safe to
// keep in the dead-letter table.
//
// JSON (an object, an array, or a JSON string holding either; up to
// MaxPayloadSize) is decoded and re-encoded with, at any depth and with
// keys compared case-insensitively:
//   - api_key (and apikey, api-key, x-api-key, x-goog-api-key): Mask(value);
//   - authorization, proxy-authorization, password, passwd, secret,
//     client_secret, token, access_token, refresh_token, id_token, cookie,
//     set-cookie, session_id, sessionid: "[REDACTED]";
//   - source: Mask(value) when ClassifySource (with the sibling auth_type,
//     provider and api_key) says it is a key; emails and project ids kept;
//     anything else redacted as text;
//   - response_headers: reduced like Event.Headers (allowlist, first value);
//   - body: RedactFailBody;
//   - auth_index, request_id, access_token_sha256: kept when hex, else
//     redacted as text;
//   - every other string: RedactText (strict rules, plus "source=" pairs)
//     and cut to 4 KiB. Numbers, booleans and nulls are kept.
//
// If the re-encoded JSON is above 64 KiB it is cut to MaxDeadLetter bytes
// (it is already redacted, so the cut exposes nothing; the result is then
// not valid JSON). Anything else is treated as text: cut to 64 KiB (a
// split trailing token dropped), redacted with every text rule, including
// "source" pairs, and cut to MaxDeadLetter bytes. Invalid UTF-8 becomes
// U+FFFD.
func RedactPayload(payload []byte) []byte {
	p := bytes.TrimSpace(payload)
	if len(p) > 0 && len(p) <= MaxPayloadSize {
		if v, ok := decodeJSON(p); ok {
			if s, isString := v.(string); isString {
				inner := strings.TrimSpace(s)
				if iv, ok := decodeJSON([]byte(inner)); ok && inner != "" && (inner[0] == '{' || inner[0] == '[') {
					v = iv
				} else {
					return []byte(redactBounded(s, MaxDeadLetter, true))
				}
			}
			v = redactJSON(v, "", nil)
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if enc.Encode(v) == nil {
				out := bytes.TrimRight(buf.Bytes(), "\n")
				if len(out) > maxScan {
					out = []byte(truncate(string(out), MaxDeadLetter))
				}
				return out
			}
		}
	}
	return []byte(redactBounded(string(p), MaxDeadLetter, true))
}

// decodeJSON decodes exactly one JSON value, numbers kept as json.Number.
func decodeJSON(p []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(p))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil, false
	}
	if _, err := dec.Token(); err == nil {
		return nil, false // trailing data
	}
	return v, true
}

// redactJSON redacts a decoded JSON value found under key (lower case) in
// the object parent.
func redactJSON(v any, key string, parent map[string]any) any {
	switch x := v.(type) {
	case map[string]any:
		var renamed []string
		for k := range x {
			if redactBounded(k, maxField, true) != k {
				renamed = append(renamed, k)
			}
		}
		for _, k := range renamed {
			val := x[k]
			delete(x, k)
			x[redactBounded(k, maxField, true)] = val
		}
		for k, val := range x {
			lk := strings.ToLower(k)
			if lk == "response_headers" {
				if h := headersOf(val); h != nil {
					x[k] = h
				} else {
					delete(x, k)
				}
				continue
			}
			x[k] = redactJSON(val, lk, x)
		}
		return x
	case []any:
		for i := range x {
			x[i] = redactJSON(x[i], "", nil)
		}
		return x
	case string:
		return redactJSONString(x, key, parent)
	case nil, bool, json.Number:
		if deadLetterKeyFields[key] || deadLetterSecretFields[key] {
			if x == nil {
				return nil
			}
			return Redacted
		}
		return x
	}
	return v
}

// redactJSONString applies the per-key rules of RedactPayload to a string.
func redactJSONString(s, key string, parent map[string]any) string {
	switch {
	case s == "":
		return s
	case deadLetterKeyFields[key]:
		return Mask(s)
	case deadLetterSecretFields[key]:
		return Redacted
	case key == "source":
		switch ClassifySource(s, siblingString(parent, "auth_type"), siblingString(parent, "provider"),
			siblingString(parent, "api_key")) {
		case SourceAPIKey:
			return Mask(s)
		case SourceEmail, SourceProject:
			return truncate(s, maxField)
		}
		return redactBounded(s, maxField, true)
	case key == "body":
		return RedactFailBody(s)
	case deadLetterIDFields[key] && isHex(s) && len(s) <= 64:
		return s
	}
	return redactBounded(s, maxDeadLetterString, true)
}

// siblingString returns the string value of key (case-insensitive) in m.
func siblingString(m map[string]any, key string) string {
	for k, v := range m {
		if strings.EqualFold(k, key) {
			if s, ok := v.(string); ok {
				return s
			}
		}
	}
	return ""
}

// headersOf reduces a decoded response_headers object to the allowlist, in
// CPA's map[string][]string shape. It returns nil when nothing is kept.
func headersOf(v any) map[string]any {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	h := make(map[string][]string, len(m))
	for k, val := range m {
		switch x := val.(type) {
		case []any:
			if len(x) > 0 {
				if s, ok := x[0].(string); ok {
					h[k] = []string{s}
				}
			}
		case string:
			h[k] = []string{x}
		}
	}
	f := FilterHeaders(h)
	if f == nil {
		return nil
	}
	out := make(map[string]any, len(f))
	for k, s := range f {
		out[k] = []string{s}
	}
	return out
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
