package usage

import (
	"net/textproto"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Redaction limits and markers.
const (
	// Redacted replaces a secret in text.
	Redacted = "[REDACTED]"
	// MaxFailBody is the longest failure body kept on an event, in bytes.
	MaxFailBody = 2048
	// MaxHeaderValue is the longest response-header value kept, in bytes.
	MaxHeaderValue = 256
	// MaxHeaders is the most response headers kept on one event.
	MaxHeaders = 32
	// MaxDeadLetter bounds the text form of a redacted dead letter.
	MaxDeadLetter = 16 << 10
	// maxScan bounds the text fed to the redaction expressions.
	maxScan = 64 << 10
)

// Mask shortens a secret for display the way CPA's logs do: the first 4
// and last 4 characters around "…" when the value is longer than 8
// characters ("sk-cpa-test-1" → "sk-c…st-1"), "****" otherwise (and ""
// for an empty value).
func Mask(v string) string {
	if v == "" {
		return ""
	}
	if utf8.RuneCountInString(v) <= 8 {
		return "****"
	}
	r := []rune(v)
	return string(r[:4]) + "…" + string(r[len(r)-4:])
}

// MaskEmail masks the local part of an email address for API output:
// "dev@example.com" → "d***@example.com". A value without "@" is masked
// entirely ("***").
func MaskEmail(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		if email == "" {
			return ""
		}
		return "***"
	}
	local, domain := email[:at], email[at+1:]
	if local == "" {
		return "***@" + domain
	}
	r, _ := utf8.DecodeRuneInString(local)
	return string(r) + "***@" + domain
}

// Text redaction. Rules apply in this order; every match is replaced by
// Redacted (for keyword rules, only the value is replaced):
//
//  1. "Bearer <token>" / "Basic <token>" (any case).
//  2. JWT-shaped strings (eyJ….….…).
//  3. Provider key shapes at a word start: sk-/sk_/rk-/rk_/pk-/pk_ plus 8+
//     key characters (OpenAI, Anthropic sk-ant-, OpenRouter sk-or-, DeepSeek,
//     Kimi, most openai-compatible vendors), AIza… (Google), xai-…, ya29.…
//     (Google OAuth), gsk_/ghp_/gho_/ghu_/ghs_/ghr_/hf_/r8_/glpat- tokens,
//     github_pat_…, pplx-…, AKIA… (AWS access key ids).
//  4. key=value / "key": "value" pairs whose key names a credential:
//     api_key, api-key, apikey, x-api-key, x-goog-api-key, authorization,
//     proxy-authorization, access_token, refresh_token, id_token, token,
//     client_secret, secret, password, passwd, cookie, set-cookie,
//     session_id, sessionid.
//  5. (strict mode: failure bodies and dead letters) long opaque tokens: a
//     run of [A-Za-z0-9+=_-] of 20+ characters mixing upper case, lower
//     case and digits, or a run of 32+ hex digits. UUIDs and lower-case
//     ids such as "req_<32 hex>" survive.
//  6. (strict mode) email addresses are masked with MaskEmail.
//
// Allowlisted response-header values get every rule, except request-id
// headers (x-request-id, request-id, x-goog-request-id, x-amzn-requestid,
// cf-ray), which get rules 1–4 only so that opaque ids stay intact.
var (
	reAuthScheme = regexp.MustCompile(`(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=\-]{6,}`)
	reJWT        = regexp.MustCompile(`\beyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}(?:\.[A-Za-z0-9_\-]*)?`)
	reKeyPrefix  = regexp.MustCompile(`\b(?:(?:sk|rk|pk)[-_][A-Za-z0-9_\-]{8,}|AIza[0-9A-Za-z_\-]{16,}|xai-[A-Za-z0-9_\-]{10,}|ya29\.[0-9A-Za-z_\-.]{10,}|(?:gsk|ghp|gho|ghu|ghs|ghr|hf|r8)_[A-Za-z0-9_\-]{10,}|glpat-[A-Za-z0-9_\-]{10,}|github_pat_[A-Za-z0-9_]{10,}|pplx-[A-Za-z0-9]{10,}|AKIA[0-9A-Z]{16})`)
	reKeyword    = regexp.MustCompile(`(?i)(?:^|[^A-Za-z0-9_\-])(?:x-goog-api-key|x-api-key|api[_\-]?key|proxy-authorization|authorization|access[_\-]?token|refresh[_\-]?token|id[_\-]?token|client[_\-]?secret|secret|password|passwd|set-cookie|cookie|session[_\-]?id|token)(?:\\?["'])?\s*[:=]\s*(\\?"(?:[^"\\]|\\[^"])*\\?"|'[^']*'|[^\s,;&"'}\]]+)`)
	reSourceKW   = regexp.MustCompile(`(?i)(?:^|[^A-Za-z0-9_\-])source(?:\\?["'])?\s*[:=]\s*(\\?"(?:[^"\\]|\\[^"])*\\?"|'[^']*'|[^\s,;&"'}\]]+)`)
	reLongToken  = regexp.MustCompile(`[A-Za-z0-9+=_\-]{20,}`)
	reEmail      = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)
)

