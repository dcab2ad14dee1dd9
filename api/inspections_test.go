package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cpam-caddy/cpam/store"
)

// inspectionBody is a run posted by the panel, with an extra unknown field
// at every level.
const inspectionBody = `{"provider": "codex", "upstream": "cpa-main", "started_at": "2026-11-27T10:00:00Z",
	"finished_at": "2026-11-27T11:01:30+01:00", "settings": {"concurrency": 4, "thresholds": {"disable": 100}},
	"client": "panel 1.2",
	"results": [
		{"auth_index": "a1", "name": "codex-demo@example.com-plus.json", "email": "demo@example.com", "plan": "plus",
		 "status_code": 200, "action": "keep", "reason": "", "disabled": false, "extra": 1,
		 "windows": [{"id": "primary", "used_percent": 23, "window_seconds": 18000, "reset_at": "2026-11-27T12:30:00Z"},
		             {"id": "secondary", "used_percent": 41.5, "window_seconds": 604800, "reset_at": ""}]},
		{"auth_index": "a2", "name": "codex-full@example.com-pro.json", "status_code": 200, "action": "disable",
		 "reason": "weekly window used up", "windows": [{"id": "secondary", "used_percent": 100, "window_seconds": 604800}]},
		{"auth_index": "a3", "name": "codex-expired@example.com-plus.json", "status_code": 401, "action": "reauth", "reason": "token expired"},
		{"auth_index": "a4", "name": "codex-gone@example.com-team.json", "status_code": 402, "action": "delete", "reason": "deactivated_workspace"},
		{"auth_index": "a5", "name": "codex-back@example.com-plus.json", "status_code": 200, "action": "enable", "disabled": true}
	]}`

// postInspection posts body and expects 201 with an id.
func postInspection(t *testing.T, h *Handler, body string) int64 {
	t.Helper()
	code, resp := sendJSON(t, h, "POST", "/api/v1/inspections", body)
	if code != http.StatusCreated {
		t.Fatalf("POST: %d %s", code, resp)
	}
	got := decodeAs[map[string]int64](t, resp)
	if got["id"] <= 0 || len(got) != 1 {
		t.Fatalf("POST answer %s", resp)
	}
	return got["id"]
}

// inspectionDoc is the answer of GET /api/v1/inspections/{id}.
type inspectionDoc struct {
	inspectionSummaryJSON
	Settings json.RawMessage
	Results  []map[string]any
}

