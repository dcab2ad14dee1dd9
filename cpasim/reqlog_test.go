package cpasim

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cpam-caddy/cpam/cpasim/mgmt"
)

func TestMaskKey(t *testing.T) {
	for in, want := range map[string]string{"sk-cpa-test-1": "sk-c…st-1", "short": "*****", "": ""} {
		if got := maskKey(in); got != want {
			t.Errorf("maskKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestErrorLogByRequestID follows §3.5: while request-log is off a failed
// attempt leaves error-<endpoint>-<ts>-<request_id>.log, which
// /request-log-by-id/<request_id> downloads.
func TestErrorLogByRequestID(t *testing.T) {
	clock := newFakeClock()
	s := newTestServer(t, func(o *Options) { o.Now = clock.Now })

	res := chat(t, s, `{"model":"mock-fail","messages":[{"role":"user","content":"hi"}]}`, nil)
	expectHTTP(t, res, 429, bodyRateLimited)
	recs := popAll(t, s)
	if len(recs) != 1 {
		t.Fatalf("records: %d", len(recs))
	}
	id := recs[0]["request_id"].(string)
	name := "error-v1-chat-completions-" + clock.Now().Local().Format("2006-01-02T150405") + "-" + id + ".log"

	var list struct {
		Files []struct {
			Name     string `json:"name"`
			Size     int    `json:"size"`
			Modified int64  `json:"modified"`
		} `json:"files"`
	}
	res = mgmtGet(t, s, "/request-error-logs", nil)
	if err := json.Unmarshal([]byte(res.body), &list); err != nil || len(list.Files) != 1 {
		t.Fatalf("request-error-logs: %d %s", res.status, res.body)
	}
	if f := list.Files[0]; f.Name != name || f.Modified != clock.Now().Unix() || f.Size == 0 {
		t.Fatalf("error log entry %+v, want name %s", f, name)
	}

	res = mgmtGet(t, s, "/request-log-by-id/"+id, nil)
	if res.status != 200 || !strings.Contains(res.header.Get("Content-Disposition"), name) {
		t.Fatalf("request-log-by-id: %d %v", res.status, res.header)
	}
	for _, want := range []string{
		"URL: /v1/chat/completions\n", "Request ID: " + id + "\n",
		"Authorization: Bearer sk-c…st-1\n",
		`{"model":"mock-fail","messages":[{"role":"user","content":"hi"}]}`,
		"=== API RESPONSE 1 ===", "Status: 429\n", bodyRateLimited,
	} {
		if !strings.Contains(res.body, want) {
			t.Errorf("error log lacks %q:\n%s", want, res.body)
		}
	}
	if strings.Contains(res.body, "sk-cpa-test-1") {
		t.Errorf("error log leaks the client key:\n%s", res.body)
	}
	if got := mgmtGet(t, s, "/request-error-logs/"+name, nil); got.body != res.body {
		t.Errorf("download by name differs from download by id")
	}

	// Successful requests leave no error log.
	chat(t, s, chatBody, nil)
	ok := popAll(t, s)[0]["request_id"].(string)
	expectHTTP(t, mgmtGet(t, s, "/request-log-by-id/"+ok, nil), 404, `{"error":"log file not found"}`)

	// Failover: both attempts share the request id; its error log holds
	// the failed attempt, and the successful one is not an error.
	s.setUpstreamSeams(func(string) []mgmt.Credential { return failoverCreds() }, func() int { return 1 })
	clock.Advance(time.Second)
	if res := chat(t, s, chatBody, nil); res.status != 200 {
		t.Fatalf("failover: %d", res.status)
	}
	fo := popAll(t, s)
	checkFailover(t, fo)
	res = mgmtGet(t, s, "/request-log-by-id/"+fo[0]["request_id"].(string), nil)
	if res.status != 200 || !strings.Contains(res.body, "Status: 503\n") || strings.Contains(res.body, "API RESPONSE 2") {
		t.Fatalf("failover error log: %d\n%s", res.status, res.body)
	}
}

// TestRequestLogOn: with request-log on, every /v1 request gets a full log
// found by its request id, and no error logs are written.
func TestRequestLogOn(t *testing.T) {
	s := newTestServer(t, nil)
	auth := map[string]string{"Authorization": "Bearer " + testKey, "Content-Type": "application/json"}
	expectHTTP(t, doHTTP(t, http.MethodPut, s.URL()+"/v0/management/request-log", auth, `{"value":true}`),
		200, `{"status":"ok"}`)

	chat(t, s, chatBody, nil)
	chat(t, s, `{"model":"mock-fail","messages":[]}`, nil)
	recs := popAll(t, s)
	if len(recs) != 2 {
		t.Fatalf("records: %d", len(recs))
	}
	for i, want := range []string{"Status: 200\n", "Status: 429\n"} {
		res := mgmtGet(t, s, "/request-log-by-id/"+recs[i]["request_id"].(string), nil)
		if res.status != 200 || !strings.HasSuffix(res.body, "=== RESPONSE ===\n"+want) ||
			!strings.Contains(res.body, "=== API RESPONSE 1 ===") {
			t.Fatalf("request log %d: %d\n%s", i, res.status, res.body)
		}
	}
	expectHTTP(t, mgmtGet(t, s, "/request-error-logs", nil), 200, `{"files":[]}`)

}
