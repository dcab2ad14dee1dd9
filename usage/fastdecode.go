package usage

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"unicode/utf8"
)

// decodeRecord is a hand-written decoder for the Record shape, about an
// order of magnitude cheaper than json.Unmarshal (no validation pass, no
// reflection). It is a fast path only: it returns true when it decoded the
// whole of obj into r exactly as json.Unmarshal(obj, r) would (starting
// from a zero r), and false whenever it cannot vouch for that — any syntax
// error, a type json.Unmarshal would reject, a key that differs from a
// field name only by case (encoding/json matches those case-insensitively),
// a non-ASCII or escaped key, a non-integer number, very deep nesting.
// After false, r is in an unspecified state and the caller must decode
// with json.Unmarshal from a zero Record, which also gives the error.
//
// Semantics mirrored from encoding/json: a repeated key decodes again into
// the same value (the last scalar wins, nested structs merge, an existing
// map or pointer is reused); null leaves strings, numbers, booleans and
// structs unchanged and sets pointers and maps to nil; a string without
// escapes and with valid UTF-8 is taken as is (anything else is unquoted by
// encoding/json itself).
func decodeRecord(obj []byte, r *Record) bool {
	d := fastDecoder{b: obj}
	d.ws()
	if !d.object(d.recordField(r)) {
		return false
	}
	d.ws()
	return d.i == len(d.b)
}

// fastDecoder is a cursor over the bytes being decoded.
type fastDecoder struct {
	b []byte
	i int
}

// maxSkipDepth bounds the nesting of ignored values the fast path walks;
// deeper input goes to encoding/json.
const maxSkipDepth = 64

// Field names per level, to detect keys that encoding/json would match
// case-insensitively; read from the types' json tags so they cannot drift.
var (
	recordNames    = jsonNames[Record]()
	legacyNames    = jsonNames[LegacyTokens]()
	failNames      = jsonNames[Fail]()
	breakdownNames = jsonNames[TokenBreakdown]()
	inputNames     = jsonNames[InputBreakdown]()
	outputNames    = jsonNames[OutputBreakdown]()
)

// jsonNames lists the JSON names of T's exported fields (tag name, or the
// field name when the tag gives none), leaving out fields tagged "-".
func jsonNames[T any]() []string {
	t := reflect.TypeFor[T]()
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		out = append(out, name)
	}
	return out
}

// unknownKey handles a key that is not exactly a field name: false when it
// folds to one (let encoding/json decide), else the value is skipped.
func (d *fastDecoder) unknownKey(key []byte, names []string) bool {
	for _, n := range names {
		if len(n) == len(key) && bytes.EqualFold(key, []byte(n)) {
			return false
		}
	}
	return d.skip(0)
}

func (d *fastDecoder) recordField(r *Record) func(key []byte) bool {
	return func(key []byte) bool {
		switch string(key) {
		case "timestamp":
			return d.str(&r.Timestamp)
		case "latency_ms":
			return d.int64(&r.LatencyMS)
		case "ttft_ms":
			return d.int64(&r.TTFTMS)
		case "source":
			return d.str(&r.Source)
		case "auth_index":
			return d.str(&r.AuthIndex)
		case "access_token_sha256":
			return d.str(&r.AccessTokenSHA256)
		case "client_ip":
			return d.str(&r.ClientIP)
		case "x_forwarded_for":
			return d.str(&r.XForwardedFor)
		case "user_agent":
			return d.str(&r.UserAgent)
		case "tokens":
			return d.legacyTokens(&r.Tokens)
		case "failed":
			return d.bool(&r.Failed)
		case "generate":
			if d.null() {
				r.Generate = nil
				return true
			}
			if r.Generate == nil {
				r.Generate = new(bool)
			}
			return d.bool(r.Generate)
		case "fail":
			return d.fail(&r.Fail)
		case "response_headers":
			return d.headers(&r.ResponseHeaders)
		case "accounting_version":
			return d.int(&r.AccountingVersion)
		case "token_breakdown":
			if d.null() {
				r.TokenBreakdown = nil
				return true
			}
			if r.TokenBreakdown == nil {
				r.TokenBreakdown = new(TokenBreakdown)
			}
			return d.breakdown(r.TokenBreakdown)
		case "provider":
			return d.str(&r.Provider)
		case "executor_type":
			return d.str(&r.ExecutorType)
		case "model":
			return d.str(&r.Model)
		case "alias":
			return d.str(&r.Alias)
		case "endpoint":
			return d.str(&r.Endpoint)
		case "auth_type":
			return d.str(&r.AuthType)
		case "api_key":
			return d.str(&r.APIKey)
		case "request_id":
			return d.str(&r.RequestID)
		case "reasoning_effort":
			return d.str(&r.ReasoningEffort)
		case "service_tier":
			return d.str(&r.ServiceTier)
		case "response_service_tier":
			return d.str(&r.ResponseServiceTier)
		}
		return d.unknownKey(key, recordNames)
	}
}

