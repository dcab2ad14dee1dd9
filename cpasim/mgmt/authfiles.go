package mgmt

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// authFile is one OAuth credential file in auth-dir, held in memory.
type authFile struct {
	name     string
	data     []byte         // the file bytes as stored
	meta     map[string]any // data decoded (numbers as json.Number)
	created  time.Time
	modified time.Time
}

// decodeObject decodes a JSON object keeping numbers as json.Number.
func decodeObject(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode json: %w", err)
	}
	if m == nil {
		return nil, errors.New("decode json: not an object")
	}
	return m, nil
}

func newAuthFile(name string, data []byte, at time.Time) (*authFile, error) {
	meta, err := decodeObject(data)
	if err != nil {
		return nil, err
	}
	return &authFile{name: name, data: append([]byte(nil), data...), meta: meta, created: at, modified: at}, nil
}

// setMeta replaces the metadata and re-encodes the file.
func (f *authFile) setMeta(meta map[string]any, at time.Time) {
	data, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return
	}
	f.meta, f.data, f.modified = meta, data, at
}

func (f *authFile) str(key string) string {
	if v, ok := f.meta[key].(string); ok {
		return v
	}
	return ""
}

func (f *authFile) fileType() string {
	if t := f.str("type"); t != "" {
		return t
	}
	base := strings.TrimSuffix(f.name, ".json")
	t, _, _ := strings.Cut(base, "-")
	return t
}

func (f *authFile) email() string {
	if e := f.str("email"); e != "" {
		return e
	}
	if claims := f.idTokenClaims(); claims != nil {
		if e, ok := claims["email"].(string); ok {
			return e
		}
	}
	return ""
}

func (f *authFile) label() string {
	if l := f.str("label"); l != "" {
		return l
	}
	if e := f.email(); e != "" {
		return e
	}
	if p := f.str("project_id"); p != "" {
		return p
	}
	return strings.TrimSuffix(f.name, ".json")
}

func (f *authFile) disabled() bool {
	b, _ := f.meta["disabled"].(bool)
	return b
}

// token returns the credential token used for $TOKEN$: access_token, then
// api_key, then token / id_token / cookie.
func (f *authFile) token() string {
	if t := f.str("access_token"); t != "" {
		return t
	}
	if m, ok := f.meta["token"].(map[string]any); ok {
		if t, ok := m["access_token"].(string); ok && t != "" {
			return t
		}
	}
	for _, k := range []string{"api_key", "token", "id_token", "cookie"} {
		if t := f.str(k); t != "" {
			return t
		}
	}
	return ""
}

func (f *authFile) path(dir string) string {
	return strings.TrimRight(dir, "/") + "/" + f.name
}

func (f *authFile) authIndex(dir string) string {
	return AuthIndex(f.fileType() + ":" + f.path(dir))
}

// idTokenClaims decodes the Codex id_token: a JWT string (payload claims)
// or an already decoded object.
func (f *authFile) idTokenClaims() map[string]any {
	switch v := f.meta["id_token"].(type) {
	case map[string]any:
		return v
	case string:
		parts := strings.Split(v, ".")
		if len(parts) < 2 {
			return nil
		}
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
		if err != nil {
			return nil
		}
		m, err := decodeObject(raw)
		if err != nil {
			return nil
		}
		return m
	}
	return nil
}

// codexIDToken is the id_token summary of a Codex auth-files entry.
func (f *authFile) codexIDToken() map[string]any {
	claims := f.idTokenClaims()
	if claims == nil {
		return nil
	}
	auth, _ := claims["https://api.openai.com/auth"].(map[string]any)
	if auth == nil {
		auth = claims
	}
	out := map[string]any{}
	for src, dst := range map[string]string{
		"chatgpt_account_id":                "chatgpt_account_id",
		"chatgpt_plan_type":                 "plan_type",
		"plan_type":                         "plan_type",
		"chatgpt_subscription_active_start": "chatgpt_subscription_active_start",
		"chatgpt_subscription_active_until": "chatgpt_subscription_active_until",
	} {
		if v, ok := auth[src]; ok {
			out[dst] = v
		}
	}
	return out
}

