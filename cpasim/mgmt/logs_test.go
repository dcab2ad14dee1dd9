package mgmt

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func logLines(t *testing.T, m map[string]any) []string {
	t.Helper()
	var out []string
	for _, l := range m["lines"].([]any) {
		out = append(out, l.(string))
	}
	return out
}

func TestLogsCursorProtocol(t *testing.T) {
	s, clock := newTestState(t, nil)
	for i := 1; i <= 5; i++ {
		s.AppendLog("f936c1b1", fmt.Sprintf("line %d", i))
		clock.Advance(time.Second)
	}

	m := decode(t, do(t, s, "GET", "/logs?limit=3", nil))
	lines := logLines(t, m)
	if len(lines) != 3 || m["line-count"] != float64(3) || !strings.HasSuffix(lines[2], "line 5") {
		t.Fatalf("tail = %v", m)
	}
	if lines[0] != "[2026-11-27 01:07:10] [info ] [f936c1b1] line 3" {
		t.Fatalf("line format = %q", lines[0])
	}
	if m["latest-timestamp"] != float64(testStart.Unix()+4) {
		t.Fatalf("latest-timestamp = %v", m["latest-timestamp"])
	}
	if _, ok := m["cursor-reset"]; ok {
		t.Fatal("unexpected cursor-reset")
	}
	cursor := m["next-cursor"].(string)
	if c, err := decodeCursor(cursor); err != nil || c.V != 1 || c.File != "main.log" || c.Fingerprint == "" {
		t.Fatalf("cursor %q: %+v %v", cursor, c, err)
	}

	// Nothing new yet.
	m = decode(t, do(t, s, "GET", "/logs?cursor="+cursor, nil))
	if len(logLines(t, m)) != 0 || m["next-cursor"] != cursor {
		t.Fatalf("idle cursor read = %v", m)
	}
	s.AppendLog("", "line 6")
	s.AppendLogLevel("error", "f1c0ced8", "line 7")
	m = decode(t, do(t, s, "GET", "/logs?cursor="+cursor, nil))
	lines = logLines(t, m)
	if len(lines) != 2 || !strings.HasSuffix(lines[0], "[info ] line 6") || !strings.Contains(lines[1], "[error] [f1c0ced8] line 7") {
		t.Fatalf("cursor read = %v", lines)
	}
	cursor = m["next-cursor"].(string)

	// Legacy after= mode.
	m = decode(t, do(t, s, "GET", fmt.Sprintf("/logs?after=%d", testStart.Unix()+3), nil))
	if got := logLines(t, m); len(got) != 3 || !strings.HasSuffix(got[0], "line 5") {
		t.Fatalf("after = %v", got)
	}
	if got := logLines(t, decode(t, do(t, s, "GET", "/logs", nil))); len(got) != 7 {
		t.Fatalf("all lines = %d", len(got))
	}

	expect(t, do(t, s, "GET", "/logs?cursor=!!notbase64", nil), 400, `{"error":"invalid cursor"}`)

	// DELETE truncates; an old cursor then resets.
	expect(t, do(t, s, "DELETE", "/logs", nil), 200, `{"success":true,"message":"Logs cleared successfully","removed":0}`)
	s.AppendLog("", "after clear")
	m = decode(t, do(t, s, "GET", "/logs?cursor="+cursor, nil))
	if m["cursor-reset"] != true || len(logLines(t, m)) != 1 {
		t.Fatalf("after delete = %v", m)
	}

	// Logging to file off: no lines and 400.
	expect(t, do(t, s, "PUT", "/logging-to-file", map[string]any{"value": false}), 200, `{"status":"ok"}`)
	expect(t, do(t, s, "GET", "/logs", nil), 400, `{"error":"logging to file disabled"}`)
	expect(t, do(t, s, "DELETE", "/logs", nil), 400, `{"error":"logging to file disabled"}`)
}

