package api

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/cpam-caddy/cpam/store"
	"github.com/cpam-caddy/cpam/usage"
)

// POST /usage/import reads, auto-detected per object:
//
//   - cpam_jsonl: lines of our export (NDJSON, or a JSON array of them);
//   - cpa_records: raw CPA usage-queue records (NDJSON or a JSON array),
//     normalised exactly as ingest does;
//   - legacy_usage_export and legacy_usage_payload: CPA-Manager's usage
//     export ({"version", "exported_at", "usage": {"apis": ...}}) or CPA's
//     old GET /usage object without the wrapper; their per-request details
//     become records.
//
// NDJSON is read line by line, so a broken line is counted as failed and
// the import goes on; arrays and pretty-printed documents are read with a
// streaming decoder, which cannot resynchronise after a syntax error.

// Import formats, as the answer names them.
const (
	fmtCPAM          = "cpam_jsonl"
	fmtRecords       = "cpa_records"
	fmtLegacyExport  = "legacy_usage_export"
	fmtLegacyPayload = "legacy_usage_payload"
	fmtMixed         = "mixed"
)

// Import limits.
const (
	// maxImportLine bounds one NDJSON line (a CPA record is at most
	// usage.MaxPayloadSize).
	maxImportLine = usage.MaxPayloadSize + 64<<10
	// importBatch is how many events one commit stores.
	importBatch = 500
	// maxImportErrors is how many failures the answer lists.
	maxImportErrors = 50
	// importBufSize is the read buffer of the body.
	importBufSize = 64 << 10
)

// acceptedFormats tells a client what the import reads.
const acceptedFormats = `send one of: a caddy-cpam export (GET /v0/management/usage/export: NDJSON lines with "schema":"cpam.event.v1", or a JSON array of them), ` +
	`CPA usage records (NDJSON or a JSON array of objects with "timestamp", "tokens", "auth_index", ...), ` +
	`a CPA-Manager usage export ({"version":...,"exported_at":...,"usage":{"apis":{...}}}) or CPA's old usage object ({"apis":{...}}); gzip-compressed bodies are accepted`

// aggregateOnlyMsg refuses a legacy object without details.
const aggregateOnlyMsg = "aggregate-only export: it has totals but no per-request details, nothing can be imported"

// Import errors that decide the answer.
var (
	errEmptyBody    = errors.New("api: empty import body")
	errNotJSON      = errors.New("api: import body is not JSON")
	errNoNormalizer = errors.New("api: usage collection is not running")
)

// commitError is a failed store commit during an import.
type commitError struct{ err error }

func (e *commitError) Error() string { return "storing the imported events: " + e.err.Error() }
func (e *commitError) Unwrap() error { return e.err }

// importIssue is one failed line, array element or legacy detail.
type importIssue struct {
	// Line is the 1-based line of an NDJSON body (0: not a line).
	Line int `json:"line,omitempty"`
	// Index is the 0-based position in a JSON array, in a sequence of
	// JSON documents or among the details of a legacy export.
	Index *int   `json:"index,omitempty"`
	Error string `json:"error"`
}

// importResult is the answer of an import.
type importResult struct {
	Format   string        `json:"format"`
	Added    int           `json:"added"`
	Skipped  int           `json:"skipped"`
	Failed   int           `json:"failed"`
	Total    int           `json:"total"`
	Errors   []importIssue `json:"errors"`
	Warnings []string      `json:"warnings"`
}

// importPos is where an object of the body is: an NDJSON line (line > 0)
// or an index.
type importPos struct{ line, index int }

// importer runs one import.
type importer struct {
	ctx      context.Context
	limit    int64 // MaxImportSize
	st       *store.Store
	norm     *usage.Normalizer // nil while collection is not running
	upstream string

	pending []usage.Event
	res     importResult
	formats map[string]int
	more    int // failures beyond maxImportErrors

	aggregateOnly bool // a legacy object without details was seen
	detailIndex   int  // legacy details read so far
	legacyDetails int  // legacy details imported
	legacyUnsplit int  // legacy details whose token split is unknown
	keyedDetails  int  // legacy details grouped under an API key
}

