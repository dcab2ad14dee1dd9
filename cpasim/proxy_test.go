package cpasim

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cpam-caddy/cpam/cpasim/mgmt"
)

var hex8 = regexp.MustCompile(`^[0-9a-f]{8}$`)

func TestRecordSchema(t *testing.T) {
	clock := newFakeClock()
	s := newTestServer(t, func(o *Options) { o.Now = clock.Now })
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/v1/chat/completions", strings.NewReader(chatBody))
	req.Header.Set("Authorization", "Bearer sk-cpa-test-1")
	req.Header.Set("User-Agent", "curl/7.88.1")
	req.Header.Add("X-Forwarded-For", "203.0.113.7")
	req.Header.Add("X-Forwarded-For", "198.51.100.9")
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != 200 || body["object"] != "chat.completion" {
		t.Fatalf("chat: %d %v", resp.StatusCode, body)
	}
	u := body["usage"].(map[string]any)
	if u["prompt_tokens"] != 12.0 || u["completion_tokens"] != 7.0 || u["total_tokens"] != 19.0 {
		t.Fatalf("usage %v", u)
	}

	syncServer(t, s)
	raw := mgmtGet(t, s, "/usage-queue", nil).body
	raw = strings.TrimSuffix(strings.TrimPrefix(raw, "["), "]")
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"accounting_version", "alias", "api_key", "auth_index", "auth_type", "client_ip", "endpoint",
		"executor_type", "fail", "failed", "generate", "latency_ms", "model", "provider", "reasoning_effort",
		"request_id", "response_headers", "service_tier", "source", "timestamp", "token_breakdown", "tokens",
		"ttft_ms", "user_agent", "x_forwarded_for"}
	if !slices.Equal(keys, want) {
		t.Fatalf("record keys\n got %v\nwant %v", keys, want)
	}
	exact := map[string]string{
		"timestamp":          `"` + clock.Now().Local().Format(time.RFC3339Nano) + `"`,
		"latency_ms":         `0`,
		"ttft_ms":            `0`,
		"source":             `"sk-mock-upstream"`,
		"auth_index":         `"` + mgmt.AuthIndex("openai-compatibility:http://127.0.0.1:18080/v1+sk-mock-upstream") + `"`,
		"client_ip":          `"127.0.0.1"`,
		"x_forwarded_for":    `"203.0.113.7, 198.51.100.9"`,
		"user_agent":         `"curl/7.88.1"`,
		"tokens":             `{"input_tokens":12,"output_tokens":7,"reasoning_tokens":2,"cached_tokens":4,"cache_read_tokens":4,"cache_read_tokens_present":true,"cache_creation_tokens":0,"total_tokens":19}`,
		"failed":             `false`,
		"generate":           `true`,
		"fail":               `{"status_code":200,"body":""}`,
		"accounting_version": `2`,
		"token_breakdown":    `{"schema_version":2,"quality":"complete","total_tokens":19,"input":{"total_tokens":12,"uncached_tokens":8,"cache_read_tokens":4,"cache_write_tokens":0},"output":{"total_tokens":7,"non_reasoning_tokens":5,"reasoning_tokens":2},"unclassified_tokens":0}`,
		"provider":           `"openai-compatible-mock"`,
		"executor_type":      `"OpenAICompatExecutor"`,
		"model":              `"mock-gpt"`,
		"alias":              `"mock-gpt"`,
		"endpoint":           `"POST /v1/chat/completions"`,
		"auth_type":          `"apikey"`,
		"api_key":            `"sk-cpa-test-1"`,
		"reasoning_effort":   `""`,
		"service_tier":       `"auto"`,
	}
	for k, v := range exact {
		if string(m[k]) != v {
			t.Errorf("%s = %s, want %s", k, m[k], v)
		}
	}
	var rid string
	_ = json.Unmarshal(m["request_id"], &rid)
	if !hex8.MatchString(rid) {
		t.Errorf("request_id %q", rid)
	}
	var hdr map[string][]string
	_ = json.Unmarshal(m["response_headers"], &hdr)
	for _, h := range []string{"X-Ratelimit-Remaining-Requests", "X-Request-Id", "Content-Type", "Content-Length", "Date"} {
		if len(hdr[h]) != 1 {
			t.Errorf("response_headers lacks %s: %v", h, hdr)
		}
	}
}