func TestInspectionsRoundTrip(t *testing.T) {
	h, _ := fixture(t)
	id := postInspection(t, h, inspectionBody)

	var list struct{ Items []inspectionSummaryJSON }
	getJSON(t, h, "/api/v1/inspections", &list)
	wantSum := inspectionSummaryJSON{ID: id, Provider: "codex", Upstream: "cpa-main",
		StartedAt: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC), FinishedAt: time.Date(2026, 11, 27, 10, 1, 30, 0, time.UTC),
		Total: 5, Counts: map[string]int{"keep": 1, "enable": 1, "disable": 1, "reauth": 1, "delete": 1, "error": 0}}
	if len(list.Items) != 1 || !list.Items[0].StartedAt.Equal(wantSum.StartedAt) || !list.Items[0].FinishedAt.Equal(wantSum.FinishedAt) {
		t.Fatalf("list: %+v", list.Items)
	}
	list.Items[0].StartedAt, list.Items[0].FinishedAt = wantSum.StartedAt, wantSum.FinishedAt
	if !reflect.DeepEqual(list.Items[0], wantSum) {
		t.Fatalf("list item %+v\nwant %+v", list.Items[0], wantSum)
	}

	var doc inspectionDoc
	getJSON(t, h, fmt.Sprintf("/api/v1/inspections/%d", id), &doc)
	if doc.ID != id || doc.Total != 5 || doc.Applied != 0 || string(doc.Settings) != `{"concurrency":4,"thresholds":{"disable":100}}` || len(doc.Results) != 5 {
		t.Fatalf("detail: %+v settings %s", doc.inspectionSummaryJSON, doc.Settings)
	}
	first, _ := json.Marshal(doc.Results[0])
	want := `{"action":"keep","applied":null,"auth_index":"a1","disabled":false,"email":"demo@example.com","name":"codex-demo@example.com-plus.json",` +
		`"plan":"plus","reason":"","status_code":200,"windows":[{"id":"primary","reset_at":"2026-11-27T12:30:00Z","used_percent":23,"window_seconds":18000},` +
		`{"id":"secondary","reset_at":"","used_percent":41.5,"window_seconds":604800}]}`
	if string(first) != want {
		t.Fatalf("result 0:\n got %s\nwant %s", first, want)
	}
	if w := doc.Results[2]["windows"]; !reflect.DeepEqual(w, []any{}) {
		t.Errorf("a result without windows answers windows=%v, want []", w)
	}
	if doc.Results[4]["disabled"] != true || doc.Results[4]["action"] != "enable" {
		t.Errorf("result 4: %v", doc.Results[4])
	}

	// Outcomes.
	code, body := sendJSON(t, h, "POST", fmt.Sprintf("/api/v1/inspections/%d/applied", id), `{"outcomes": [
		{"auth_index": "a2", "action": "disable", "ok": true},
		{"auth_index": "a4", "action": "delete", "ok": false, "error": "`+strings.Repeat("x", 600)+`"},
		{"auth_index": "nope", "action": "delete", "ok": true}]}`)
	if code != http.StatusOK {
		t.Fatalf("applied: %d %s", code, body)
	}
	if got := decodeAs[map[string]any](t, body); got["applied"] != float64(2) || !reflect.DeepEqual(got["unmatched"], []any{"nope"}) {
		t.Fatalf("applied answer %s", body)
	}
	getJSON(t, h, fmt.Sprintf("/api/v1/inspections/%d", id), &doc)
	a2, _ := doc.Results[1]["applied"].(map[string]any)
	a4, _ := doc.Results[3]["applied"].(map[string]any)
	if doc.Applied != 2 || doc.Results[0]["applied"] != nil || a2["action"] != "disable" || a2["ok"] != true || a2["error"] != "" ||
		a4["ok"] != false || len(a4["error"].(string)) != maxInspectionText {
		t.Fatalf("after applied: %d %v %v", doc.Applied, a2, a4)
	}
	if at, err := time.Parse(time.RFC3339Nano, a2["at"].(string)); err != nil || time.Since(at) > time.Minute {
		t.Errorf("outcome time %v (%v)", a2["at"], err)
	}
	// Applying again replaces the outcome.
	code, body = sendJSON(t, h, "POST", fmt.Sprintf("/api/v1/inspections/%d/applied", id), `{"outcomes": [{"auth_index": "a4", "action": "delete", "ok": true}]}`)
	if code != http.StatusOK || string(body) != "{\"applied\":1,\"unmatched\":[]}\n" {
		t.Fatalf("re-applied: %d %s", code, body)
	}
	getJSON(t, h, fmt.Sprintf("/api/v1/inspections/%d", id), &doc)
	if a4 := doc.Results[3]["applied"].(map[string]any); doc.Applied != 2 || a4["ok"] != true || a4["error"] != "" {
		t.Fatalf("after re-apply: %d %v", doc.Applied, a4)
	}
	getJSON(t, h, "/api/v1/inspections", &list)
	if list.Items[0].Applied != 2 {
		t.Fatalf("list after apply: %+v", list.Items[0])
	}
}

func TestInspectionsListLimitAndOrder(t *testing.T) {
	h, _ := fixture(t)
	var ids []int64
	for i := 0; i < 25; i++ {
		ids = append(ids, postInspection(t, h, fmt.Sprintf(`{"provider": "xai", "upstream": "u%d", "started_at": "2026-11-27T10:00:00Z", "finished_at": "2026-11-27T10:00:00Z"}`, i)))
	}
	var list struct{ Items []inspectionSummaryJSON }
	getJSON(t, h, "/api/v1/inspections", &list)
	if len(list.Items) != defaultInspectionLimit || list.Items[0].ID != ids[24] || list.Items[0].Upstream != "u24" || list.Items[19].ID != ids[5] {
		t.Fatalf("default list: %d items, first %+v", len(list.Items), list.Items[0])
	}
	if list.Items[0].Total != 0 || list.Items[0].Counts["keep"] != 0 || len(list.Items[0].Counts) != len(store.InspectionActions) {
		t.Fatalf("empty run: %+v", list.Items[0])
	}
	getJSON(t, h, "/api/v1/inspections?limit=200", &list)
	if len(list.Items) != 25 {
		t.Fatalf("limit=200: %d", len(list.Items))
	}
	getJSON(t, h, "/api/v1/inspections?limit=1", &list)
	if len(list.Items) != 1 || list.Items[0].ID != ids[24] {
		t.Fatalf("limit=1: %+v", list.Items)
	}
	for _, q := range []string{"limit=0", "limit=201", "limit=x", "limit=1&limit=2", "offset=3"} {
		code, body := get(t, h, "/api/v1/inspections?"+q)
		if c, msg := errorOf(t, body); code != http.StatusBadRequest || c != "bad_parameter" || msg == "" {
			t.Errorf("%s: %d %s", q, code, body)
		}
	}
}

