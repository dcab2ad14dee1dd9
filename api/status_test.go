package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cpam-caddy/cpam/collector"
	"github.com/cpam-caddy/cpam/internal/version"
	"github.com/cpam-caddy/cpam/store"
)

func TestStatus(t *testing.T) {
	h, b := fixture(t)
	enabled := false
	b.cs = []collector.Status{
		{
			Upstream: "u1", Mode: "auto", Transport: "subscribe", Connected: true, SupportRefresh: true,
			LastEventAt: time.Date(2026, 11, 27, 1, 2, 3, 0, time.UTC), LagMS: 12, EventsPerSecond1m: 1.5, EventsPerSecond5m: 0.25,
			Received: 100, Stored: 98, Duplicates: 1, DeadLetters: 1, LastError: "dial tcp: refused", LastErrorStage: "connect",
			LastErrorAt: time.Date(2026, 11, 27, 0, 59, 0, 0, time.UTC), CPAVersion: "v7.2.0", UsageStatisticsEnabled: &enabled,
			RetentionSeconds: 60, Warnings: []string{"usage statistics are disabled in CPA", "CPA counted 5 more attempts"},
			LossWarning: "CPA counted 5 more attempts", SpoolDepth: 3,
		},
		{Upstream: "u2", Mode: "http", Stopped: true, LastError: "management key rejected", IngestError: "disk full",
			RestartWarning: "CPA restarted; its queue was lost"},
	}
	timeNow = func() time.Time { return t0 }
	defer func() { timeNow = time.Now }()
	var got struct {
		Service, Version string
		Time             time.Time
		Database         databaseJSON
		Collectors       []collector.Status
		Warnings         []warningJSON
	}
	// Settle the cubes first: compacted up to the newest quarter hour.
	if _, err := b.s.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantCompaction, err := b.s.CompactionStatus(context.Background())
	if err != nil || wantCompaction.Watermark.IsZero() {
		t.Fatalf("compaction status %+v, %v", wantCompaction, err)
	}
	getJSON(t, h, "/status", &got)
	path := b.s.Path()
	size := func(p string) int64 {
		fi, err := os.Stat(p)
		if err != nil {
			return 0
		}
		return fi.Size()
	}
	if got.Service != "caddy-cpam" || got.Version != version.String() || !got.Time.Equal(t0) {
		t.Errorf("service %q version %q time %v", got.Service, got.Version, got.Time)
	}
	wantDB := databaseJSON{Path: path, FileBytes: size(path), WALBytes: size(path + "-wal"), SchemaVersion: store.SchemaVersion}
	wantDB.SizeBytes = wantDB.FileBytes + wantDB.WALBytes
	comp := got.Database.Compaction
	got.Database.Compaction = nil
	if got.Database != wantDB || wantDB.FileBytes == 0 || wantDB.WALBytes == 0 {
		t.Errorf("database %+v, want %+v", got.Database, wantDB)
	}
	if comp == nil || comp.Watermark == nil || !comp.Watermark.Equal(wantCompaction.Watermark) ||
		comp.PendingQuarterHours != wantCompaction.Pending || comp.LastError != "" {
		t.Errorf("compaction %+v, want %+v", comp, wantCompaction)
	}
	if !reflect.DeepEqual(got.Collectors, b.cs) {
		t.Errorf("collectors:\n got %+v\nwant %+v", got.Collectors, b.cs)
	}
	wantWarn := []warningJSON{
		{"u1", "usage statistics are disabled in CPA"}, {"u1", "CPA counted 5 more attempts"},
		{"u2", "CPA restarted; its queue was lost"},
		{"u2", "collection stopped (management key rejected); fix the upstream configuration and reload Caddy"},
		{"u2", "storing events fails: disk full"},
	}
	if !slices.Equal(got.Warnings, wantWarn) {
		t.Errorf("warnings:\n got %+v\nwant %+v", got.Warnings, wantWarn)
	}
}

// openAPIOp is the part of an OpenAPI operation the test reads.
type openAPIOp struct {
	OperationID string                     `json:"operationId"`
	Parameters  []map[string]any           `json:"parameters"`
	RequestBody map[string]any             `json:"requestBody"`
	Responses   map[string]json.RawMessage `json:"responses"`
	Security    *[]map[string][]string     `json:"security"`
}