// upstreamNamePattern is the shape of an upstream name.
var upstreamNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// importUpstream returns the upstream records without one are filed
// under: the upstream parameter, else the first configured upstream, else
// "default".
func (h *Handler) importUpstream(v url.Values) (string, error) {
	name, _, err := single(v, pUpstream)
	if err != nil {
		return "", err
	}
	if name == "" {
		if h.opts.Backend != nil {
			for _, c := range h.opts.Backend.CollectorStatus() {
				if c.Upstream != "" {
					return c.Upstream, nil
				}
			}
		}
		return "default", nil
	}
	if !upstreamNamePattern.MatchString(name) {
		return "", badParamf("upstream=%q is not an upstream name: send the name of the CPA instance the records came from (lowercase letters, digits, - and _, at most 64)", name)
	}
	return name, nil
}

// compatImport answers POST /usage/import.
func (h *Handler) compatImport(w http.ResponseWriter, r *http.Request) {
	limit := h.opts.MaxImportSize
	if r.ContentLength > limit {
		writeError(w, http.StatusRequestEntityTooLarge, "too_large",
			fmt.Sprintf("the body is %d bytes, more than the import limit of %d bytes: split the file or raise max_import_size", r.ContentLength, limit))
		return
	}
	v := r.URL.Query()
	if err := checkParams(v, compatImportParams); err != nil {
		writeCompatError(w, err)
		return
	}
	gz := false
	switch ce := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); ce {
	case "", "identity":
	case "gzip", "x-gzip":
		gz = true
	default:
		writeError(w, http.StatusUnsupportedMediaType, "unsupported_encoding",
			fmt.Sprintf("Content-Encoding %q is not supported: send the body uncompressed or gzip-compressed", ce))
		return
	}
	upstream, err := h.importUpstream(v)
	if err != nil {
		writeCompatError(w, err)
		return
	}
	s, err := h.store()
	if err != nil {
		writeCompatError(w, err)
		return
	}
	br := bufio.NewReaderSize(http.MaxBytesReader(w, r.Body, limit), importBufSize)
	if !gz {
		// A .gz file uploaded as it is.
		if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
			gz = true
		}
	}
	im := &importer{ctx: r.Context(), limit: limit, st: s, norm: h.opts.Backend.Normalizer(), upstream: upstream,
		res: importResult{Errors: []importIssue{}, Warnings: []string{}}, formats: map[string]int{}}
	if gz {
		zr, err := gzip.NewReader(br)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errEmptyBody
			}
			im.answer(w, err)
			return
		}
		defer zr.Close()
		br = bufio.NewReaderSize(&capReader{r: zr, n: limit}, importBufSize)
	}
	err = im.run(br)
	im.answer(w, err)
}

// capReader fails with *http.MaxBytesError once more than n bytes were
// read: it bounds the decompressed size of a gzip body.
type capReader struct {
	r io.Reader
	n int64 // bytes still allowed
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.n < 0 {
		return 0, &http.MaxBytesError{}
	}
	if int64(len(p)) > c.n+1 {
		p = p[:c.n+1]
	}
	n, err := c.r.Read(p)
	if int64(n) > c.n {
		n = int(c.n)
		c.n = -1
		return n, &http.MaxBytesError{}
	}
	c.n -= int64(n)
	return n, err
}