func TestInspectionsErrors(t *testing.T) {
	h, _ := fixture(t)
	id := postInspection(t, h, inspectionBody)
	run := func(mod string) string {
		return `{"provider": "codex", "started_at": "2026-11-27T10:00:00Z", "finished_at": "2026-11-27T10:01:00Z", ` + mod + `}`
	}
	result := func(fields string) string {
		return run(`"results": [{"auth_index": "a1", "name": "n.json", "action": "keep"}, {` + fields + `}]`)
	}
	many := make([]string, maxInspectionResults+1)
	for i := range many {
		many[i] = fmt.Sprintf(`{"auth_index":"a%d","name":"n","action":"keep"}`, i)
	}
	for _, c := range []struct {
		name, body string
		status     int
		code, want string
	}{
		{"missing provider", `{"started_at": "2026-11-27T10:00:00Z", "finished_at": "2026-11-27T10:01:00Z"}`, 400, "bad_parameter", "provider is missing"},
		{"unknown provider", `{"provider": "claude", "started_at": "2026-11-27T10:00:00Z", "finished_at": "2026-11-27T10:01:00Z"}`, 400, "bad_parameter", "codex, xai"},
		{"finished before started", `{"provider": "codex", "started_at": "2026-11-27T10:00:00Z", "finished_at": "2026-11-27T09:59:59Z"}`, 400, "bad_parameter", "before started_at"},
		{"missing time", `{"provider": "codex", "finished_at": "2026-11-27T09:59:59Z"}`, 400, "bad_parameter", "started_at is missing"},
		{"bad time", `{"provider": "codex", "started_at": "yesterday", "finished_at": "2026-11-27T09:59:59Z"}`, 400, "bad_parameter", "RFC 3339"},
		{"bad action", result(`"auth_index": "a2", "name": "x.json", "action": "nuke"`), 400, "bad_parameter", `results[1]: action "nuke"`},
		{"missing auth_index", result(`"name": "x.json", "action": "keep"`), 400, "bad_parameter", "results[1]: auth_index is missing"},
		{"missing name", result(`"auth_index": "a2", "action": "keep"`), 400, "bad_parameter", "results[1]: name is missing"},
		{"bad reset_at", result(`"auth_index": "a2", "name": "x", "action": "keep", "windows": [{"id": "primary", "reset_at": "soon"}]`), 400, "bad_parameter", "results[1].windows[0]"},
		{"too many results", run(`"results": [` + strings.Join(many, ",") + `]`), 400, "bad_parameter", "at most 5000"},
		{"settings not an object", run(`"settings": [1]`), 400, "bad_parameter", "settings must be a JSON object"},
		{"settings too large", run(`"settings": {"x": "` + strings.Repeat("s", maxInspectionSettings) + `"}`), 400, "bad_parameter", "at most 4096"},
		{"wrong type", result(`"auth_index": "a2", "name": "x", "action": "keep", "status_code": "200"`), 400, "bad_request", "not valid JSON"},
		{"not JSON", `{"provider": `, 400, "bad_request", "not valid JSON"},
		{"no body", ``, 400, "bad_request", "no body"},
		{"too large", run(`"settings": {"x": "` + strings.Repeat("s", maxInspectionBody) + `"}`), 413, "too_large", "4096 KiB"},
	} {
		status, body := sendJSON(t, h, "POST", "/api/v1/inspections", c.body)
		code, msg := errorOf(t, body)
		if status != c.status || code != c.code || !strings.Contains(msg, c.want) {
			t.Errorf("%s: %d %s", c.name, status, body)
		}
	}
	// A reason longer than 500 characters is cut, not refused.
	long := postInspection(t, h, result(`"auth_index": "a2", "name": "x", "action": "error", "reason": "`+strings.Repeat("é", 700)+`"`))
	var doc inspectionDoc
	getJSON(t, h, fmt.Sprintf("/api/v1/inspections/%d", long), &doc)
	if r := doc.Results[1]["reason"].(string); len([]rune(r)) != maxInspectionText || doc.Counts["error"] != 1 {
		t.Errorf("long reason kept %d characters; counts %v", len([]rune(r)), doc.Counts)
	}

	// Unknown and malformed ids.
	for _, c := range []struct {
		method, path, body string
		status             int
		code               string
	}{
		{"GET", "/api/v1/inspections/999", "", 404, "not_found"},
		{"GET", "/api/v1/inspections/abc", "", 400, "bad_parameter"},
		{"GET", "/api/v1/inspections/-1", "", 400, "bad_parameter"},
		{"POST", "/api/v1/inspections/999/applied", `{"outcomes": [{"auth_index": "a1", "action": "keep", "ok": true}]}`, 404, "not_found"},
		{"POST", "/api/v1/inspections/abc/applied", `{"outcomes": []}`, 400, "bad_parameter"},
		{"POST", fmt.Sprintf("/api/v1/inspections/%d/applied", id), `{}`, 400, "bad_parameter"},
		{"POST", fmt.Sprintf("/api/v1/inspections/%d/applied", id), `{"outcomes": [{"action": "keep", "ok": true}]}`, 400, "bad_parameter"},
		{"POST", fmt.Sprintf("/api/v1/inspections/%d/applied", id), `{"outcomes": [{"auth_index": "a1", "action": "zap", "ok": true}]}`, 400, "bad_parameter"},
		{"POST", fmt.Sprintf("/api/v1/inspections/%d/applied", id), `{"outcomes": [`, 400, "bad_request"},
		{"POST", fmt.Sprintf("/api/v1/inspections/%d/applied", id), `{"outcomes": [], "pad": "` + strings.Repeat("p", maxManagementBody) + `"}`, 413, "too_large"},
	} {
		status, body := sendJSON(t, h, c.method, c.path, c.body)
		if code, msg := errorOf(t, body); status != c.status || code != c.code || msg == "" {
			t.Errorf("%s %s: %d %s", c.method, c.path, status, body)
		}
	}
	// An empty outcome list is valid and changes nothing.
	status, body := sendJSON(t, h, "POST", fmt.Sprintf("/api/v1/inspections/%d/applied", id), `{"outcomes": []}`)
	if status != http.StatusOK || string(body) != "{\"applied\":0,\"unmatched\":[]}\n" {
		t.Errorf("empty outcomes: %d %s", status, body)
	}
}

