package mgmt

import (
	"bytes"
	"mime/multipart"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"
)

// upload posts a multipart form with the given files (field, name,
// content) to /auth-files.
func upload(t *testing.T, s *State, path string, files [][3]string, fields map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range files {
		w, err := mw.CreateFormFile(f[0], f[1])
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte(f[2]))
	}
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	_ = mw.Close()
	req := httptest.NewRequest("POST", "http://127.0.0.1:8317/v0/management"+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return rec
}

func fileNames(t *testing.T, s *State) []string {
	t.Helper()
	var out []string
	for _, f := range decode(t, do(t, s, "GET", "/auth-files", nil))["files"].([]any) {
		out = append(out, f.(map[string]any)["name"].(string))
	}
	return out
}

func TestAuthFilesList(t *testing.T) {
	s, _ := newTestState(t, nil)
	names := fileNames(t, s)
	if len(names) != 8 || !sort.StringsAreSorted(names) {
		t.Fatalf("files = %v", names)
	}
	rec := do(t, s, "GET", "/auth-files?name=claude-demo@example.com.json", nil)
	files := decode(t, rec)["files"].([]any)
	if len(files) != 1 {
		t.Fatalf("name filter: %s", rec.Body.String())
	}
	e := files[0].(map[string]any)
	var keys []string
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	want := "account,account_type,auth_index,created_at,disabled,email,failed,id,label,last_refresh,modtime,name,note,path,priority,provider,recent_requests,runtime_only,size,source,status,status_message,success,type,unavailable,updated_at"
	if strings.Join(keys, ",") != want {
		t.Fatalf("entry keys = %s\nwant %s", strings.Join(keys, ","), want)
	}
	path := "/srv/cpa-sim/auths/claude-demo@example.com.json"
	if e["path"] != path || e["auth_index"] != AuthIndex("claude:"+path) || e["provider"] != "claude" || e["type"] != "claude" ||
		e["status"] != "active" || e["email"] != "demo@example.com" || e["account_type"] != "oauth" || e["priority"] != float64(3) ||
		e["source"] != "file" || e["created_at"] != "2026-11-27T01:07:08Z" {
		t.Fatalf("entry = %v", e)
	}
	recent := e["recent_requests"].([]any)
	if len(recent) != 20 || recent[0].(map[string]any)["time"] != "21:50-22:00" || recent[19].(map[string]any)["time"] != "01:00-01:10" {
		t.Fatalf("recent_requests = %v", recent)
	}
	idx := e["auth_index"].(string)
	rec = do(t, s, "GET", "/auth-files?auth_index="+idx, nil)
	if got := decode(t, rec)["files"].([]any); len(got) != 1 || got[0].(map[string]any)["name"] != "claude-demo@example.com.json" {
		t.Fatalf("auth_index filter: %s", rec.Body.String())
	}

	// Codex entries carry the id_token summary, gemini ones the project.
	codex := decode(t, do(t, s, "GET", "/auth-files?name=codex-demo@example.com-plus.json", nil))["files"].([]any)[0].(map[string]any)
	tok := codex["id_token"].(map[string]any)
	if tok["chatgpt_account_id"] != "acc-sim-5f0c1d2e" || tok["plan_type"] != "plus" || tok["chatgpt_subscription_active_until"] == nil {
		t.Fatalf("codex id_token = %v", tok)
	}
	gem := decode(t, do(t, s, "GET", "/auth-files?name=gemini-demo@example.com-demo-project-123456.json", nil))["files"].([]any)[0].(map[string]any)
	if gem["provider"] != "gemini-cli" || gem["project_id"] != "demo-project-123456" {
		t.Fatalf("gemini entry = %v", gem)
	}

	rec = do(t, s, "GET", "/auth-files/models?name=claude-demo@example.com.json", nil)
	models := decode(t, rec)["models"].([]any)
	if len(models) == 0 || models[0].(map[string]any)["id"] == "" || models[0].(map[string]any)["owned_by"] != "anthropic" {
		t.Fatalf("models = %s", rec.Body.String())
	}
	expect(t, do(t, s, "GET", "/auth-files/models", nil), 400, `{"error":"name is required"}`)
	expect(t, do(t, s, "GET", "/auth-files/models?name=x.json", nil), 404, `{"error":"auth file not found"}`)
}