func TestLogRotation(t *testing.T) {
	s, _ := newTestState(t, func(o *Options) { o.MaxLogLines = 10 })
	m := decode(t, do(t, s, "GET", "/logs", nil))
	cursor := m["next-cursor"].(string)
	for i := 0; i < 25; i++ {
		s.AppendLog("", fmt.Sprintf("l%d", i))
	}
	m = decode(t, do(t, s, "GET", "/logs?cursor="+cursor, nil))
	if m["cursor-reset"] != true || len(logLines(t, m)) > 10 {
		t.Fatalf("rotated read = %v", m)
	}
	rec := do(t, s, "DELETE", "/logs", nil)
	if decode(t, rec)["removed"].(float64) < 1 {
		t.Fatalf("delete after rotation = %s", rec.Body.String())
	}
}

func TestRequestErrorLogs(t *testing.T) {
	s, clock := newTestState(t, nil)
	at := clock.Now()
	s.WriteErrorLog("f1c0ced8", "POST /v1/chat/completions", at, "first failure")
	s.WriteErrorLog("a2b3c4d5", "/v1/messages", at.Add(time.Minute), "second failure")
	rec := do(t, s, "GET", "/request-error-logs", nil)
	expect(t, rec, 200, fmt.Sprintf(`{"files":[
		{"name":"error-v1-messages-2026-11-27T010808-a2b3c4d5.log","size":14,"modified":%d},
		{"name":"error-v1-chat-completions-2026-11-27T010708-f1c0ced8.log","size":13,"modified":%d}]}`,
		at.Add(time.Minute).Unix(), at.Unix()))

	rec = do(t, s, "GET", "/request-error-logs/error-v1-chat-completions-2026-11-27T010708-f1c0ced8.log", nil)
	if rec.Code != 200 || rec.Body.String() != "first failure" {
		t.Fatalf("download = %d %q", rec.Code, rec.Body.String())
	}
	expect(t, do(t, s, "GET", "/request-error-logs/error-missing.log", nil), 404, `{"error":"log file not found"}`)
	expect(t, do(t, s, "GET", "/request-error-logs/main.log", nil), 400, `{"error":"invalid log file name"}`)

	rec = do(t, s, "GET", "/request-log-by-id/f1c0ced8", nil)
	if rec.Code != 200 || rec.Body.String() != "first failure" {
		t.Fatalf("by id = %d %q", rec.Code, rec.Body.String())
	}
	expect(t, do(t, s, "GET", "/request-log-by-id/deadbeef", nil), 404, `{"error":"log file not found"}`)

	// With request-log on, error logs stop and full request logs start.
	expect(t, do(t, s, "PUT", "/request-log", map[string]any{"value": true}), 200, `{"status":"ok"}`)
	s.WriteErrorLog("11111111", "/v1/chat/completions", at, "ignored")
	s.WriteRequestLog("22222222", "/v1/chat/completions", at, "full log")
	if n := len(decode(t, do(t, s, "GET", "/request-error-logs", nil))["files"].([]any)); n != 2 {
		t.Fatalf("error logs = %d", n)
	}
	rec = do(t, s, "GET", "/request-log-by-id/22222222", nil)
	if rec.Code != 200 || rec.Body.String() != "full log" {
		t.Fatalf("request log = %d %q", rec.Code, rec.Body.String())
	}

	// error-logs-max-files caps the error logs.
	expect(t, do(t, s, "PUT", "/request-log", map[string]any{"value": false}), 200, `{"status":"ok"}`)
	expect(t, do(t, s, "PUT", "/error-logs-max-files", map[string]any{"value": 2}), 200, `{"status":"ok"}`)
	s.WriteErrorLog("33333333", "/v1/chat/completions", at.Add(2*time.Minute), "third")
	files := decode(t, do(t, s, "GET", "/request-error-logs", nil))["files"].([]any)
	if len(files) != 2 || !strings.HasSuffix(files[0].(map[string]any)["name"].(string), "-33333333.log") {
		t.Fatalf("capped error logs = %v", files)
	}
}