func TestOldCPARecords(t *testing.T) {
	s := newTestServer(t, func(o *Options) { o.OldCPA = true })
	chat(t, s, chatBody, nil)
	recs := popAll(t, s)
	if len(recs) != 1 {
		t.Fatalf("records: %d", len(recs))
	}
	for _, k := range []string{"token_breakdown", "accounting_version", "client_ip", "x_forwarded_for", "user_agent"} {
		if _, ok := recs[0][k]; ok {
			t.Errorf("old record has %s", k)
		}
	}
	if recs[0]["tokens"] == nil || recs[0]["request_id"] == nil {
		t.Errorf("old record lacks base fields: %v", recs[0])
	}
	if v := mgmtGet(t, s, "/usage-queue", nil).header.Get("X-CPA-VERSION"); v != OldVersion {
		t.Errorf("old version header %q", v)
	}
}

func TestFailedAttemptAndErrorsChannel(t *testing.T) {
	s := newTestServer(t, nil)
	errs := dialRESP(t, s)
	errs.auth()
	errs.subscribe(ChannelErrors)

	res := chat(t, s, `{"model":"mock-fail","messages":[{"role":"user","content":"hi"}]}`, nil)
	expectHTTP(t, res, 429, bodyRateLimited)
	recs := popAll(t, s)
	if len(recs) != 1 {
		t.Fatalf("records: %v", recs)
	}
	r := recs[0]
	b, _ := json.Marshal(r["fail"])
	if r["failed"] != true || string(b) != `{"body":"{\"error\":{\"message\":\"mock rate limit\",\"type\":\"rate_limit_error\",\"code\":\"rate_limited\"}}","status_code":429}` {
		t.Fatalf("fail: %v %s", r["failed"], b)
	}
	tok := r["tokens"].(map[string]any)
	if tok["total_tokens"] != 0.0 || tok["input_tokens"] != 0.0 || r["model"] != "mock-fail" {
		t.Fatalf("failed tokens: %v", r)
	}
	if tb := r["token_breakdown"].(map[string]any); tb["quality"] != "complete" || tb["total_tokens"] != 0.0 {
		t.Fatalf("failed breakdown: %v", tb)
	}
	if h := r["response_headers"].(map[string]any); h["X-Request-Id"] == nil {
		t.Fatalf("failed record lacks headers: %v", h)
	}

	var ev map[string]any
	if err := json.Unmarshal([]byte(errs.message("errors")), &ev); err != nil {
		t.Fatal(err)
	}
	if _, ok := ev["request_id"]; ok {
		t.Errorf("error event carries request_id")
	}
	if !regexp.MustCompile(`^openai-compatibility:mock:[0-9a-f]{12}$`).MatchString(ev["auth_id"].(string)) {
		t.Errorf("auth_id %v", ev["auth_id"])
	}
	if ev["status_code"] != 429.0 || ev["code"] != "rate_limited" || ev["retryable"] != true ||
		ev["provider"] != "openai-compatible-mock" || ev["model"] != "mock-fail" || ev["auth_index"] != r["auth_index"] {
		t.Errorf("event %v", ev)
	}
	st := ev["auth_status"].(map[string]any)
	q := st["quota"].(map[string]any)
	mod := st["model"].(map[string]any)
	if q["exceeded"] != true || q["reason"] != "quota" || q["backoff_level"] != 1.0 || mod["unavailable"] != true {
		t.Errorf("auth_status %v", st)
	}
	chat(t, s, `{"model":"mock-fail","messages":[]}`, nil)
	_ = json.Unmarshal([]byte(errs.message("errors")), &ev)
	if lvl := ev["auth_status"].(map[string]any)["quota"].(map[string]any)["backoff_level"]; lvl != 2.0 {
		t.Errorf("backoff level %v", lvl)
	}
	// Errors are never queued.
	syncServer(t, s)
	if s.QueueLen() != 1 {
		t.Fatalf("queue %d", s.QueueLen())
	}
}