func (d *fastDecoder) legacyTokens(t *LegacyTokens) bool {
	if d.null() {
		return true
	}
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "input_tokens":
			return d.int64(&t.InputTokens)
		case "output_tokens":
			return d.int64(&t.OutputTokens)
		case "reasoning_tokens":
			return d.int64(&t.ReasoningTokens)
		case "cached_tokens":
			return d.int64(&t.CachedTokens)
		case "cache_read_tokens":
			return d.int64(&t.CacheReadTokens)
		case "cache_read_tokens_present":
			return d.bool(&t.CacheReadTokensPresent)
		case "cache_creation_tokens":
			return d.int64(&t.CacheCreationTokens)
		case "total_tokens":
			return d.int64(&t.TotalTokens)
		}
		return d.unknownKey(key, legacyNames)
	})
}

func (d *fastDecoder) fail(f *Fail) bool {
	if d.null() {
		return true
	}
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "status_code":
			return d.int(&f.StatusCode)
		case "body":
			return d.str(&f.Body)
		}
		return d.unknownKey(key, failNames)
	})
}

func (d *fastDecoder) breakdown(tb *TokenBreakdown) bool {
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "schema_version":
			return d.int(&tb.SchemaVersion)
		case "quality":
			return d.str(&tb.Quality)
		case "total_tokens":
			return d.int64(&tb.TotalTokens)
		case "input":
			if d.null() {
				return true
			}
			in := &tb.Input
			return d.object(func(key []byte) bool {
				switch string(key) {
				case "total_tokens":
					return d.int64(&in.TotalTokens)
				case "uncached_tokens":
					return d.int64(&in.UncachedTokens)
				case "cache_read_tokens":
					return d.int64(&in.CacheReadTokens)
				case "cache_write_tokens":
					return d.int64(&in.CacheWriteTokens)
				}
				return d.unknownKey(key, inputNames)
			})
		case "output":
			if d.null() {
				return true
			}
			out := &tb.Output
			return d.object(func(key []byte) bool {
				switch string(key) {
				case "total_tokens":
					return d.int64(&out.TotalTokens)
				case "non_reasoning_tokens":
					return d.int64(&out.NonReasoningTokens)
				case "reasoning_tokens":
					return d.int64(&out.ReasoningTokens)
				}
				return d.unknownKey(key, outputNames)
			})
		case "unclassified_tokens":
			return d.int64(&tb.UnclassifiedTokens)
		}
		return d.unknownKey(key, breakdownNames)
	})
}

// headers decodes a map[string][]string value.
func (d *fastDecoder) headers(m *map[string][]string) bool {
	if d.null() {
		*m = nil
		return true
	}
	if d.i >= len(d.b) || d.b[d.i] != '{' {
		return false
	}
	if *m == nil {
		*m = make(map[string][]string)
	}
	d.i++
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return true
	}
	for {
		d.ws()
		var k string
		if d.i >= len(d.b) || d.b[d.i] != '"' || !d.str(&k) {
			return false
		}
		d.ws()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return false
		}
		d.i++
		d.ws()
		var vals []string
		if !d.null() {
			if d.i >= len(d.b) || d.b[d.i] != '[' {
				return false
			}
			d.i++
			vals = []string{}
			d.ws()
			if d.i < len(d.b) && d.b[d.i] == ']' {
				d.i++
			} else {
				for {
					d.ws()
					var s string
					if !d.null() && !d.str(&s) {
						return false
					}
					vals = append(vals, s)
					d.ws()
					if d.i >= len(d.b) {
						return false
					}
					if d.b[d.i] == ']' {
						d.i++
						break
					}
					if d.b[d.i] != ',' {
						return false
					}
					d.i++
				}
			}
		}
		(*m)[k] = vals
		d.ws()
		if d.i >= len(d.b) {
			return false
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case '}':
			d.i++
			return true
		default:
			return false
		}
	}
}

// ws skips JSON whitespace.
func (d *fastDecoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// object walks an object, calling member with each key (ASCII, no escapes:
// other keys make it fail) with the cursor on the value.
func (d *fastDecoder) object(member func(key []byte) bool) bool {
	if d.i >= len(d.b) || d.b[d.i] != '{' {
		return false
	}
	d.i++
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return true
	}
	for {
		d.ws()
		if d.i >= len(d.b) || d.b[d.i] != '"' {
			return false
		}
		start := d.i + 1
		j := start
		for j < len(d.b) && d.b[j] != '"' {
			if c := d.b[j]; c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
				return false
			}
			j++
		}
		if j >= len(d.b) {
			return false
		}
		key := d.b[start:j]
		d.i = j + 1
		d.ws()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return false
		}
		d.i++
		d.ws()
		if !member(key) {
			return false
		}
		d.ws()
		if d.i >= len(d.b) {
			return false
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case '}':
			d.i++
			return true
		default:
			return false
		}
	}
}

// null consumes a null literal if the cursor is on one.
func (d *fastDecoder) null() bool {
	if bytes.HasPrefix(d.b[d.i:], []byte("null")) {
		d.i += 4
		return true
	}
	return false
}