// answer writes the outcome of an import: what was stored before err
// stopped it is committed and counted.
func (im *importer) answer(w http.ResponseWriter, err error) {
	var tooLarge *http.MaxBytesError
	var cerr *commitError
	if im.ctx.Err() != nil {
		return // the client went away
	}
	if !errors.As(err, &cerr) {
		// What was read completely is kept, whatever stopped the import.
		if ferr := im.flush(); ferr != nil {
			err = ferr
		}
	}
	im.finish()
	fail := func(status int, code, msg string) {
		writeJSON(w, status, struct {
			Error string `json:"error"`
			Code  string `json:"code"`
			*importResult
		}{msg, code, &im.res})
	}
	switch {
	case errors.As(err, &tooLarge):
		fail(http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf(
			"the body (decompressed) is larger than the import limit of %d bytes; the counts show what was imported before the limit: split the file or raise max_import_size", im.limit))
	case errors.Is(err, errNoNormalizer):
		fail(http.StatusServiceUnavailable, "unavailable",
			"usage collection is not running, so CPA records and legacy exports cannot be normalised (keys hashed, costs priced); "+
				"retry once the cpam app runs with a CPA upstream (see GET /cpam/status), or import a caddy-cpam export, which needs no normalisation")
	case errors.As(err, &cerr):
		fail(http.StatusInternalServerError, "internal", cerr.Error()+"; the counts show what was stored before, and importing the same file again is safe")
	case errors.Is(err, errEmptyBody):
		fail(http.StatusBadRequest, "empty_body", "the body is empty: "+acceptedFormats)
	case errors.Is(err, errNotJSON):
		fail(http.StatusBadRequest, "unknown_format", "the body is not JSON: "+acceptedFormats)
	case err != nil:
		fail(http.StatusBadRequest, "bad_body", "the body could not be read ("+bodyErrorText(err)+"); the counts show what was imported before")
	case len(im.formats) == 0 && im.aggregateOnly:
		fail(http.StatusBadRequest, "aggregate_only", aggregateOnlyMsg)
	case len(im.formats) == 0:
		fail(http.StatusBadRequest, "unknown_format", "no usage record found in the body: "+acceptedFormats)
	default:
		writeJSON(w, http.StatusOK, &im.res)
	}
}

// bodyErrorText describes a read error of the body.
func bodyErrorText(err error) string {
	switch {
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader):
		return "the gzip data is corrupt"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the body ends early: the upload or the gzip data is truncated"
	}
	var fe flate.CorruptInputError
	if errors.As(err, &fe) {
		return "the gzip data is corrupt"
	}
	return "reading failed: " + err.Error()
}

// finish fills the totals, the format and the warnings.
func (im *importer) finish() {
	r := &im.res
	r.Total = r.Added + r.Skipped + r.Failed
	switch len(im.formats) {
	case 0:
		r.Format = ""
	case 1:
		for f := range im.formats {
			r.Format = f
		}
	default:
		r.Format = fmtMixed
		var parts []string
		for _, f := range slices.Sorted(func(yield func(string) bool) {
			for f := range im.formats {
				if !yield(f) {
					return
				}
			}
		}) {
			parts = append(parts, fmt.Sprintf("%d %s", im.formats[f], f))
		}
		r.Warnings = append(r.Warnings, "the body mixes formats: "+strings.Join(parts, ", "))
	}
	if im.legacyUnsplit > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d legacy usage details name no provider and a model whose token accounting is unknown, "+
			"so their tokens are kept as one unclassified total (the input/output split is unknown) and priced at the model's input rate", im.legacyUnsplit))
	}
	if im.keyedDetails > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d legacy details were grouped by client API key instead of endpoint (older CPA versions): "+
			"the keys were stored hashed and masked, never in clear, and these events have no endpoint", im.keyedDetails))
	}
	if im.more > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d more failures are not listed (errors lists the first %d)", im.more, maxImportErrors))
	}
}

// fail counts a failed object.
func (im *importer) fail(p importPos, msg string) {
	issue := importIssue{Line: p.line, Error: msg}
	if p.line == 0 {
		i := p.index
		issue.Index = &i
	}
	im.failIssue(issue)
}

func (im *importer) failIssue(issue importIssue) {
	im.res.Failed++
	if len(im.res.Errors) < maxImportErrors {
		im.res.Errors = append(im.res.Errors, issue)
	} else {
		im.more++
	}
}

// add queues an event and commits a full batch.
func (im *importer) add(e usage.Event) error {
	im.pending = append(im.pending, e)
	if len(im.pending) >= importBatch {
		return im.flush()
	}
	return nil
}