func failoverCreds() []mgmt.Credential {
	mk := func(key string) mgmt.Credential {
		return mgmt.Credential{
			AuthIndex:    mgmt.AuthIndex("openai-compatibility:http://127.0.0.1:18080/v1+" + key),
			Provider:     "openai-compatible-mock",
			ExecutorType: "OpenAICompatExecutor",
			AuthType:     "apikey",
			Source:       key,
			Label:        "mock",
			Models:       []string{"mock-gpt"},
		}
	}
	return []mgmt.Credential{mk(SourceBusy), mk("sk-mock-upstream")}
}

func checkFailover(t *testing.T, recs []map[string]any) {
	t.Helper()
	if len(recs) != 2 {
		t.Fatalf("want 2 records, got %d", len(recs))
	}
	a, b := recs[0], recs[1]
	if a["request_id"] != b["request_id"] || !hex8.MatchString(a["request_id"].(string)) {
		t.Fatalf("request ids %v %v", a["request_id"], b["request_id"])
	}
	ta, tb := a["tokens"].(map[string]any), b["tokens"].(map[string]any)
	fa, fb := a["fail"].(map[string]any), b["fail"].(map[string]any)
	if a["source"] != SourceBusy || a["failed"] != true || fa["status_code"] != 503.0 || ta["total_tokens"] != 0.0 {
		t.Fatalf("first attempt %v", a)
	}
	if b["source"] != "sk-mock-upstream" || b["failed"] != false || fb["status_code"] != 200.0 || tb["total_tokens"] != 19.0 {
		t.Fatalf("second attempt %v", b)
	}
}

func TestFailover(t *testing.T) {
	s := newTestServer(t, nil)
	s.setUpstreamSeams(func(string) []mgmt.Credential { return failoverCreds() }, func() int { return 1 })
	if res := chat(t, s, chatBody, nil); res.status != 200 {
		t.Fatalf("client must see 200, got %d %s", res.status, res.body)
	}
	checkFailover(t, popAll(t, s))

	// Without retry the 503 reaches the client.
	s.setUpstreamSeams(nil, func() int { return 0 })
	expectHTTP(t, chat(t, s, chatBody, nil), 503, bodyBusy)
	if recs := popAll(t, s); len(recs) != 1 || recs[0]["failed"] != true {
		t.Fatalf("no-retry records: %v", recs)
	}
}

func TestFailoverViaManagementAPI(t *testing.T) {
	s := newTestServer(t, nil)
	auth := map[string]string{"Authorization": "Bearer " + testKey, "Content-Type": "application/json"}
	res := doHTTP(t, http.MethodPut, s.URL()+"/v0/management/openai-compatibility", auth,
		`[{"name":"mock","base-url":"http://127.0.0.1:18080/v1","api-key-entries":[{"api-key":"sk-mock-busy"},{"api-key":"sk-mock-upstream"}],"models":[{"name":"mock-gpt","alias":"mock-gpt"}]}]`)
	expectHTTP(t, res, 200, `{"status":"ok"}`)
	expectHTTP(t, doHTTP(t, http.MethodPut, s.URL()+"/v0/management/request-retry", auth, `{"value":1}`), 200, `{"status":"ok"}`)
	if res := chat(t, s, chatBody, nil); res.status != 200 {
		t.Fatalf("chat: %d %s", res.status, res.body)
	}
	checkFailover(t, popAll(t, s))
}