func TestAuthFilesUploadDownloadDelete(t *testing.T) {
	s, clock := newTestState(t, func(o *Options) { o.AuthFiles = map[string][]byte{} })
	var reloads int
	s.OnReload(func() { reloads++ })

	claude := `{"type":"claude","email":"a@example.com","access_token":"tok-a"}`
	expect(t, upload(t, s, "/auth-files", [][3]string{{"file", "claude-a@example.com.json", claude}}, nil), 200, `{"status":"ok"}`)
	if reloads != 1 {
		t.Fatalf("reloads = %d", reloads)
	}
	expect(t, upload(t, s, "/auth-files", [][3]string{{"file", "notes.txt", "x"}}, nil), 400, `{"error":"file must be .json"}`)
	expect(t, upload(t, s, "/auth-files", nil, map[string]string{"a": "b"}), 400, `{"error":"no files uploaded"}`)
	expect(t, upload(t, s, "/auth-files", [][3]string{
		{"one", "codex-b@example.com.json", `{"type":"codex","email":"b@example.com","access_token":"tok-b"}`},
		{"two", "kimi-c@example.com.json", `{"type":"kimi","email":"c@example.com","access_token":"tok-c"}`},
	}, nil), 200, `{"status":"ok","uploaded":2,"files":["codex-b@example.com.json","kimi-c@example.com.json"]}`)
	expect(t, upload(t, s, "/auth-files", [][3]string{
		{"f", "xai-d@example.com.json", `{"type":"xai","email":"d@example.com","access_token":"tok-d"}`},
		{"f", "bad.txt", `{}`},
	}, nil), 207, `{"status":"partial","uploaded":1,"files":["xai-d@example.com.json"],"failed":[{"name":"bad.txt","error":"file must be .json"}]}`)

	// Raw JSON body with ?name=.
	clock.Advance(time.Minute)
	expect(t, do(t, s, "POST", "/auth-files?name=antigravity-e@example.com.json", `{"type":"antigravity","email":"e@example.com","project_id":"p"}`), 200, `{"status":"ok"}`)
	expect(t, do(t, s, "POST", "/auth-files?name=e.yaml", `{}`), 400, `{"error":"file must be .json"}`)
	expect(t, do(t, s, "POST", "/auth-files?name=../x.json", `{}`), 400, `{"error":"invalid name"}`)
	if got := fileNames(t, s); len(got) != 5 {
		t.Fatalf("files = %v", got)
	}
	found := false
	for _, c := range s.Credentials("claude-sonnet-4-5") {
		if c.Source == "a@example.com" && c.AccessToken == "tok-a" {
			found = true
		}
	}
	if !found {
		t.Fatal("uploaded claude file not routed")
	}

	rec := do(t, s, "GET", "/auth-files/download?name=claude-a@example.com.json", nil)
	if rec.Code != 200 || rec.Body.String() != claude || !strings.Contains(rec.Header().Get("Content-Disposition"), "attachment") {
		t.Fatalf("download = %d %q %v", rec.Code, rec.Body.String(), rec.Header())
	}
	expect(t, do(t, s, "GET", "/auth-files/download?name=a/b.json", nil), 400, `{"error":"invalid name"}`)
	expect(t, do(t, s, "GET", "/auth-files/download?name=", nil), 400, `{"error":"invalid name"}`)
	expect(t, do(t, s, "GET", "/auth-files/download?name=a.txt", nil), 400, `{"error":"name must end with .json"}`)
	expect(t, do(t, s, "GET", "/auth-files/download?name=missing.json", nil), 404, `{"error":"file not found"}`)

	expect(t, do(t, s, "DELETE", "/auth-files?name=missing.json", nil), 404, `{"error":"file not found"}`)
	expect(t, do(t, s, "DELETE", "/auth-files", nil), 400, `{"error":"invalid name"}`)
	expect(t, do(t, s, "DELETE", "/auth-files?name=claude-a@example.com.json", nil), 200,
		`{"status":"ok","deleted":1,"files":["claude-a@example.com.json"]}`)
	expect(t, do(t, s, "DELETE", "/auth-files", map[string]any{"names": []string{"codex-b@example.com.json", "missing.json"}}), 207,
		`{"status":"partial","deleted":1,"files":["codex-b@example.com.json"],"failed":[{"name":"missing.json","error":"file not found"}]}`)
	expect(t, do(t, s, "DELETE", "/auth-files", []string{"kimi-c@example.com.json"}), 200,
		`{"status":"ok","deleted":1,"files":["kimi-c@example.com.json"]}`)
	expect(t, do(t, s, "DELETE", "/auth-files", map[string]any{"name": "xai-d@example.com.json"}), 200,
		`{"status":"ok","deleted":1,"files":["xai-d@example.com.json"]}`)
	expect(t, do(t, s, "DELETE", "/auth-files?all=true", nil), 200,
		`{"status":"ok","deleted":1,"files":["antigravity-e@example.com.json"]}`)
	expect(t, do(t, s, "GET", "/auth-files", nil), 200, `{"files":[]}`)
}