// flush commits the queued events.
func (im *importer) flush() error {
	if len(im.pending) == 0 {
		return nil
	}
	res, err := im.st.Commit(im.ctx, store.Batch{Events: im.pending})
	if err != nil {
		return &commitError{err}
	}
	im.res.Added += res.Stored
	im.res.Skipped += res.Duplicates
	im.pending = im.pending[:0]
	return nil
}

// run detects the body's shape and reads it.
func (im *importer) run(br *bufio.Reader) error {
	line := 1
	for {
		b, err := br.Peek(1)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return errEmptyBody
			}
			return err
		}
		switch b[0] {
		case ' ', '\t', '\r':
			_, _ = br.Discard(1)
		case '\n':
			_, _ = br.Discard(1)
			line++
		case 0xEF: // a UTF-8 byte order mark
			if bom, _ := br.Peek(3); string(bom) != "\xEF\xBB\xBF" {
				return errNotJSON
			}
			_, _ = br.Discard(3)
		case '[':
			return im.readArray(br)
		case '{', '"':
			return im.readLines(br, line)
		default:
			return errNotJSON
		}
	}
}

// readLine reads up to and including the next newline. Once more than max
// bytes are read it returns them with long set, leaving the rest of the
// line unread.
func readLine(br *bufio.Reader, max int, buf []byte) ([]byte, bool, error) {
	buf = buf[:0]
	for {
		chunk, err := br.ReadSlice('\n')
		buf = append(buf, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(buf) > max {
				return buf, true, nil
			}
			continue
		}
		return buf, len(buf) > max, err
	}
}

// skipLine discards the rest of the current line.
func skipLine(br *bufio.Reader) error {
	for {
		_, err := br.ReadSlice('\n')
		if !errors.Is(err, bufio.ErrBufferFull) {
			return err
		}
	}
}

// opensDocument reports whether the first line of a body starts a
// pretty-printed JSON document rather than holding one NDJSON value.
func opensDocument(first []byte) bool {
	if json.Valid(first) {
		return false
	}
	switch first[len(first)-1] {
	case '{', '[', ',':
		return true
	}
	return false
}

// readLines reads NDJSON, one object per line, starting at line. A first
// line that opens a multi-line document (or is too long for a line) makes
// the whole body a sequence of JSON documents instead.
func (im *importer) readLines(br *bufio.Reader, line int) error {
	var buf []byte
	first := true
	for ; ; line++ {
		b, long, err := readLine(br, maxImportLine, buf)
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if data := bytes.TrimSpace(b); len(data) > 0 {
			if first && (long || opensDocument(data)) {
				return im.readDocuments(io.MultiReader(bytes.NewReader(b), br))
			}
			first = false
			if long {
				im.fail(importPos{line: line}, fmt.Sprintf("the line is longer than %d bytes: it is not a usage record", maxImportLine))
				if !bytes.HasSuffix(b, []byte("\n")) {
					if err := skipLine(br); err != nil && !errors.Is(err, io.EOF) {
						return err
					}
				}
			} else if err := im.object(data, importPos{line: line}); err != nil {
				return err
			}
		}
		if err != nil { // io.EOF
			return nil
		}
		buf = b
	}
}

// isContentError reports whether a decoder error is about the JSON itself
// rather than reading the body.
func isContentError(err error) bool {
	var se *json.SyntaxError
	return errors.As(err, &se)
}

// readDocuments reads a sequence of JSON documents (usually one
// pretty-printed object).
func (im *importer) readDocuments(r io.Reader) error {
	dec := json.NewDecoder(r)
	for i := 0; ; i++ {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if !isContentError(err) {
				return err
			}
			if i == 0 {
				return errNotJSON
			}
			im.fail(importPos{index: i}, "not valid JSON ("+err.Error()+"); the rest of the body was not read")
			return nil
		}
		if err := im.object(raw, importPos{index: i}); err != nil {
			return err
		}
	}
}