func (f *authFile) codexAccountID() string {
	if id := f.str("account_id"); id != "" {
		return id
	}
	if t := f.codexIDToken(); t != nil {
		if id, ok := t["chatgpt_account_id"].(string); ok {
			return id
		}
	}
	return ""
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// entry renders the /auth-files entry of f. s.mu must be held.
func (s *State) authEntry(f *authFile) map[string]any {
	typ := f.fileType()
	kind := kindOf(typ)
	idx := f.authIndex(s.cfg.AuthDir)
	succ, fail, recent := s.usageOf(idx)
	status := "active"
	if f.disabled() {
		status = "disabled"
	}
	e := map[string]any{
		"id":              f.name,
		"auth_index":      idx,
		"name":            f.name,
		"type":            typ,
		"provider":        kind.provider,
		"label":           f.label(),
		"status":          status,
		"status_message":  "",
		"disabled":        f.disabled(),
		"unavailable":     false,
		"runtime_only":    false,
		"source":          "file",
		"size":            len(f.data),
		"success":         succ,
		"failed":          fail,
		"recent_requests": recent,
		"email":           f.email(),
		"account_type":    "oauth",
		"account":         f.email(),
		"created_at":      rfc3339(f.created),
		"modtime":         rfc3339(f.modified),
		"updated_at":      rfc3339(f.modified),
		"path":            f.path(s.cfg.AuthDir),
	}
	if lr := f.str("last_refresh"); lr != "" {
		e["last_refresh"] = lr
	}
	for _, k := range []string{"note", "priority", "weight", "websockets", "request_retry", "project_id", "next_retry_after"} {
		if v, ok := f.meta[k]; ok && v != nil {
			e[k] = v
		}
	}
	if kind.provider == "codex" {
		if t := f.codexIDToken(); t != nil {
			e["id_token"] = t
		}
	}
	return e
}

// validFileName checks an auth file name: a plain file name ending in
// .json. It returns the error message or "".
func validFileName(name string) string {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
		return "invalid name"
	}
	if !strings.HasSuffix(strings.ToLower(name), ".json") {
		return "name must end with .json"
	}
	return ""
}

func (s *State) authFileRoutes(rt *router) {
	rt.handle("GET", "/auth-files", s.listAuthFiles)
	rt.handle("POST", "/auth-files", s.uploadAuthFiles)
	rt.handle("DELETE", "/auth-files", s.deleteAuthFiles)
	rt.handle("GET", "/auth-files/download", s.downloadAuthFile)
	rt.handle("GET", "/auth-files/models", s.authFileModels)
	rt.handle("PATCH", "/auth-files/status", s.patchAuthStatus)
	rt.handle("PATCH", "/auth-files/fields", s.patchAuthFields)
	rt.handle("POST", "/vertex/import", s.vertexImport)
	rt.handle("POST", "/reset-quota", s.resetQuota)
}

func (s *State) listAuthFiles(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	idx := r.URL.Query().Get("auth_index")
	s.mu.RLock()
	names := make([]string, 0, len(s.files))
	for n := range s.files {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]map[string]any, 0, len(names))
	for _, n := range names {
		f := s.files[n]
		if name != "" && n != name {
			continue
		}
		if idx != "" && f.authIndex(s.cfg.AuthDir) != idx {
			continue
		}
		out = append(out, s.authEntry(f))
	}
	s.mu.RUnlock()
	writeJSON(w, http.StatusOK, map[string]any{"files": out})
}