func TestClientKeys(t *testing.T) {
	s := newTestServer(t, nil)
	url := s.URL() + "/v1/chat/completions"
	expectHTTP(t, doHTTP(t, http.MethodPost, url, nil, chatBody), 401, `{"error":"Missing API key"}`)
	expectHTTP(t, doHTTP(t, http.MethodPost, url, map[string]string{"Authorization": "Bearer sk-wrong"}, chatBody),
		401, `{"error":"Invalid API key"}`)
	expectHTTP(t, doHTTP(t, http.MethodPost, url, map[string]string{"Authorization": "Bearer " + testKey}, chatBody),
		401, `{"error":"Invalid API key"}`)
	syncServer(t, s)
	if s.QueueLen() != 0 {
		t.Fatalf("rejected requests produced records")
	}
	for _, c := range []struct {
		hdr   map[string]string
		query string
	}{
		{map[string]string{"X-Api-Key": "sk-cpa-test-2"}, ""},
		{map[string]string{"X-Goog-Api-Key": "sk-cpa-test-2"}, ""},
		{nil, "?key=sk-cpa-test-2"},
		{nil, "?auth_token=sk-cpa-test-2"},
		{map[string]string{"Authorization": "sk-cpa-test-2"}, ""},
	} {
		if res := doHTTP(t, http.MethodPost, url+c.query, c.hdr, chatBody); res.status != 200 {
			t.Fatalf("%v %s: %d %s", c.hdr, c.query, res.status, res.body)
		}
	}
	for _, r := range popAll(t, s) {
		if r["api_key"] != "sk-cpa-test-2" {
			t.Fatalf("api_key %v", r["api_key"])
		}
	}
	// Management keys do not open /v1 and client keys do not open management.
	expectHTTP(t, doHTTP(t, http.MethodGet, s.URL()+"/v0/management/usage-queue",
		map[string]string{"Authorization": "Bearer sk-cpa-test-1"}, ""), 401, `{"error":"invalid management key"}`)
}