// readArray reads a JSON array of objects.
func (im *importer) readArray(br *bufio.Reader) error {
	dec := json.NewDecoder(br)
	if _, err := dec.Token(); err != nil { // '[', seen by run
		return err
	}
	i := 0
	for ; dec.More(); i++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if !isContentError(err) {
				return err
			}
			im.fail(importPos{index: i}, "not valid JSON ("+err.Error()+"); the rest of the array was not read")
			return nil
		}
		if err := im.object(raw, importPos{index: i}); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		if !isContentError(err) {
			return err
		}
		im.fail(importPos{index: i}, "not valid JSON ("+err.Error()+"); the rest of the array was not read")
		return nil
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil && !isContentError(err) {
			return err
		}
		im.res.Warnings = append(im.res.Warnings, "data after the JSON array was ignored")
	}
	return nil
}

// shape records the first byte of a JSON value (0 when absent), so that
// the probe can tell formats apart without decoding values.
type shape byte

func (s *shape) UnmarshalJSON(b []byte) error {
	if len(b) > 0 {
		*s = shape(b[0])
	}
	return nil
}

// importProbe is what object reads to choose a format.
type importProbe struct {
	Schema         shape `json:"schema"`
	Usage          shape `json:"usage"`
	APIs           shape `json:"apis"`
	Timestamp      shape `json:"timestamp"`
	Tokens         shape `json:"tokens"`
	TokenBreakdown shape `json:"token_breakdown"`
	AuthIndex      shape `json:"auth_index"`
	RequestID      shape `json:"request_id"`
	LatencyMS      shape `json:"latency_ms"`
}

// object imports one JSON value of the body. Problems of the value are
// counted as failures; the error is for what stops the import.
func (im *importer) object(raw []byte, p importPos) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		// A record wrapped in a JSON string, as some panels store them.
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			im.fail(p, importErrorText(err))
			return nil
		}
		raw = bytes.TrimSpace([]byte(s))
	}
	if len(raw) == 0 || raw[0] != '{' {
		if !json.Valid(raw) {
			im.fail(p, "not valid JSON")
		} else {
			im.fail(p, "not a JSON object: each line or array element must be one exported event or CPA usage record")
		}
		return nil
	}
	var probe importProbe
	if err := json.Unmarshal(raw, &probe); err != nil {
		im.fail(p, importErrorText(err))
		return nil
	}
	switch {
	case probe.Schema != 0:
		return im.exported(raw, p)
	case probe.Usage == '{':
		return im.legacy(raw, true, p)
	case probe.APIs == '{':
		return im.legacy(raw, false, p)
	case probe.Timestamp != 0 || probe.Tokens != 0 || probe.TokenBreakdown != 0 || probe.AuthIndex != 0 ||
		probe.RequestID != 0 || probe.LatencyMS != 0:
		return im.record(raw, p)
	}
	im.fail(p, "not a usage record: the object has none of \"schema\", \"timestamp\", \"tokens\", \"auth_index\", \"usage\" or \"apis\"")
	return nil
}

// record imports a raw CPA usage record.
func (im *importer) record(raw []byte, p importPos) error {
	if im.norm == nil {
		return errNoNormalizer
	}
	im.formats[fmtRecords]++
	e, err := im.norm.Normalize(im.upstream, raw)
	if err != nil {
		im.fail(p, importErrorText(err))
		return nil
	}
	return im.add(e)
}

// exported imports one line of our export.
func (im *importer) exported(raw []byte, p importPos) error {
	var l exportLine
	if err := json.Unmarshal(raw, &l); err != nil {
		im.fail(p, importErrorText(err))
		return nil
	}
	if l.Schema != exportSchema {
		s := l.Schema
		if len(s) > 40 {
			s = s[:40] + "…"
		}
		im.fail(p, fmt.Sprintf("unknown schema %q: this server reads %q lines", s, exportSchema))
		return nil
	}
	im.formats[fmtCPAM]++
	e, err := eventFromExport(&l.eventJSON, im.upstream)
	if err != nil {
		im.fail(p, err.Error())
		return nil
	}
	return im.add(e)
}