func TestAuthFileStatusAndFields(t *testing.T) {
	s, _ := newTestState(t, nil)
	name := "claude-demo@example.com.json"
	expect(t, do(t, s, "PATCH", "/auth-files/status", map[string]any{"name": name, "disabled": true}), 200, `{"status":"ok","disabled":true}`)
	e := decode(t, do(t, s, "GET", "/auth-files?name="+name, nil))["files"].([]any)[0].(map[string]any)
	if e["status"] != "disabled" || e["disabled"] != true {
		t.Fatalf("entry after disable = %v", e)
	}
	for _, c := range s.Credentials("claude-sonnet-4-5") {
		if c.AuthType == "oauth" {
			t.Fatal("disabled auth file still routed")
		}
	}
	expect(t, do(t, s, "PATCH", "/auth-files/status", map[string]any{"auth_index": e["auth_index"], "disabled": false}), 200, `{"status":"ok","disabled":false}`)
	expect(t, do(t, s, "PATCH", "/auth-files/status", map[string]any{"name": "nope.json", "disabled": true}), 404, `{"error":"auth file not found"}`)
	expect(t, do(t, s, "PATCH", "/auth-files/status", map[string]any{"name": name}), 400, `{"error":"invalid body"}`)

	// A config API-key credential is disabled through excluded-models "*".
	expect(t, do(t, s, "PATCH", "/auth-files/status", map[string]any{"name": "mock", "auth_index": mockIndex, "disabled": true}), 200,
		`{"status":"ok","disabled":true,"via":"config:excluded-models","excluded_pattern":"*"}`)
	if len(s.Credentials("mock-gpt")) != 0 {
		t.Fatal("disabled config key still routed")
	}
	compat := decode(t, do(t, s, "GET", "/openai-compatibility", nil))["openai-compatibility"].([]any)[0].(map[string]any)
	if ex := compat["api-key-entries"].([]any)[0].(map[string]any)["excluded-models"].([]any); len(ex) != 1 || ex[0] != "*" {
		t.Fatalf("excluded-models = %v", ex)
	}
	expect(t, do(t, s, "PATCH", "/auth-files/status", map[string]any{"auth_index": mockIndex, "disabled": false}), 200,
		`{"status":"ok","disabled":false,"via":"config:excluded-models","excluded_pattern":"*"}`)
	if len(s.Credentials("mock-gpt")) != 1 {
		t.Fatal("re-enabled config key not routed")
	}

	expect(t, do(t, s, "PATCH", "/auth-files/fields", map[string]any{"name": name}), 400, `{"error":"no fields to update"}`)
	expect(t, do(t, s, "PATCH", "/auth-files/fields", map[string]any{"name": name, "weight": "heavy"}), 400, `{"error":"weight must be an integer"}`)
	expect(t, do(t, s, "PATCH", "/auth-files/fields", map[string]any{"name": name, "weight": 1.5}), 400, `{"error":"weight must be an integer"}`)
	expect(t, do(t, s, "PATCH", "/auth-files/fields", map[string]any{"name": "x.json", "note": "n"}), 404, `{"error":"auth file not found"}`)
	expect(t, do(t, s, "PATCH", "/auth-files/fields", map[string]any{"name": name, "note": "primary", "weight": 4, "headers.X-Team": "red"}), 200, `{"status":"ok"}`)
	e = decode(t, do(t, s, "GET", "/auth-files?name="+name, nil))["files"].([]any)[0].(map[string]any)
	if e["note"] != "primary" || e["weight"] != float64(4) {
		t.Fatalf("entry after fields = %v", e)
	}
	if body := do(t, s, "GET", "/auth-files/download?name="+name, nil).Body.String(); !strings.Contains(body, `"X-Team": "red"`) {
		t.Fatalf("dotted path not written: %s", body)
	}

	rec := do(t, s, "POST", "/reset-quota", map[string]any{"auth_index": e["auth_index"]})
	m := decode(t, rec)
	if rec.Code != 200 || m["status"] != "ok" || m["auth_index"] != e["auth_index"] || len(m["models"].([]any)) == 0 {
		t.Fatalf("reset-quota = %d %s", rec.Code, rec.Body.String())
	}
	expect(t, do(t, s, "POST", "/reset-quota", map[string]any{"auth_index": "0000000000000000"}), 404, `{"error":"auth not found"}`)
}