func TestModels(t *testing.T) {
	s := newTestServer(t, nil)
	expectHTTP(t, doHTTP(t, http.MethodGet, s.URL()+"/v1/models", nil, ""), 401, `{"error":"Missing API key"}`)
	res := doHTTP(t, http.MethodGet, s.URL()+"/v1/models", map[string]string{"Authorization": "Bearer sk-cpa-test-1"}, "")
	var list struct {
		Object string `json:"object"`
		Data   []struct {
			ID      string `json:"id"`
			Object  string `json:"object"`
			Created int64  `json:"created"`
			OwnedBy string `json:"owned_by"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(res.body), &list); err != nil || list.Object != "list" {
		t.Fatalf("models: %v %s", err, res.body)
	}
	var ids []string
	for _, d := range list.Data {
		if d.Object != "model" || d.Created == 0 || d.OwnedBy == "" {
			t.Fatalf("entry %+v", d)
		}
		ids = append(ids, d.ID)
	}
	if !slices.Contains(ids, "mock-gpt") || !slices.Contains(ids, "mock-fail") {
		t.Fatalf("ids %v", ids)
	}
}

func TestStreamingAndRoutes(t *testing.T) {
	s := newTestServer(t, nil)
	res := chat(t, s, `{"model":"mock-gpt","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`, nil)
	if res.status != 200 || res.header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %v", res.status, res.header)
	}
	if !strings.HasSuffix(res.body, "data: [DONE]\n\n") || !strings.Contains(res.body, `"usage":{"completion_tokens":7,`) ||
		!strings.Contains(res.body, `"object":"chat.completion.chunk"`) {
		t.Fatalf("stream body %q", res.body)
	}
	res = chat(t, s, `{"model":"mock-gpt","stream":true,"messages":[{"role":"user","content":"hi"}]}`, nil)
	if strings.Contains(res.body, `"usage"`) || !strings.HasSuffix(res.body, "data: [DONE]\n\n") {
		t.Fatalf("usage chunk without include_usage: %q", res.body)
	}

	h := map[string]string{"X-Api-Key": "sk-cpa-test-2", "Content-Type": "application/json"}
	res = doHTTP(t, http.MethodPost, s.URL()+"/v1/messages", h, `{"model":"mock-gpt","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}`)
	if res.status != 200 || !strings.Contains(res.body, `"type":"message"`) {
		t.Fatalf("messages: %d %s", res.status, res.body)
	}
	res = doHTTP(t, http.MethodPost, s.URL()+"/v1/messages", h, `{"model":"mock-gpt","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	if !strings.Contains(res.body, "event: message_stop\n") {
		t.Fatalf("messages stream: %s", res.body)
	}
	res = doHTTP(t, http.MethodPost, s.URL()+"/v1/responses", h, `{"model":"mock-gpt","input":"hi","reasoning":{"effort":"high"}}`)
	if res.status != 200 || !strings.Contains(res.body, `"object":"response"`) {
		t.Fatalf("responses: %d %s", res.status, res.body)
	}
	res = doHTTP(t, http.MethodPost, s.URL()+"/v1/responses", h, `{"model":"mock-gpt","input":"hi","stream":true,"generate":false}`)
	if !strings.Contains(res.body, "event: response.completed\n") {
		t.Fatalf("responses stream: %s", res.body)
	}

	recs := popAll(t, s)
	if len(recs) != 6 {
		t.Fatalf("records: %d", len(recs))
	}
	type want struct{ endpoint, tier, effort string }
	wants := []want{
		{"POST /v1/chat/completions", "auto", ""},
		{"POST /v1/chat/completions", "auto", ""},
		{"POST /v1/messages", "default", ""},
		{"POST /v1/messages", "default", ""},
		{"POST /v1/responses", "auto", "high"},
		{"POST /v1/responses", "auto", ""},
	}
	for i, r := range recs {
		w := wants[i]
		if r["endpoint"] != w.endpoint || r["service_tier"] != w.tier || r["reasoning_effort"] != w.effort {
			t.Errorf("record %d: %v %v %v", i, r["endpoint"], r["service_tier"], r["reasoning_effort"])
		}
		if r["tokens"].(map[string]any)["total_tokens"] != 19.0 {
			t.Errorf("record %d tokens %v", i, r["tokens"])
		}
	}
	if recs[0]["ttft_ms"] != 0.0 {
		t.Errorf("stream ttft %v", recs[0]["ttft_ms"])
	}
	if recs[5]["generate"] != false || recs[4]["generate"] != true {
		t.Errorf("generate flags %v %v", recs[4]["generate"], recs[5]["generate"])
	}
	if recs[2]["api_key"] != "sk-cpa-test-2" {
		t.Errorf("messages api_key %v", recs[2]["api_key"])
	}
}

func TestUsageStatisticsDisabled(t *testing.T) {
	s := newTestServer(t, nil)
	chat(t, s, chatBody, nil)
	auth := map[string]string{"Authorization": "Bearer " + testKey, "Content-Type": "application/json"}
	expectHTTP(t, doHTTP(t, http.MethodPut, s.URL()+"/v0/management/usage-statistics-enabled", auth, `{"value":false}`),
		200, `{"status":"ok"}`)
	chat(t, s, chatBody, nil)
	if n, _ := s.Emit(t.Context(), 3); n != 0 {
		t.Fatalf("Emit produced %d records while disabled", n)
	}
	// Turning statistics off stops new records but keeps queued ones (§7.7).
	if recs := popAll(t, s); len(recs) != 1 {
		t.Fatalf("records while off: %d, want the 1 queued before", len(recs))
	}
	expectHTTP(t, doHTTP(t, http.MethodPut, s.URL()+"/v0/management/usage-statistics-enabled", auth, `{"value":true}`),
		200, `{"status":"ok"}`)
	chat(t, s, chatBody, nil)
	if recs := popAll(t, s); len(recs) != 1 {
		t.Fatalf("records after re-enabling: %d", len(recs))
	}
}