// str decodes a string (null leaves dst unchanged).
func (d *fastDecoder) str(dst *string) bool {
	if d.null() {
		return true
	}
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return false
	}
	start := d.i
	plain := true
	j := start + 1
	for ; j < len(d.b); j++ {
		c := d.b[j]
		if c == '"' {
			break
		}
		switch {
		case c == '\\':
			plain = false
			j++ // the escaped character; encoding/json checks the escape
		case c < 0x20:
			return false
		case c >= utf8.RuneSelf:
			plain = false
		}
	}
	if j >= len(d.b) {
		return false
	}
	tok := d.b[start : j+1]
	d.i = j + 1
	body := tok[1 : len(tok)-1]
	if plain || (bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body)) {
		*dst = string(body)
		return true
	}
	var s string
	if json.Unmarshal(tok, &s) != nil {
		return false
	}
	*dst = s
	return true
}

// bool decodes true or false (null leaves dst unchanged).
func (d *fastDecoder) bool(dst *bool) bool {
	rest := d.b[d.i:]
	switch {
	case bytes.HasPrefix(rest, []byte("true")):
		*dst = true
		d.i += 4
	case bytes.HasPrefix(rest, []byte("false")):
		*dst = false
		d.i += 5
	case bytes.HasPrefix(rest, []byte("null")):
		d.i += 4
	default:
		return false
	}
	return true
}

// int64 decodes an integer literal that fits in an int64 (null leaves dst
// unchanged). Fractions and exponents are left to encoding/json, which
// rejects them for integer fields.
func (d *fastDecoder) int64(dst *int64) bool {
	if d.null() {
		return true
	}
	neg := false
	if d.i < len(d.b) && d.b[d.i] == '-' {
		neg = true
		d.i++
	}
	start := d.i
	var u uint64
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		if d.i-start >= 19 { // may overflow: let encoding/json decide
			return false
		}
		u = u*10 + uint64(d.b[d.i]-'0')
		d.i++
	}
	n := d.i - start
	if n == 0 || (n > 1 && d.b[start] == '0') {
		return false
	}
	if d.i < len(d.b) {
		if c := d.b[d.i]; c == '.' || c == 'e' || c == 'E' {
			return false
		}
	}
	// 19 digits at most: u < 10^19 < 2^64, and it fits in an int64 unless
	// above 2^63-1 (or 2^63 when negative).
	if neg {
		if u > 1<<63 {
			return false
		}
		*dst = -int64(u)
	} else {
		if u > 1<<63-1 {
			return false
		}
		*dst = int64(u)
	}
	return true
}

// int decodes an integer literal into an int.
func (d *fastDecoder) int(dst *int) bool {
	v := int64(*dst)
	if !d.int64(&v) || int64(int(v)) != v {
		return false
	}
	*dst = int(v)
	return true
}

// skip validates and skips any JSON value.
func (d *fastDecoder) skip(depth int) bool {
	if d.i >= len(d.b) || depth > maxSkipDepth {
		return false
	}
	switch c := d.b[d.i]; {
	case c == '{':
		d.i++
		d.ws()
		if d.i < len(d.b) && d.b[d.i] == '}' {
			d.i++
			return true
		}
		for {
			d.ws()
			if !d.skipString() {
				return false
			}
			d.ws()
			if d.i >= len(d.b) || d.b[d.i] != ':' {
				return false
			}
			d.i++
			d.ws()
			if !d.skip(depth + 1) {
				return false
			}
			d.ws()
			if d.i >= len(d.b) {
				return false
			}
			switch d.b[d.i] {
			case ',':
				d.i++
			case '}':
				d.i++
				return true
			default:
				return false
			}
		}
	case c == '[':
		d.i++
		d.ws()
		if d.i < len(d.b) && d.b[d.i] == ']' {
			d.i++
			return true
		}
		for {
			d.ws()
			if !d.skip(depth + 1) {
				return false
			}
			d.ws()
			if d.i >= len(d.b) {
				return false
			}
			switch d.b[d.i] {
			case ',':
				d.i++
			case ']':
				d.i++
				return true
			default:
				return false
			}
		}
	case c == '"':
		return d.skipString()
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return d.skipNumber()
	}
	return false
}

func (d *fastDecoder) literal(s string) bool {
	if !bytes.HasPrefix(d.b[d.i:], []byte(s)) {
		return false
	}
	d.i += len(s)
	return true
}

// skipString validates and skips a string.
func (d *fastDecoder) skipString() bool {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return false
	}
	for j := d.i + 1; j < len(d.b); j++ {
		switch c := d.b[j]; {
		case c == '"':
			d.i = j + 1
			return true
		case c < 0x20:
			return false
		case c == '\\':
			j++
			if j >= len(d.b) {
				return false
			}
			switch d.b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(d.b) {
					return false
				}
				for _, h := range d.b[j+1 : j+5] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return false
					}
				}
				j += 4
			default:
				return false
			}
		}
	}
	return false
}

// skipNumber validates and skips a number:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *fastDecoder) skipNumber() bool {
	digits := func() int {
		n := 0
		for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	if d.b[d.i] == '-' {
		d.i++
	}
	if d.i < len(d.b) && d.b[d.i] == '0' {
		d.i++
	} else if digits() == 0 {
		return false
	}
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		if digits() == 0 {
			return false
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}