// RedactText removes secrets from free text (failure bodies, messages)
// using every rule listed above, including the strict rules 5 and 6. It
// does not truncate; see RedactFailBody.
func RedactText(s string) string {
	return redactText(s, true, false)
}

func redactText(s string, strict, deadLetter bool) string {
	if s == "" {
		return s
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = reAuthScheme.ReplaceAllString(s, "${1}${2}"+Redacted)
	s = reJWT.ReplaceAllLiteralString(s, Redacted)
	s = reKeyPrefix.ReplaceAllLiteralString(s, Redacted)
	s = replaceKeywordValues(reKeyword, s)
	if deadLetter {
		s = replaceKeywordValues(reSourceKW, s)
	}
	if strict {
		s = reLongToken.ReplaceAllStringFunc(s, func(tok string) string {
			if opaqueToken(tok) {
				return Redacted
			}
			return tok
		})
		s = reEmail.ReplaceAllStringFunc(s, MaskEmail)
	}
	return s
}

// replaceKeywordValues replaces the value group (group 1) of every match
// of re, keeping the quotes around a quoted value.
func replaceKeywordValues(re *regexp.Regexp, s string) string {
	idx := re.FindAllStringSubmatchIndex(s, -1)
	if idx == nil {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for _, m := range idx {
		vs, ve := m[2], m[3]
		v := s[vs:ve]
		if v == Redacted || v == `"`+Redacted+`"` || strings.EqualFold(v, "bearer") || strings.EqualFold(v, "basic") {
			continue // already redacted, or an auth scheme whose token rule 1 took
		}
		b.WriteString(s[last:vs])
		switch {
		case strings.HasPrefix(v, `\"`):
			b.WriteString(`\"` + Redacted + `\"`)
		case strings.HasPrefix(v, `"`):
			b.WriteString(`"` + Redacted + `"`)
		case strings.HasPrefix(v, `'`):
			b.WriteString(`'` + Redacted + `'`)
		default:
			b.WriteString(Redacted)
		}
		last = ve
	}
	b.WriteString(s[last:])
	return b.String()
}

// opaqueToken reports whether a run of key characters looks like a random
// secret: upper, lower and digits mixed (20+ chars), or 32+ hex digits.
func opaqueToken(tok string) bool {
	var upper, lower, digit, hexOnly = false, false, false, true
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		switch {
		case c >= 'A' && c <= 'Z':
			upper = true
			if c > 'F' {
				hexOnly = false
			}
		case c >= 'a' && c <= 'z':
			lower = true
			if c > 'f' {
				hexOnly = false
			}
		case c >= '0' && c <= '9':
			digit = true
		default:
			hexOnly = false
		}
	}
	if upper && lower && digit {
		return true
	}
	return hexOnly && len(tok) >= 32
}

// RedactFailBody prepares an upstream error body for storage: it keeps at
// most MaxFailBody bytes (cut on a UTF-8 boundary) of the redacted text.
// Input longer than 64 KiB is cut before redaction, dropping any partial
// token at the cut so that no fragment of a secret survives.
func RedactFailBody(body string) string {
	return redactBounded(body, MaxFailBody, false)
}

// redactBounded redacts s in strict mode and bounds the result to limit
// bytes.
func redactBounded(s string, limit int, deadLetter bool) string {
	if s == "" {
		return s
	}
	if len(s) > maxScan {
		s = cutToken(s, maxScan)
	}
	return truncate(redactText(s, true, deadLetter), limit)
}

// cutToken cuts s to at most n bytes and drops a trailing run of key
// characters that the cut may have split.
func cutToken(s string, n int) string {
	s = truncate(s, n)
	i := len(s)
	for i > 0 && isKeyChar(s[i-1]) {
		i--
	}
	return s[:i]
}

func isKeyChar(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
		c == '-' || c == '_' || c == '+' || c == '=' || c == '/' || c == '.'
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Response-header allowlist (names compared case-insensitively). Kept:
//
//   - rate limits: x-ratelimit-* (OpenAI, xAI, OpenRouter, Groq, ...),
//     anthropic-ratelimit-* (Anthropic), ratelimit / ratelimit-* (IETF
//     draft, used by some gateways), x-codex-primary-*,
//     x-codex-secondary-*, x-codex-credits-* and x-codex-plan-type
//     (ChatGPT/Codex quota windows);
//   - retry hints: retry-after, retry-after-ms, x-should-retry;
//   - request ids: x-request-id, request-id (Anthropic), x-goog-request-id,
//     x-amzn-requestid, cf-ray.
//
// Everything else is dropped: cookies, authentication challenges,
// organisation and project ids (openai-organization, openai-project,
// anthropic-organization-id), server banners.
var (
	headerExact = map[string]bool{
		"retry-after": true, "retry-after-ms": true, "x-should-retry": true,
		"x-request-id": true, "request-id": true, "x-goog-request-id": true,
		"x-amzn-requestid": true, "cf-ray": true, "ratelimit": true,
		"x-codex-plan-type": true,
	}
	headerPrefixes = []string{
		"x-ratelimit-", "anthropic-ratelimit-", "ratelimit-",
		"x-codex-primary-", "x-codex-secondary-", "x-codex-credits-",
	}
)

// HeaderAllowed reports whether a response header is kept.
func HeaderAllowed(name string) bool {
	n := strings.ToLower(strings.TrimSpace(name))
	if headerExact[n] {
		return true
	}
	for _, p := range headerPrefixes {
		if len(n) > len(p) && strings.HasPrefix(n, p) {
			return true
		}
	}
	return false
}

// FilterHeaders reduces upstream response headers to the allowlist: names
// in canonical form, the first value only, trimmed, control characters
// removed, redacted (see RedactText) and cut to MaxHeaderValue bytes; at most
// MaxHeaders entries (in name order). It returns nil when nothing is kept.
func FilterHeaders(h map[string][]string) map[string]string {
	if len(h) == 0 {
		return nil
	}
	var names []string
	for name, vals := range h {
		if len(vals) > 0 && HeaderAllowed(name) && plainHeaderName(name) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	slices.Sort(names)
	out := make(map[string]string, min(len(names), MaxHeaders))
	for _, name := range names {
		if len(out) >= MaxHeaders {
			break
		}
		key := textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name))
		if _, dup := out[key]; dup {
			continue
		}
		out[key] = headerValue(strings.ToLower(strings.TrimSpace(name)), h[name][0])
	}
	return out
}

// plainHeaderName rejects header names that could smuggle a secret past
// the allowlist: longer than 64 bytes, characters outside [A-Za-z0-9-], a
// hyphen-separated segment over 20 characters, or a segment that starts a
// provider key (sk, rk, pk, xai, AIza…, AKIA…, eyJ…, ya29…).
func plainHeaderName(name string) bool {
	name = strings.TrimSpace(name)
	if len(name) > 64 {
		return false
	}
	for seg := range strings.SplitSeq(name, "-") {
		if len(seg) > 20 {
			return false
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
				return false
			}
		}
		l := strings.ToLower(seg)
		switch {
		case l == "sk" || l == "rk" || l == "pk" || l == "xai",
			strings.HasPrefix(l, "aiza"), strings.HasPrefix(l, "akia"),
			strings.HasPrefix(l, "eyj"), strings.HasPrefix(l, "ya29"):
			return false
		}
	}
	return true
}

// requestIDHeaders carry opaque request ids, which rule 5 would redact.
var requestIDHeaders = map[string]bool{
	"x-request-id": true, "request-id": true, "x-goog-request-id": true, "x-amzn-requestid": true, "cf-ray": true,
}

// headerValue cleans one allowlisted header value (name in lower case).
func headerValue(name, v string) string {
	if len(v) > maxScan {
		v = cutToken(v, maxScan)
	}
	v = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, v)
	v = strings.TrimSpace(v)
	if needsKeyScan(v) {
		v = redactText(v, !requestIDHeaders[name], false)
	}
	return truncate(v, MaxHeaderValue)
}

// needsKeyScan is a cheap pre-check: values made only of digits,
// punctuation and short words cannot match rules 1–4.
func needsKeyScan(v string) bool {
	if len(v) < 8 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' {
			return true
		}
	}
	return false
}