func (s *State) downloadAuthFile(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	if msg := validFileName(name); msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	s.mu.RLock()
	f := s.files[name]
	var data []byte
	if f != nil {
		data = append([]byte(nil), f.data...)
	}
	s.mu.RUnlock()
	if f == nil {
		writeError(w, http.StatusNotFound, "file not found")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	_, _ = w.Write(data)
}

// storeFile adds or replaces an auth file. s.mu must be held.
func (s *State) storeFile(name string, data []byte) error {
	now := s.opts.Now()
	f, err := newAuthFile(name, data, now)
	if err != nil {
		return err
	}
	if old := s.files[name]; old != nil {
		f.created = old.created
	}
	s.files[name] = f
	return nil
}

type failedFile struct {
	Name  string `json:"name"`
	Error string `json:"error"`
}

func (s *State) uploadAuthFiles(w http.ResponseWriter, r *http.Request) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" {
		s.uploadRaw(w, r)
		return
	}
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		writeError(w, http.StatusBadRequest, "no files uploaded")
		return
	}
	type upload struct {
		name string
		data []byte
		err  string
	}
	var ups []upload
	var fields []string
	for field := range r.MultipartForm.File {
		fields = append(fields, field)
	}
	sort.Strings(fields)
	for _, field := range fields {
		for _, fh := range r.MultipartForm.File[field] {
			u := upload{name: filepath.Base(fh.Filename)}
			if !strings.HasSuffix(strings.ToLower(u.name), ".json") || strings.ContainsAny(fh.Filename, `\`) {
				u.err = "file must be .json"
			} else if fd, err := fh.Open(); err != nil {
				u.err = "failed to read file"
			} else {
				u.data, err = io.ReadAll(fd)
				_ = fd.Close()
				if err != nil {
					u.err = "failed to read file"
				} else if _, err := decodeObject(u.data); err != nil {
					u.err = "invalid json"
				}
			}
			ups = append(ups, u)
		}
	}
	if len(ups) == 0 {
		writeError(w, http.StatusBadRequest, "no files uploaded")
		return
	}
	var okNames []string
	var failed []failedFile
	s.mu.Lock()
	for _, u := range ups {
		if u.err == "" {
			if err := s.storeFile(u.name, u.data); err != nil {
				u.err = "invalid json"
			}
		}
		if u.err != "" {
			failed = append(failed, failedFile{Name: u.name, Error: u.err})
			continue
		}
		okNames = append(okNames, u.name)
	}
	s.mu.Unlock()
	if len(okNames) > 0 {
		s.scheduleReload()
	}
	if len(ups) == 1 {
		if len(failed) == 1 {
			writeError(w, http.StatusBadRequest, failed[0].Error)
			return
		}
		writeOK(w)
		return
	}
	if okNames == nil {
		okNames = []string{}
	}
	switch {
	case len(failed) == 0:
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "uploaded": len(okNames), "files": okNames})
	case len(okNames) == 0:
		writeJSON(w, http.StatusBadRequest, map[string]any{"status": "error", "uploaded": 0, "files": okNames, "failed": failed})
	default:
		writeJSON(w, http.StatusMultiStatus, map[string]any{"status": "partial", "uploaded": len(okNames), "files": okNames, "failed": failed})
	}
}

func (s *State) uploadRaw(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
		writeError(w, http.StatusBadRequest, "invalid name")
		return
	}
	if !strings.HasSuffix(strings.ToLower(name), ".json") {
		writeError(w, http.StatusBadRequest, "file must be .json")
		return
	}
	data, err := readBody(r)
	if err != nil || len(bytes.TrimSpace(data)) == 0 {
		writeError(w, http.StatusBadRequest, "no files uploaded")
		return
	}
	s.mu.Lock()
	err = s.storeFile(name, data)
	s.mu.Unlock()
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid json")
		return
	}
	s.scheduleReload()
	writeOK(w)
}

func (s *State) deleteAuthFiles(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if strings.EqualFold(q.Get("all"), "true") || q.Get("all") == "1" {
		s.mu.Lock()
		names := make([]string, 0, len(s.files))
		for n := range s.files {
			names = append(names, n)
		}
		sort.Strings(names)
		s.files = map[string]*authFile{}
		s.mu.Unlock()
		if len(names) > 0 {
			s.scheduleReload()
		}
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "deleted": len(names), "files": names})
		return
	}
	names := append([]string(nil), q["name"]...)
	if body, err := readBody(r); err == nil && len(bytes.TrimSpace(body)) > 0 {
		var list []string
		var obj struct {
			Name  string   `json:"name"`
			Names []string `json:"names"`
		}
		if json.Unmarshal(body, &list) == nil {
			names = append(names, list...)
		} else if json.Unmarshal(body, &obj) == nil {
			if obj.Name != "" {
				names = append(names, obj.Name)
			}
			names = append(names, obj.Names...)
		} else {
			writeError(w, http.StatusBadRequest, "invalid body")
			return
		}
	}
	if len(names) == 0 {
		writeError(w, http.StatusBadRequest, "invalid name")
		return
	}
	var deleted []string
	var failed []failedFile
	s.mu.Lock()
	for _, n := range names {
		if msg := validFileName(n); msg != "" {
			failed = append(failed, failedFile{Name: n, Error: msg})
			continue
		}
		if _, ok := s.files[n]; !ok {
			failed = append(failed, failedFile{Name: n, Error: "file not found"})
			continue
		}
		delete(s.files, n)
		deleted = append(deleted, n)
	}
	s.mu.Unlock()
	if len(deleted) > 0 {
		s.scheduleReload()
	}
	if len(names) == 1 && len(failed) == 1 {
		status := http.StatusNotFound
		if failed[0].Error != "file not found" {
			status = http.StatusBadRequest
		}
		writeError(w, status, failed[0].Error)
		return
	}
	if deleted == nil {
		deleted = []string{}
	}
	switch {
	case len(failed) == 0:
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "deleted": len(deleted), "files": deleted})
	case len(deleted) == 0:
		writeJSON(w, http.StatusNotFound, map[string]any{"status": "error", "deleted": 0, "files": deleted, "failed": failed})
	default:
		writeJSON(w, http.StatusMultiStatus, map[string]any{"status": "partial", "deleted": len(deleted), "files": deleted, "failed": failed})
	}
}

func (s *State) authFileModels(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	if name == "" {
		writeError(w, http.StatusBadRequest, "name is required")
		return
	}
	s.mu.RLock()
	f := s.files[name]
	var cred Credential
	if f != nil {
		cred = f.credential(s.cfg)
	}
	s.mu.RUnlock()
	if f == nil {
		writeError(w, http.StatusNotFound, "auth file not found")
		return
	}
	kind := kindOf(f.fileType())
	defs := map[string]modelDef{}
	for _, d := range modelCatalog[kind.channel] {
		defs[d.ID] = d
	}
	out := make([]map[string]any, 0, len(cred.Models))
	for _, m := range cred.Models {
		d, ok := defs[cred.UpstreamModel(m)]
		entry := map[string]any{"id": m}
		if ok {
			entry["display_name"] = d.DisplayName
			entry["type"] = d.Type
			entry["owned_by"] = d.OwnedBy
		}
		out = append(out, entry)
	}
	writeJSON(w, http.StatusOK, map[string]any{"models": out})
}

// findFile returns the auth file named name, or else the one with auth
// index idx. s.mu must be held.
func (s *State) findFile(name, idx string) *authFile {
	if f := s.files[name]; f != nil {
		return f
	}
	if idx == "" {
		return nil
	}
	for _, f := range s.files {
		if f.authIndex(s.cfg.AuthDir) == idx {
			return f
		}
	}
	return nil
}

// configKeyExcluded returns a pointer to the excluded-models list of the
// config API-key credential with auth index idx, or nil. s.mu must be held.
func (s *State) configKeyExcluded(idx string) *[]string {
	for i := range s.cfg.OpenAICompatibility {
		p := &s.cfg.OpenAICompatibility[i]
		for j := range p.APIKeyEntries {
			if keyAuthIndex("openai-compatibility", p.BaseURL, p.APIKeyEntries[j].APIKey) == idx {
				return &p.APIKeyEntries[j].ExcludedModels
			}
		}
	}
	for _, sec := range keySections {
		list := sec.list(s.cfg)
		for i := range *list {
			e := &(*list)[i]
			if keyAuthIndex(sec.name, e.BaseURL, e.APIKey) == idx {
				return &e.ExcludedModels
			}
		}
	}
	return nil
}

func (s *State) patchAuthStatus(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name      string `json:"name"`
		AuthIndex string `json:"auth_index"`
		Disabled  *bool  `json:"disabled"`
	}
	if err := decodeJSON(r, &body); err != nil || body.Disabled == nil {
		writeError(w, http.StatusBadRequest, "invalid body")
		return
	}
	if body.Name == "" && body.AuthIndex == "" {
		writeError(w, http.StatusBadRequest, "name is required")
		return
	}
	disabled := *body.Disabled
	s.mu.Lock()
	if f := s.findFile(body.Name, body.AuthIndex); f != nil {
		meta := cloneMeta(f.meta)
		meta["disabled"] = disabled
		f.setMeta(meta, s.opts.Now())
		s.mu.Unlock()
		s.scheduleReload()
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "disabled": disabled})
		return
	}
	idx := body.AuthIndex
	if idx == "" {
		idx = body.Name
	}
	ex := s.configKeyExcluded(idx)
	if ex == nil {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "auth file not found")
		return
	}
	if disabled {
		if !slices.Contains(*ex, "*") {
			*ex = append(*ex, "*")
		}
	} else {
		*ex = removeString(*ex, "*")
		if len(*ex) == 0 {
			*ex = nil
		}
	}
	err := s.saveLocked()
	s.mu.Unlock()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	s.scheduleReload()
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "disabled": disabled,
		"via": "config:excluded-models", "excluded_pattern": "*"})
}

func cloneMeta(m map[string]any) map[string]any {
	data, _ := json.Marshal(m)
	out, err := decodeObject(data)
	if err != nil {
		return map[string]any{}
	}
	return out
}

// setPath sets a dotted path in m; a nil value deletes the key.
func setPath(m map[string]any, path string, v any) {
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	last := parts[len(parts)-1]
	if v == nil {
		delete(m, last)
		return
	}
	m[last] = v
}

func (s *State) patchAuthFields(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if err := decodeJSON(r, &body); err != nil || body == nil {
		writeError(w, http.StatusBadRequest, "invalid body")
		return
	}
	name, _ := body["name"].(string)
	if name == "" {
		writeError(w, http.StatusBadRequest, "name is required")
		return
	}
	delete(body, "name")
	delete(body, "auth_index")
	if len(body) == 0 {
		writeError(w, http.StatusBadRequest, "no fields to update")
		return
	}
	if v, ok := body["weight"]; ok && v != nil {
		n, isNum := v.(json.Number)
		if !isNum {
			writeError(w, http.StatusBadRequest, "weight must be an integer")
			return
		}
		if _, err := n.Int64(); err != nil {
			writeError(w, http.StatusBadRequest, "weight must be an integer")
			return
		}
	}
	s.mu.Lock()
	f := s.files[name]
	if f == nil {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "auth file not found")
		return
	}
	meta := cloneMeta(f.meta)
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		setPath(meta, k, body[k])
	}
	f.setMeta(meta, s.opts.Now())
	s.mu.Unlock()
	s.scheduleReload()
	writeOK(w)
}

func (s *State) vertexImport(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		writeCodeError(w, http.StatusBadRequest, "invalid_request", "multipart form with a file is required")
		return
	}
	fd, _, err := r.FormFile("file")
	if err != nil {
		writeCodeError(w, http.StatusBadRequest, "file_required", "file is required")
		return
	}
	data, err := io.ReadAll(fd)
	_ = fd.Close()
	if err != nil {
		writeCodeError(w, http.StatusBadRequest, "read_failed", err.Error())
		return
	}
	sa, err := decodeObject(data)
	if err != nil {
		writeCodeError(w, http.StatusBadRequest, "invalid_json", err.Error())
		return
	}
	project, _ := sa["project_id"].(string)
	email, _ := sa["client_email"].(string)
	if project == "" {
		writeCodeError(w, http.StatusBadRequest, "invalid_service_account", "project_id is required")
		return
	}
	location := r.FormValue("location")
	if location == "" {
		location = "us-central1"
	}
	name := "vertex-" + project + ".json"
	meta := map[string]any{"type": "vertex", "project_id": project, "email": email,
		"location": location, "service_account": sa, "label": project}
	content, _ := json.MarshalIndent(meta, "", "  ")
	s.mu.Lock()
	err = s.storeFile(name, content)
	path := strings.TrimRight(s.cfg.AuthDir, "/") + "/" + name
	s.mu.Unlock()
	if err != nil {
		writeCodeError(w, http.StatusInternalServerError, "save_failed", err.Error())
		return
	}
	s.scheduleReload()
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "auth-file": path,
		"project_id": project, "email": email, "location": location})
}

func (s *State) resetQuota(w http.ResponseWriter, r *http.Request) {
	var body struct {
		AuthIndex string `json:"auth_index"`
	}
	if err := decodeJSON(r, &body); err != nil || strings.TrimSpace(body.AuthIndex) == "" {
		writeError(w, http.StatusBadRequest, "invalid body")
		return
	}
	s.mu.RLock()
	var found *Credential
	for _, c := range buildCredentials(s.cfg, s.files) {
		if c.AuthIndex == body.AuthIndex {
			c := c
			found = &c
			break
		}
	}
	s.mu.RUnlock()
	if found == nil {
		writeError(w, http.StatusNotFound, "auth not found")
		return
	}
	models := found.Models
	if models == nil {
		models = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "auth_index": body.AuthIndex, "models": models})
}

// ChatGPT account ids of the demo Codex accounts; CodexQuotaOf picks their
// behaviour by them.
const (
	codexDemoAccount    = "acc-sim-5f0c1d2e"
	codexFullAccount    = "acc-sim-full-7a21c9"
	codexExpiredAccount = "acc-sim-expired-3c9e04"
	codexGoneAccount    = "acc-sim-gone-b04d6a"
	codexBackAccount    = "acc-sim-back-52f81e"
)

// demoAuthFiles returns the simulator's default OAuth accounts: one per
// provider for demo@example.com, and four more Codex accounts whose
// quota answers make an inspection recommend every action (see
// CodexQuotaOf).
func demoAuthFiles(now time.Time) map[string][]byte {
	enc := func(v map[string]any) []byte {
		data, _ := json.MarshalIndent(v, "", "  ")
		return data
	}
	lastRefresh := now.Add(-time.Hour).UTC().Format(time.RFC3339)
	expires := now.Add(7 * time.Hour).UTC().Format(time.RFC3339)
	codex := func(email, account, plan, token string, extra map[string]any) []byte {
		idToken := fakeJWT(map[string]any{
			"email": email,
			"https://api.openai.com/auth": map[string]any{
				"chatgpt_account_id":                account,
				"chatgpt_plan_type":                 plan,
				"chatgpt_subscription_active_start": now.AddDate(0, -1, 0).UTC().Format(time.RFC3339),
				"chatgpt_subscription_active_until": now.AddDate(0, 1, 0).UTC().Format(time.RFC3339),
			},
		})
		meta := map[string]any{
			"type": "codex", "email": email,
			"access_token":  "sim-codex-" + token + "-access-token",
			"refresh_token": "sim-codex-" + token + "-refresh-token",
			"account_id":    account,
			"id_token":      idToken,
			"expired":       expires, "last_refresh": lastRefresh,
		}
		for k, v := range extra {
			meta[k] = v
		}
		return enc(meta)
	}
	return map[string][]byte{
		"claude-demo@example.com.json": enc(map[string]any{
			"type": "claude", "email": "demo@example.com",
			"access_token":  "sk-ant-oat01-sim-demo-access-token",
			"refresh_token": "sk-ant-ort01-sim-demo-refresh-token",
			"expired":       expires, "last_refresh": lastRefresh,
			"note": "fake credential for local tests", "priority": 3,
		}),
		"codex-demo@example.com-plus.json": codex("demo@example.com", codexDemoAccount, "plus", "demo", nil),
		"codex-full@example.com-pro.json":  codex("codex-full@example.com", codexFullAccount, "pro", "full", nil),
		"codex-expired@example.com-plus.json": codex("codex-expired@example.com", codexExpiredAccount, "plus", "expired",
			map[string]any{"expired": now.Add(-2 * time.Hour).UTC().Format(time.RFC3339)}),
		"codex-gone@example.com-team.json": codex("codex-gone@example.com", codexGoneAccount, "team", "gone", nil),
		"codex-back@example.com-plus.json": codex("codex-back@example.com", codexBackAccount, "plus", "back",
			map[string]any{"disabled": true}),
		"gemini-demo@example.com-demo-project-123456.json": enc(map[string]any{
			"type": "gemini", "email": "demo@example.com", "project_id": "demo-project-123456",
			"auto": false, "checked": true,
			"token": map[string]any{
				"access_token": "ya29.sim-gemini-demo-access-token", "refresh_token": "1//sim-gemini-refresh",
				"token_type": "Bearer", "expiry": expires,
			},
			"last_refresh": lastRefresh,
		}),
		"antigravity-demo@example.com.json": enc(map[string]any{
			"type": "antigravity", "email": "demo@example.com", "project_id": "demo-antigravity-project",
			"access_token":  "ya29.sim-antigravity-demo-access-token",
			"refresh_token": "1//sim-antigravity-refresh",
			"expires_in":    3599, "expired": expires, "last_refresh": lastRefresh,
		}),
	}
}

// fakeJWT builds an unsigned-looking JWT carrying claims.
func fakeJWT(claims map[string]any) string {
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	payload, _ := json.Marshal(claims)
	return header + "." + base64.RawURLEncoding.EncodeToString(payload) + ".c2ltdWxhdGVk"
}