// eventFromExport rebuilds the event an export line shows. The exported
// hash is kept: the store keeps times in milliseconds, so recomputing it
// would not give the original hash back and a re-import would duplicate.
func eventFromExport(v *eventJSON, upstream string) (usage.Event, error) {
	if v.Time.IsZero() {
		return usage.Event{}, errors.New(`"time" is missing: every exported event has one`)
	}
	if v.Upstream != "" {
		upstream = v.Upstream
	}
	t := v.Tokens
	e := usage.Event{
		Upstream: upstream, Time: v.Time.UTC(), RequestID: v.RequestID, AuthIndex: v.AuthIndex, AuthType: v.AuthType,
		Provider: v.Provider, ExecutorType: v.ExecutorType, Model: v.Model, Alias: v.Alias, Endpoint: v.Endpoint,
		ClientIP: v.ClientIP, XForwardedFor: v.XForwardedFor, UserAgent: v.UserAgent, Failed: v.Failed,
		StatusCode: v.StatusCode, FailBody: v.FailBody, LatencyMS: v.LatencyMS, TTFTMS: v.TTFTMS, Generate: v.Generate,
		ReasoningEffort: v.ReasoningEffort, ServiceTier: v.ServiceTier, ResponseServiceTier: v.ResponseServiceTier,
		AccessTokenSHA256: v.AccessTokenSHA256,
		Tokens: usage.Tokens{Uncached: t.Uncached, CacheRead: t.CacheRead, CacheWrite: t.CacheWrite, Output: t.Output,
			Reasoning: t.Reasoning, Unclassified: t.Unclassified, Quality: t.Quality},
		Headers: v.Headers,
		Cost:    usage.Cost{MicroUSD: v.CostMicroUSD, Priced: v.Priced},
	}
	if k := v.APIKey; k != nil {
		e.APIKey = usage.Secret{Hash: k.Hash, Mask: k.Mask}
	}
	if s := v.Source; s != nil {
		e.Source = usage.Source{Kind: s.Kind, Value: s.Value}
		if s.Key != nil {
			e.Source.Key = usage.Secret{Hash: s.Key.Hash, Mask: s.Key.Mask}
		}
	}
	if a := v.Account; a != nil {
		e.Account = usage.Account{Label: a.Label, Email: a.Email, Provider: a.Provider, ProjectID: a.ProjectID, FileName: a.FileName}
	}
	switch {
	case v.Hash == "":
		e.Hash = usage.EventHash(&e)
	case len(v.Hash) == 2*len(e.Hash):
		if _, err := hex.Decode(e.Hash[:], []byte(v.Hash)); err != nil {
			return usage.Event{}, errors.New(`"hash" must be 32 hex digits, or left out to be computed`)
		}
	default:
		return usage.Event{}, errors.New(`"hash" must be 32 hex digits, or left out to be computed`)
	}
	return e, nil
}

// legacyDetailIn is one detail of a legacy usage object.
type legacyDetailIn struct {
	Timestamp string             `json:"timestamp"`
	LatencyMS int64              `json:"latency_ms"`
	Source    string             `json:"source"`
	AuthIndex string             `json:"auth_index"`
	Tokens    usage.LegacyTokens `json:"tokens"`
	Failed    bool               `json:"failed"`
}

// legacyIn is the part of a legacy usage object an import reads.
type legacyIn struct {
	APIs map[string]struct {
		Models map[string]struct {
			Details []json.RawMessage `json:"details"`
		} `json:"models"`
	} `json:"apis"`
}

