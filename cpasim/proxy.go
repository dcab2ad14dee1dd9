package cpasim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/cpam-caddy/cpam/cpasim/mgmt"
)

// DefaultClientKey is the first client key of the default configuration.
const DefaultClientKey = "sk-cpa-test-1"

// maxRequestBody bounds a /v1 request body.
const maxRequestBody = 8 << 20

// mockReply is the assistant text of every successful completion.
const mockReply = "Hello from the CPA simulator."

// route is one of the simulated proxy routes.
type route int

const (
	routeChat route = iota
	routeMessages
	routeResponses
)

func (r route) endpoint() string {
	switch r {
	case routeMessages:
		return "POST /v1/messages"
	case routeResponses:
		return "POST /v1/responses"
	}
	return "POST /v1/chat/completions"
}

// proxyRequest holds the fields of a /v1 request body the simulator reads.
type proxyRequest struct {
	Model         string `json:"model"`
	Stream        bool   `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	Messages []struct {
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Input           json.RawMessage `json:"input"`
	System          json.RawMessage `json:"system"`
	Generate        *bool           `json:"generate"`
	ServiceTier     string          `json:"service_tier"`
	ReasoningEffort string          `json:"reasoning_effort"`
	Reasoning       *struct {
		Effort string `json:"effort"`
	} `json:"reasoning"`
}

// contentLen is the prompt size the simulated upstream bills for.
func (p *proxyRequest) contentLen() int {
	n := textLen(p.Input) + textLen(p.System)
	for _, m := range p.Messages {
		n += textLen(m.Content)
	}
	return n
}

// textLen is the length of a JSON string, or of the raw JSON otherwise.
func textLen(raw json.RawMessage) int {
	if len(raw) == 0 {
		return 0
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return len(s)
	}
	return len(raw)
}

// clientKey finds a valid client API key: Authorization Bearer,
// X-Goog-Api-Key, X-Api-Key, ?key= or ?auth_token=. It reports whether any
// key was sent at all.
func (s *Server) clientKey(r *http.Request) (key string, sent bool) {
	var candidates []string
	if ah := r.Header.Get("Authorization"); ah != "" {
		if parts := strings.SplitN(ah, " ", 2); len(parts) == 2 && strings.EqualFold(parts[0], "bearer") {
			candidates = append(candidates, strings.TrimSpace(parts[1]))
		} else {
			candidates = append(candidates, ah)
		}
	}
	q := r.URL.Query()
	candidates = append(candidates,
		r.Header.Get("X-Goog-Api-Key"), r.Header.Get("X-Api-Key"), q.Get("key"), q.Get("auth_token"))
	for _, c := range candidates {
		if c == "" {
			continue
		}
		sent = true
		if s.state.ClientKeyValid(c) {
			return c, true
		}
	}
	return "", sent
}

// authenticateClient answers 401 when the request carries no valid key.
func (s *Server) authenticateClient(w http.ResponseWriter, r *http.Request) (string, bool) {
	key, sent := s.clientKey(r)
	if key != "" {
		return key, true
	}
	msg := "Invalid API key"
	if !sent {
		msg = "Missing API key"
	}
	writeJSON(w, http.StatusUnauthorized, map[string]string{"error": msg})
	return "", false
}

// serveModels answers GET /v1/models with the OpenAI model list.
func (s *Server) serveModels(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		notFound(w)
		return
	}
	if _, ok := s.authenticateClient(w, r); !ok {
		return
	}
	type model struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	data := []model{}
	for _, m := range s.state.Models() {
		owner := "cliproxyapi"
		if creds := s.credentials(m); len(creds) > 0 && creds[0].Label != "" {
			owner = creds[0].Label
		}
		data = append(data, model{ID: m, Object: "model", Created: modelsCreated, OwnedBy: owner})
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "object": "list"})
}

// modelsCreated is the created timestamp reported for every model.
const modelsCreated = 1767225600

// newRequestID returns CPA's 8-hex request id.
func newRequestID() string { return fmt.Sprintf("%08x", rand.Uint32()) }

// requestMeta is what a record takes from the downstream request.
type requestMeta struct {
	route           route
	requestID       string
	apiKey          string
	clientIP        string
	xForwardedFor   string
	userAgent       string
	model           string
	generate        bool
	serviceTier     string
	reasoningEffort string
}

// serveProxy handles a /v1 completion route with failover across
// credentials; every upstream attempt produces one record. Each failed
// attempt updates the request's error log (kept while request-log is off)
// and, while request-log is on, every request gets a full request log.
func (s *Server) serveProxy(w http.ResponseWriter, r *http.Request, rt route) {
	if r.Method != http.MethodPost {
		notFound(w)
		return
	}
	meta := requestMeta{route: rt, requestID: newRequestID()}
	start := s.opts.Now()
	xl := newExchangeLog(r, s.opts.Version, meta.requestID, start)
	status := s.proxy(w, r, &meta, xl)
	if s.state.RequestLogEnabled() {
		s.state.WriteRequestLog(meta.requestID, rt.endpoint(), start, xl.requestLog(status))
	}
}

// proxy serves one /v1 request and returns the status sent downstream.
func (s *Server) proxy(w http.ResponseWriter, r *http.Request, meta *requestMeta, xl *exchangeLog) int {
	key, ok := s.authenticateClient(w, r)
	if !ok {
		return http.StatusUnauthorized
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody))
	xl.body(raw)
	var req proxyRequest
	if err == nil {
		err = json.Unmarshal(raw, &req)
	}
	if err != nil || req.Model == "" {
		writeJSON(w, http.StatusBadRequest, openAIError("invalid request: model is required", "invalid_request_error", ""))
		return http.StatusBadRequest
	}
	creds := s.credentials(req.Model)
	if len(creds) == 0 {
		writeJSON(w, http.StatusBadGateway, openAIError("unknown provider for model "+req.Model, "server_error", "internal_server_error"))
		return http.StatusBadGateway
	}
	rt := meta.route
	meta.apiKey = key
	meta.clientIP = peerIP(r.RemoteAddr)
	meta.xForwardedFor = strings.Join(r.Header.Values("X-Forwarded-For"), ", ")
	meta.userAgent = r.UserAgent()
	meta.model = req.Model
	meta.generate = req.Generate == nil || *req.Generate
	meta.serviceTier = req.ServiceTier
	if meta.serviceTier == "" {
		meta.serviceTier = "auto"
		if rt == routeMessages {
			meta.serviceTier = "default"
		}
	}
	switch {
	case req.ReasoningEffort != "":
		meta.reasoningEffort = req.ReasoningEffort
	case req.Reasoning != nil:
		meta.reasoningEffort = req.Reasoning.Effort
	}

	attempts := min(len(creds), max(s.requestRetry(), 0)+1)
	var last attempt
	for i := range attempts {
		cred := creds[i]
		upModel := cred.UpstreamModel(req.Model)
		a := s.callUpstream(r.Context(), cred, upModel, req.contentLen(), req.Stream)
		s.state.RecordAttempt(cred.AuthIndex, a.failed(), a.start)
		s.state.AppendLog(meta.requestID, fmt.Sprintf("%d | %s | %s | %s | model=%s auth_index=%s",
			a.status, rt.endpoint(), meta.clientIP, cred.Provider, upModel, cred.AuthIndex))
		xl.attempt(cred, upModel, &a)
		if a.failed() {
			s.submitRecord(meta, cred, &a, s.opts.Now())
			s.state.WriteErrorLog(meta.requestID, rt.endpoint(), a.start, xl.errorLog())
			ev := s.errorEvent(cred, upModel, &a)
			if data, err := json.Marshal(ev); err == nil {
				s.disp.submit(item{channel: ChannelErrors, data: data, publishOnly: true})
			}
			last = a
			if r.Context().Err() != nil {
				return last.status
			}
			continue
		}
		s.up.noteResult(cred.AuthIndex, upModel, false)
		if req.Stream {
			s.writeStream(w, &req, meta, cred, &a)
		} else {
			s.submitRecord(meta, cred, &a, s.opts.Now())
			writeRaw(w, http.StatusOK, "application/json", completionBody(rt, meta.requestID, req.Model, s.opts.Now().Unix(), a.usage))
		}
		return http.StatusOK
	}
	writeRaw(w, last.status, "application/json", []byte(last.body))
	return last.status
}

// submitRecord builds the record of one attempt and hands it to the
// dispatcher, when usage records are enabled.
func (s *Server) submitRecord(m *requestMeta, c mgmt.Credential, a *attempt, end time.Time) {
	if !s.usageEnabled() {
		return
	}
	rec := &Record{
		Timestamp:         a.start.Local(),
		LatencyMs:         end.Sub(a.start).Milliseconds(),
		TTFTMs:            a.ttft.Milliseconds(),
		Source:            c.Source,
		AuthIndex:         c.AuthIndex,
		ClientIP:          m.clientIP,
		XForwardedFor:     m.xForwardedFor,
		UserAgent:         m.userAgent,
		Failed:            a.failed(),
		Generate:          m.generate,
		Fail:              Fail{StatusCode: a.status},
		ResponseHeaders:   a.headers,
		AccountingVersion: AccountingVersion,
		Provider:          orUnknown(c.Provider),
		ExecutorType:      c.ExecutorType,
		Model:             orUnknown(a.model),
		Alias:             m.model,
		Endpoint:          m.route.endpoint(),
		AuthType:          orUnknown(c.AuthType),
		APIKey:            m.apiKey,
		RequestID:         m.requestID,
		ReasoningEffort:   m.reasoningEffort,
		ServiceTier:       m.serviceTier,
	}
	if a.failed() {
		rec.Fail.Body = a.body
		rec.Tokens = Tokens{CacheReadTokensPresent: true}
	} else {
		rec.Tokens = a.usage.TokensFor(ProviderFamily(rec.Provider))
	}
	rec.TokenBreakdown = BuildBreakdown(ProviderFamily(rec.Provider), rec.Tokens)
	s.submitEncoded(rec)
}

func (s *Server) submitEncoded(rec *Record) {
	data, err := encodeRecord(rec, s.opts.OldCPA)
	if err != nil {
		s.opts.ErrorLog.Printf("cpasim: encode record: %v", err)
		return
	}
	s.disp.submit(item{channel: ChannelUsage, data: data})
}

func orUnknown(v string) string {
	if v == "" {
		return "unknown"
	}
	return v
}

// Produce publishes rec as if an upstream attempt had just finished. It
// reports false when usage records are disabled (no secret, statistics
// off, or Home mode).
func (s *Server) Produce(rec Record) bool {
	if !s.usageEnabled() {
		return false
	}
	s.submitEncoded(&rec)
	return true
}

// Emit produces n successful records of the default request (a
// non-stream chat completion of mock-gpt by the default client key)
// without HTTP, returning how many were produced.
func (s *Server) Emit(ctx context.Context, n int) (int, error) {
	model := "mock-gpt"
	creds := s.credentials(model)
	if len(creds) == 0 {
		if models := s.state.Models(); len(models) > 0 {
			model = models[0]
			creds = s.credentials(model)
		}
	}
	cred := mgmt.Credential{Provider: "unknown", AuthType: "unknown"}
	if len(creds) > 0 {
		cred = creds[0]
	}
	produced := 0
	for range n {
		if err := ctx.Err(); err != nil {
			return produced, fmt.Errorf("cpasim: emit: %w", err)
		}
		if !s.usageEnabled() {
			return produced, nil
		}
		start := s.opts.Now()
		a := attempt{
			model:  cred.UpstreamModel(model),
			start:  start,
			status: http.StatusOK,
			usage:  DefaultUsage,
			headers: map[string][]string{
				"Content-Type":                   {"application/json"},
				"X-Ratelimit-Remaining-Requests": {"99"},
				"X-Request-Id":                   {"mock-emit"},
			},
		}
		meta := requestMeta{
			route: routeChat, requestID: newRequestID(), apiKey: DefaultClientKey,
			clientIP: "127.0.0.1", userAgent: "cpa-sim-emit", model: model,
			generate: true, serviceTier: "auto",
		}
		s.state.RecordAttempt(cred.AuthIndex, false, start)
		s.submitRecord(&meta, cred, &a, start)
		produced++
	}
	return produced, nil
}

// openAIError is the OpenAI-style error object.
func openAIError(msg, typ, code string) map[string]any {
	e := map[string]any{"message": msg, "type": typ}
	if code != "" {
		e["code"] = code
	}
	return map[string]any{"error": e}
}

func writeRaw(w http.ResponseWriter, status int, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// StartEmitting produces batch records every interval in the background
// (steady traffic for tests) until stop is called. stop waits until every
// record has been published or queued and returns how many were produced.
func (s *Server) StartEmitting(batch int, every time.Duration) (stop func() (int, error)) {
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		total := 0
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			n, err := s.Emit(ctx, batch)
			total += n
			if err != nil && ctx.Err() == nil {
				done <- result{total, err}
				return
			}
			select {
			case <-ctx.Done():
				done <- result{total, s.Sync(context.Background())}
				return
			case <-t.C:
			}
		}
	}()
	return func() (int, error) {
		cancel()
		r := <-done
		return r.n, r.err
	}
}