// loadOpenAPI decodes the embedded document.
func loadOpenAPI(t *testing.T) (doc map[string]any, paths map[string]map[string]openAPIOp) {
	t.Helper()
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	var d struct {
		Paths map[string]map[string]openAPIOp `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDoc, &d); err != nil {
		t.Fatalf("openapi.json paths: %v", err)
	}
	return doc, d.Paths
}

// resolve follows a local $ref.
func resolve(t *testing.T, doc map[string]any, ref string) any {
	t.Helper()
	var cur any = doc
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

// deref returns v, or what it points to when it is a {"$ref": ...} object.
func deref(t *testing.T, doc map[string]any, v any) map[string]any {
	t.Helper()
	m, _ := v.(map[string]any)
	if ref, ok := m["$ref"].(string); ok {
		m, _ = resolve(t, doc, ref).(map[string]any)
	}
	return m
}

// openAPIRoute turns a ServeMux pattern ("DELETE /a/{name...}") into its
// OpenAPI operation key ("delete /a/{name}") and the names of its
// wildcards; ok is false for a pattern without a method or host-relative
// path.
func openAPIRoute(pattern string) (key string, wildcards []string, ok bool) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || method == "" || method != strings.ToUpper(method) || !strings.HasPrefix(path, "/") {
		return "", nil, false
	}
	segs := strings.Split(path, "/")
	for i, s := range segs {
		switch {
		case s == "{$}":
			segs[i] = ""
		case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}"):
			name := strings.TrimSuffix(s[1:len(s)-1], "...")
			wildcards = append(wildcards, name)
			segs[i] = "{" + name + "}"
		}
	}
	return strings.ToLower(method) + " " + strings.Join(segs, "/"), wildcards, true
}

// samplePath fills the path parameters of an OpenAPI path with a value
// every route accepts in its place (a key hash is also a model name).
func samplePath(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") {
			segs[i] = "0123456789abcdef0123456789abcdef"
		}
	}
	return strings.Join(segs, "/")
}

// sortedKeys returns the keys of m, sorted.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	})
}

// boolKeys returns the key set of m.
func boolKeys[V any](m map[string]V) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

func TestOpenAPIDocument(t *testing.T) {
	doc, paths := loadOpenAPI(t)
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.0.") {
		t.Fatalf("openapi version %q", v)
	}
	// Every $ref points somewhere.
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok && resolve(t, doc, ref) == nil {
				t.Errorf("dangling $ref %s", ref)
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(doc)
	schemes, _ := resolve(t, doc, "#/components/securitySchemes").(map[string]any)
	globalSecurity, _ := doc["security"].([]any)
	if len(globalSecurity) == 0 {
		t.Errorf("the document declares no default security")
	}
	for _, req := range globalSecurity {
		for name := range req.(map[string]any) {
			if schemes[name] == nil {
				t.Errorf("default security names unknown scheme %q", name)
			}
		}
	}

	// What the handler serves: every pattern registered on its muxes (the
	// catch-all 404 is not recorded).
	h, _ := fixture(t)
	type route struct {
		pattern   string
		mux       *routeMux
		wildcards []string
	}
	routes := map[string]route{} // by OpenAPI key, "get /path"
	for _, mux := range []*routeMux{h.public, h.mux} {
		for _, p := range mux.patterns {
			key, wild, ok := openAPIRoute(p)
			if !ok {
				t.Errorf("route %q has no method or path: register routes as \"METHOD /path\"", p)
				continue
			}
			if _, dup := routes[key]; dup {
				t.Errorf("route %q is registered twice", p)
			}
			routes[key] = route{pattern: p, mux: mux, wildcards: wild}
		}
	}
	if len(routes) == 0 {
		t.Fatal("no route recorded")
	}

	// The query parameters each route accepts, from the lists its handler
	// checks the query against (unknown parameters get 400).
	queryParams := map[string][]string{
		"GET " + compatPrefix + compatUsagePath:   compatUsageParams,
		"GET " + compatPrefix + compatExportPath:  compatExportParams,
		"POST " + compatPrefix + compatImportPath: compatImportParams,
		livePattern: liveParams,
	}
	for _, rt := range analyticsRoutesTable {
		queryParams[rt.method+" "+rt.path] = rt.params
	}
	queryParams[quotaEvidencePattern] = quotaEvidenceParams
	for p, params := range inspectionQueryParams {
		queryParams[p] = params
	}
	// These handlers read no query parameter: their input is the path or a
	// JSON body. They do not check the query either (unknown parameters
	// are ignored), so there is no list in the code to compare with. A new
	// route must be added here or get a list of its own.
	for _, p := range []string{
		"GET /health", "GET /usage-service/info",
		"POST /auth/login", "POST /auth/logout", "GET /auth/session", "POST /auth/admin-key",
		"GET /v0/management/model-prices", "PUT /v0/management/model-prices",
		"DELETE /v0/management/model-prices/{model...}",
		"POST /v0/management/model-prices/recompute", "POST /v0/management/model-prices/sync",
		"GET /v0/management/api-key-aliases", "PUT /v0/management/api-key-aliases",
		"DELETE /v0/management/api-key-aliases/{hash}",
	} {
		if _, dup := queryParams[p]; dup {
			t.Errorf("%s is listed twice", p)
		}
		queryParams[p] = nil
	}
	// Request headers documented as parameters: the live feed resumes from
	// Last-Event-ID (parseLive).
	headerParams := map[string][]string{livePattern: {"Last-Event-ID"}}
	// Routes that read a request body, and whether it is required (the
	// handlers decode it inline; recompute and sync accept an empty body).
	// All take JSON; the import also NDJSON.
	bodies := map[string]bool{
		"POST /auth/login":                           true,
		"PUT /v0/management/model-prices":            true,
		"POST /v0/management/model-prices/recompute": false,
		"POST /v0/management/model-prices/sync":      false,
		"PUT /v0/management/api-key-aliases":         true,
		"POST " + compatPrefix + compatImportPath:    true,
	}
	for p, required := range inspectionBodies {
		bodies[p] = required
	}
	bodyTypes := map[string][]string{"POST " + compatPrefix + compatImportPath: {"application/json", "application/x-ndjson"}}
	// The content type of the success answer when it is not JSON ("" for
	// none).
	successTypes := map[string]string{
		"POST /auth/logout":                      "",
		"GET " + compatPrefix + compatExportPath: "application/x-ndjson",
		livePattern:                              "text/event-stream",
	}

	// The tables above name served routes only.
	recorded := map[string]bool{}
	for _, rt := range routes {
		recorded[rt.pattern] = true
	}
	for _, table := range []map[string]bool{
		boolKeys(queryParams), boolKeys(headerParams), bodies, boolKeys(bodyTypes), boolKeys(successTypes),
	} {
		for _, p := range sortedKeys(table) {
			if !recorded[p] {
				t.Errorf("the test lists %q, which is not served", p)
			}
		}
	}

	ids := map[string]bool{}
	documented := map[string]bool{}
	for _, path := range sortedKeys(paths) {
		for _, method := range sortedKeys(paths[path]) {
			op := paths[path][method]
			key := method + " " + path
			documented[key] = true
			m := strings.ToUpper(method)
			if ids[op.OperationID] || op.OperationID == "" {
				t.Errorf("%s %s: operationId %q missing or repeated", m, path, op.OperationID)
			}
			ids[op.OperationID] = true
			var success []string
			for code, raw := range op.Responses {
				var r any
				_ = json.Unmarshal(raw, &r)
				if d, _ := deref(t, doc, r)["description"].(string); d == "" {
					t.Errorf("%s %s: response %s has no description", m, path, code)
				}
				if strings.HasPrefix(code, "2") {
					success = append(success, code)
				}
			}
			if len(success) != 1 {
				t.Errorf("%s %s documents success answers %v, want one", m, path, success)
			}

			rt, ok := routes[key]
			if !ok {
				t.Errorf("documented %s %s is not served", m, path)
				continue
			}
			// The documented path reaches the route.
			target := samplePath(path)
			if _, p := rt.mux.Handler(httptest.NewRequest(m, target, nil)); p != rt.pattern {
				t.Errorf("%s %s routes to %q, want %q", m, target, p, rt.pattern)
			}

			// Security: a request without credentials gets 401 exactly
			// when the document says the route needs authentication.
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(m, target, nil))
			needsAuth := rec.Code == http.StatusUnauthorized
			public := op.Security != nil && len(*op.Security) == 0
			switch {
			case needsAuth && public:
				t.Errorf("%s %s is documented as public (security: []) but answers 401 without credentials", m, path)
			case !needsAuth && !public:
				t.Errorf("%s %s answers %d without credentials: document it with security: []", m, path, rec.Code)
			case needsAuth:
				if op.Security != nil {
					for _, req := range *op.Security {
						for name := range req {
							if schemes[name] == nil {
								t.Errorf("%s %s: unknown security scheme %q", m, path, name)
							}
						}
					}
				}
				if _, ok := op.Responses["401"]; !ok {
					t.Errorf("%s %s does not document 401", m, path)
				}
				if _, ok := op.Responses["403"]; !ok && isStateChanging(m) {
					t.Errorf("%s %s does not document 403 (CSRF rule for cookie sessions)", m, path)
				}
			}

			// Parameters.
			var query, inPath, header []string
			for _, p := range op.Parameters {
				p = deref(t, doc, p)
				name, _ := p["name"].(string)
				switch p["in"] {
				case "query":
					query = append(query, name)
				case "path":
					inPath = append(inPath, name)
					if p["required"] != true {
						t.Errorf("%s %s: path parameter %s is not required", m, path, name)
					}
				case "header":
					header = append(header, name)
				default:
					t.Errorf("%s %s: parameter %v is not in the query, path or header", m, path, p)
				}
			}
			want, known := queryParams[rt.pattern]
			if !known {
				t.Errorf("route %q: the test does not know its query parameters; add them to queryParams", rt.pattern)
			}
			for _, c := range []struct {
				what      string
				got, want []string
			}{
				{"query parameters", query, want},
				{"path parameters", inPath, rt.wildcards},
				{"header parameters", header, headerParams[rt.pattern]},
			} {
				slices.Sort(c.got)
				if w := slices.Sorted(slices.Values(c.want)); !slices.Equal(c.got, w) {
					t.Errorf("%s %s documents %s %v, accepts %v", m, path, c.what, c.got, w)
				}
			}

			// Request body.
			required, readsBody := bodies[rt.pattern]
			body := deref(t, doc, op.RequestBody)
			switch {
			case readsBody && body == nil:
				t.Errorf("%s %s reads a request body but documents none", m, path)
			case !readsBody && body != nil:
				t.Errorf("%s %s documents a request body it does not read", m, path)
			case readsBody:
				if got, _ := body["required"].(bool); got != required {
					t.Errorf("%s %s: request body required=%v, want %v", m, path, got, required)
				}
				content, _ := body["content"].(map[string]any)
				types := bodyTypes[rt.pattern]
				if types == nil {
					types = []string{"application/json"}
				}
				if got := sortedKeys(content); !slices.Equal(got, types) {
					t.Errorf("%s %s: request body types %v, want %v", m, path, got, types)
				}
				for typ, c := range content {
					if c, _ := c.(map[string]any); c["schema"] == nil {
						t.Errorf("%s %s: request body %s has no schema", m, path, typ)
					}
				}
			}

			// Success answer.
			wantType, special := successTypes[rt.pattern]
			if !special {
				wantType = "application/json"
			}
			for _, code := range success {
				var r any
				_ = json.Unmarshal(op.Responses[code], &r)
				content, _ := deref(t, doc, r)["content"].(map[string]any)
				got := strings.Join(sortedKeys(content), ",")
				if got != wantType {
					t.Errorf("%s %s: %s answer content %q, want %q", m, path, code, got, wantType)
				}
				if c, _ := content[got].(map[string]any); got != "" && c["schema"] == nil {
					t.Errorf("%s %s: %s answer has no schema", m, path, code)
				}
			}
		}
	}
	for _, key := range sortedKeys(routes) {
		if !documented[key] {
			t.Errorf("%s is served but not documented", routes[key].pattern)
		}
	}

	// The analytics routes answer (not 404/405).
	for _, rt := range analyticsRoutesTable {
		target := rt.path
		if rt.path == "/api/v1/breakdown" {
			target += "?by=model"
		}
		code, body := get(t, h, target)
		if code != http.StatusOK {
			t.Errorf("%s %s: %d %s", rt.method, target, code, body)
		}
	}
	// The served document is the embedded one.
	code, body := get(t, h, "/api/v1/openapi.json")
	if code != 200 || string(body) != string(openAPIDoc) {
		t.Errorf("served document: %d, %d bytes", code, len(body))
	}
}

// retentionBackend reports a retention, as the Caddy backend does.
type retentionBackend struct{ *fakeBackend }

func (retentionBackend) Retention() time.Duration { return 90 * 24 * time.Hour }

func TestStatusReportsRetention(t *testing.T) {
	_, b := fixture(t)
	var got struct{ Database databaseJSON }
	getJSON(t, New(Options{Backend: retentionBackend{b}}), "/status", &got)
	if got.Database.RetentionSeconds != 90*24*3600 {
		t.Errorf("retentionSeconds = %d", got.Database.RetentionSeconds)
	}
	getJSON(t, New(Options{Backend: b}), "/status", &got)
	if got.Database.RetentionSeconds != 0 {
		t.Errorf("without a reporter: retentionSeconds = %d", got.Database.RetentionSeconds)
	}
}