// legacy imports the details of a legacy usage object: wrapped (the
// CPA-Manager export, {"usage": {...}}) or not (CPA's old GET /usage).
func (im *importer) legacy(raw []byte, wrapped bool, p importPos) error {
	if im.norm == nil {
		return errNoNormalizer
	}
	var u legacyIn
	var err error
	if wrapped {
		var w struct {
			Usage legacyIn `json:"usage"`
		}
		err = json.Unmarshal(raw, &w)
		u = w.Usage
	} else {
		err = json.Unmarshal(raw, &u)
	}
	if err != nil {
		im.fail(p, "a legacy usage object that cannot be read: "+importErrorText(err))
		return nil
	}
	n := 0
	for _, api := range u.APIs {
		for _, m := range api.Models {
			n += len(m.Details)
		}
	}
	if n == 0 {
		im.aggregateOnly = true
		im.fail(p, aggregateOnlyMsg)
		return nil
	}
	if wrapped {
		im.formats[fmtLegacyExport]++
	} else {
		im.formats[fmtLegacyPayload]++
	}
	for _, key := range slices.Sorted(mapKeys(u.APIs)) {
		api := u.APIs[key]
		endpoint := endpointPattern.MatchString(key)
		for _, model := range slices.Sorted(mapKeys(api.Models)) {
			for _, d := range api.Models[model].Details {
				idx := im.detailIndex
				im.detailIndex++
				failDetail := func(msg string) {
					i := idx
					im.failIssue(importIssue{Line: p.line, Index: &i, Error: fmt.Sprintf("detail %d of model %q: %s", idx, model, msg)})
				}
				var ld legacyDetailIn
				if err := json.Unmarshal(d, &ld); err != nil {
					failDetail(importErrorText(err))
					continue
				}
				ts, err := time.Parse(time.RFC3339Nano, ld.Timestamp)
				if err != nil || ts.IsZero() {
					failDetail(`missing or invalid "timestamp": details need an RFC 3339 time`)
					continue
				}
				rec := usage.Record{Timestamp: ld.Timestamp, Time: ts, LatencyMS: ld.LatencyMS, Source: ld.Source,
					AuthIndex: ld.AuthIndex, Tokens: ld.Tokens, Failed: ld.Failed, Model: model}
				switch {
				case endpoint:
					rec.Endpoint = key
				case key != "" && key != unknownKey:
					// Older CPA versions grouped by the client's API key:
					// the normaliser hashes it like any record's key.
					rec.APIKey = key
					im.keyedDetails++
				}
				e, err := im.norm.NormalizeRecord(im.upstream, &rec)
				if err != nil {
					failDetail(importErrorText(err))
					continue
				}
				if fam := usage.ModelFamily(model); fam != usage.FamilyUnknown {
					// The details name no provider; the model name tells
					// how its counters overlap, so the split and the
					// price come out right.
					e.Tokens = usage.DeriveTokens(fam, rec.Tokens)
					e.Cost, _ = im.norm.Prices().Cost(e.Model, e.Alias, e.Tokens)
					e.Hash = usage.EventHash(&e)
				} else {
					im.legacyUnsplit++
				}
				im.legacyDetails++
				if err := im.add(e); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// mapKeys yields the keys of m.
func mapKeys[V any](m map[string]V) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// importErrorText describes why a value could not be imported without
// echoing its content (a record may hold keys).
func importErrorText(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var pe *time.ParseError
	switch {
	case errors.Is(err, usage.ErrTimestamp):
		return `missing or invalid "timestamp": records need an RFC 3339 time`
	case errors.Is(err, usage.ErrTooLarge):
		return fmt.Sprintf("the record is larger than %d bytes", usage.MaxPayloadSize)
	case errors.Is(err, usage.ErrControl):
		return "a subscription control message, not a usage record"
	case errors.Is(err, usage.ErrEmpty):
		return "an empty record"
	case errors.Is(err, usage.ErrNotObject):
		return "not a JSON object"
	case errors.As(err, &se):
		return fmt.Sprintf("not valid JSON (%s)", se.Error())
	case errors.As(err, &te):
		// Fields of an export line sit in the embedded eventJSON.
		field := strings.TrimPrefix(te.Field, "eventJSON.")
		if field == "" {
			field = "the value"
		} else {
			field = fmt.Sprintf("%q", field)
		}
		return fmt.Sprintf("%s is %s, expected %s", field, te.Value, jsonKind(te.Type))
	case errors.As(err, &pe), strings.Contains(err.Error(), "Time.UnmarshalJSON"):
		return "a time is not an RFC 3339 string"
	}
	return "the object could not be decoded"
}

// jsonKind names the JSON type a Go type decodes from.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8,
		reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "another type"
}