// The inspection routes need authentication, and state-changing ones the
// CSRF rule for cookie sessions.
func TestInspectionsAuth(t *testing.T) {
	e := newAuthEnv(t, AuthConfig{AdminKey: testAdminKey})
	if rec := e.do(req{method: http.MethodPost, path: "/api/v1/inspections", body: inspectionBody, header: jsonHeader()}); rec.Code != http.StatusUnauthorized {
		t.Fatalf("without credentials: %d %s", rec.Code, rec.Body)
	}
	cookie := e.login(testAdminKey, "")
	rec := e.do(req{method: http.MethodPost, path: "/api/v1/inspections", body: inspectionBody, cookie: cookie,
		header: map[string]string{"Content-Type": "text/plain"}})
	if rec.Code != http.StatusForbidden || codeOf(t, rec) != "csrf" {
		t.Fatalf("cookie without JSON: %d %s", rec.Code, rec.Body)
	}
	rec = e.do(req{method: http.MethodPost, path: "/api/v1/inspections", body: inspectionBody, cookie: cookie, header: jsonHeader()})
	if rec.Code != http.StatusCreated {
		t.Fatalf("cookie with JSON: %d %s", rec.Code, rec.Body)
	}
	if rec := e.do(req{path: "/api/v1/inspections", header: bearer(testAdminKey)}); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"total":5`) {
		t.Fatalf("bearer list: %d %s", rec.Code, rec.Body)
	}
}

// Without a database the routes answer 503.
func TestInspectionsUnavailable(t *testing.T) {
	h := New(Options{Backend: &fakeBackend{}})
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/v1/inspections", ""},
		{"GET", "/api/v1/inspections/1", ""},
		{"POST", "/api/v1/inspections", inspectionBody},
		{"POST", "/api/v1/inspections/1/applied", `{"outcomes": []}`},
	} {
		status, body := sendJSON(t, h, c.method, c.path, c.body)
		if code, _ := errorOf(t, body); status != http.StatusServiceUnavailable || code != "unavailable" {
			t.Errorf("%s %s: %d %s", c.method, c.path, status, body)
		}
	}
}