func TestVertexImport(t *testing.T) {
	s, _ := newTestState(t, nil)
	sa := `{"type":"service_account","project_id":"vx-project","client_email":"sa@vx-project.iam.gserviceaccount.com","private_key":"-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----\n"}`
	expect(t, upload(t, s, "/vertex/import", [][3]string{{"file", "sa.json", sa}}, map[string]string{"location": "europe-west4"}), 200,
		`{"status":"ok","auth-file":"/srv/cpa-sim/auths/vertex-vx-project.json","project_id":"vx-project","email":"sa@vx-project.iam.gserviceaccount.com","location":"europe-west4"}`)
	e := decode(t, do(t, s, "GET", "/auth-files?name=vertex-vx-project.json", nil))["files"].([]any)[0].(map[string]any)
	if e["provider"] != "vertex" || e["project_id"] != "vx-project" {
		t.Fatalf("vertex entry = %v", e)
	}
	rec := upload(t, s, "/vertex/import", [][3]string{{"file", "sa.json", `{"client_email":"x"}`}}, nil)
	if rec.Code != 400 || decode(t, rec)["error"] == "" || decode(t, rec)["message"] == "" {
		t.Fatalf("bad service account = %d %s", rec.Code, rec.Body.String())
	}
}

func TestRequestCounters(t *testing.T) {
	s, clock := newTestState(t, nil)
	now := clock.Now()
	s.RecordAttempt(mockIndex, false, now)
	s.RecordAttempt(mockIndex, false, now)
	s.RecordAttempt(mockIndex, true, now)
	s.RecordAttempt(mockIndex, false, now.Add(-30*time.Minute))
	claudeIdx := AuthIndex("claude:/srv/cpa-sim/auths/claude-demo@example.com.json")
	s.RecordAttempt(claudeIdx, true, now)

	rec := do(t, s, "GET", "/api-key-usage", nil)
	m := decode(t, rec)
	mock := m["mock"].(map[string]any)["http://127.0.0.1:18080/v1|sk-mock-upstream"].(map[string]any)
	if mock["success"] != float64(3) || mock["failed"] != float64(1) {
		t.Fatalf("mock usage = %v", mock)
	}
	recent := mock["recent_requests"].([]any)
	last := recent[19].(map[string]any)
	if len(recent) != 20 || last["success"] != float64(2) || last["failed"] != float64(1) || last["time"] != "01:00-01:10" {
		t.Fatalf("recent = %v", recent)
	}
	if b := recent[16].(map[string]any); b["success"] != float64(1) || b["time"] != "00:30-00:40" {
		t.Fatalf("bucket -3 = %v", b)
	}
	if _, ok := m["claude"].(map[string]any)["https://api.anthropic.com|sk-ant-api03-demo-claude-key"]; !ok {
		t.Fatalf("claude api key missing: %s", rec.Body.String())
	}
	if _, ok := m["claude"].(map[string]any)["|"+"sk-ant-oat01-sim-demo-access-token"]; ok {
		t.Fatal("OAuth credential listed in api-key-usage")
	}

	e := decode(t, do(t, s, "GET", "/auth-files?name=claude-demo@example.com.json", nil))["files"].([]any)[0].(map[string]any)
	if e["failed"] != float64(1) || e["success"] != float64(0) || e["recent_requests"].([]any)[19].(map[string]any)["failed"] != float64(1) {
		t.Fatalf("auth file counters = %v", e)
	}

	// Buckets roll with the clock.
	clock.Advance(10 * time.Minute)
	mock = decode(t, do(t, s, "GET", "/api-key-usage", nil))["mock"].(map[string]any)["http://127.0.0.1:18080/v1|sk-mock-upstream"].(map[string]any)
	if b := mock["recent_requests"].([]any)[18].(map[string]any); b["success"] != float64(2) || b["time"] != "01:00-01:10" {
		t.Fatalf("rolled bucket = %v", b)
	}

	s.ResetRuntime()
	mock = decode(t, do(t, s, "GET", "/api-key-usage", nil))["mock"].(map[string]any)["http://127.0.0.1:18080/v1|sk-mock-upstream"].(map[string]any)
	if mock["success"] != float64(0) || mock["failed"] != float64(0) {
		t.Fatalf("after reset = %v", mock)
	}
}
