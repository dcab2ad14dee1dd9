package mgmt

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

const prefix = "/v0/management"

// prefixRoute serves every path below a prefix, for routes with a path
// parameter.
type prefixRoute struct {
	method string
	prefix string
	nested bool // the parameter may contain further path segments
	h      func(w http.ResponseWriter, r *http.Request, rest string)
}

// router dispatches on exact method and path like gin does; anything else
// (including a known path with another method) is a bare 404.
type router struct {
	exact    map[string]http.HandlerFunc
	prefixes []prefixRoute
}

func (rt *router) handle(method, path string, h http.HandlerFunc) {
	rt.exact[method+" "+prefix+path] = h
}

func (rt *router) handlePrefix(method, p string, h func(http.ResponseWriter, *http.Request, string)) {
	rt.prefixes = append(rt.prefixes, prefixRoute{method: method, prefix: prefix + p, h: h})
}

func (rt *router) handleNested(method, p string, h func(http.ResponseWriter, *http.Request, string)) {
	rt.prefixes = append(rt.prefixes, prefixRoute{method: method, prefix: prefix + p, nested: true, h: h})
}

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h, ok := rt.exact[r.Method+" "+r.URL.Path]; ok {
		h(w, r)
		return
	}
	for _, p := range rt.prefixes {
		if p.method == r.Method && strings.HasPrefix(r.URL.Path, p.prefix) {
			rest := strings.TrimPrefix(r.URL.Path, p.prefix)
			if rest != "" && (p.nested || !strings.Contains(rest, "/")) {
				p.h(w, r, rest)
				return
			}
		}
	}
	w.WriteHeader(http.StatusNotFound)
}

// writeJSON writes v as a JSON response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":"encode response"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// writeError writes the common {"error": msg} shape.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"error": msg})
}

// writeCodeError writes the {"error": code, "message": msg} shape.
func writeCodeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": code, "message": msg})
}

func writeOK(w http.ResponseWriter) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
}

// readBody reads a request body with a 32 MiB cap.
func readBody(r *http.Request) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r.Body, 32<<20))
}

// decodeJSON decodes the request body into v.
func decodeJSON(r *http.Request, v any) error {
	data, err := readBody(r)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(v)
}

// routes builds the management router.
func (s *State) routes() http.Handler {
	rt := &router{exact: map[string]http.HandlerFunc{}}

	rt.handle("GET", "/config", s.getConfig)
	rt.handle("GET", "/config.yaml", s.getConfigYAML)
	rt.handle("PUT", "/config.yaml", s.putConfigYAMLRoute)
	rt.handle("GET", "/latest-version", s.latestVersion)

	s.scalarRoutes(rt)
	s.listRoutes(rt)
	s.authFileRoutes(rt)
	s.logRoutes(rt)
	s.oauthRoutes(rt)

	rt.handle("GET", "/api-key-usage", s.apiKeyUsage)
	rt.handle("POST", "/api-call", s.apiCall)
	rt.handlePrefix("GET", "/model-definitions/", s.modelDefinitions)

	rt.handle("GET", "/plugins", s.getPlugins)
	rt.handle("GET", "/plugin-store", s.pluginStore)
	for _, m := range []string{"GET", "PUT", "PATCH", "DELETE"} {
		rt.handleNested(m, "/plugins/", s.pluginNotFound)
	}
	rt.handleNested("POST", "/plugin-store/", s.pluginNotFound)
	return rt
}

func (s *State) getConfig(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	data, err := configJSON(s.cfg)
	s.mu.RUnlock()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(data)
}

func (s *State) getConfigYAML(w http.ResponseWriter, r *http.Request) {
	raw := s.ConfigYAML()
	w.Header().Set("Content-Type", "application/yaml")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(raw)
}

func (s *State) putConfigYAMLRoute(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		writeCodeError(w, http.StatusBadRequest, "invalid_yaml", "failed to read body: "+err.Error())
		return
	}
	if err := s.putConfigYAML(body); err != nil {
		if isSyntaxError(err) {
			// CPA answers with the parser's own message ("yaml: line 3: ...").
			writeCodeError(w, http.StatusBadRequest, "invalid_yaml", strings.TrimPrefix(err.Error(), "parse yaml: "))
		} else {
			writeCodeError(w, http.StatusUnprocessableEntity, "invalid_config", err.Error())
		}
		return
	}
	s.scheduleReload()
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "changed": []string{"config"}})
}

// putConfigYAML validates doc and makes it the configuration (management
// view). A plaintext secret-key is replaced by its hash, as CPA rewrites
// the file; a hash it did not issue keeps the current key.
func (s *State) putConfigYAML(doc []byte) error {
	cfg, node, err := parseConfig(doc)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	secret := s.secret
	switch sk := cfg.RemoteManagement.SecretKey; {
	case sk == "":
		secret = ""
	case !isBcryptHash(sk):
		secret = sk
	}
	raw := doc
	if applySecretToNode(node, secretHash(secret)) {
		if raw, err = encodeNode(node); err != nil {
			return err
		}
	}
	cfg.RemoteManagement.SecretKey = secretHash(secret)
	s.cfg, s.node, s.raw, s.secret = cfg, node, raw, secret
	return nil
}

// update mutates the management view with f, saves config.yaml and
// schedules the reload, then answers {"status":"ok"}. f returns false
// after writing an error response itself.
func (s *State) update(w http.ResponseWriter, f func(c *Config) bool) {
	s.mu.Lock()
	if !f(s.cfg) {
		s.mu.Unlock()
		return
	}
	err := s.saveLocked()
	s.mu.Unlock()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	s.scheduleReload()
	writeOK(w)
}

// scalarRoutes registers the GET/PUT/PATCH setting routes.
func (s *State) scalarRoutes(rt *router) {
	for _, b := range []struct {
		path, key string
		get       func(*Config) *bool
	}{
		{"/debug", "debug", func(c *Config) *bool { return &c.Debug }},
		{"/logging-to-file", "logging-to-file", func(c *Config) *bool { return &c.LoggingToFile }},
		{"/usage-statistics-enabled", "usage-statistics-enabled", func(c *Config) *bool { return &c.UsageStatisticsEnabled }},
		{"/request-log", "request-log", func(c *Config) *bool { return &c.RequestLog }},
		{"/ws-auth", "ws-auth", func(c *Config) *bool { return &c.WSAuth }},
		{"/force-model-prefix", "force-model-prefix", func(c *Config) *bool { return &c.ForceModelPrefix }},
		{"/quota-exceeded/switch-project", "switch-project", func(c *Config) *bool { return &c.QuotaExceeded.SwitchProject }},
		{"/quota-exceeded/switch-preview-model", "switch-preview-model", func(c *Config) *bool { return &c.QuotaExceeded.SwitchPreviewModel }},
	} {
		scalarSetting(s, rt, b.path, b.key, b.get, nil)
	}

	scalarSetting(s, rt, "/logs-max-total-size-mb", "logs-max-total-size-mb", func(c *Config) *int { return &c.LogsMaxTotalSizeMB },
		func(v int) (int, string) { return max(v, 0), "" })
	scalarSetting(s, rt, "/error-logs-max-files", "error-logs-max-files", func(c *Config) *int { return &c.ErrorLogsMaxFiles },
		func(v int) (int, string) {
			if v < 0 {
				return 10, ""
			}
			return v, ""
		})
	scalarSetting(s, rt, "/request-retry", "request-retry", func(c *Config) *int { return &c.RequestRetry }, nil)
	scalarSetting(s, rt, "/max-retry-credentials", "max-retry-credentials", func(c *Config) *int { return &c.MaxRetryCredentials }, nil)
	scalarSetting(s, rt, "/max-retry-interval", "max-retry-interval", func(c *Config) *int { return &c.MaxRetryInterval }, nil)

	scalarSetting(s, rt, "/proxy-url", "proxy-url", func(c *Config) *string { return &c.ProxyURL },
		func(v string) (string, string) { return strings.TrimSpace(v), "" })
	rt.handle("DELETE", "/proxy-url", func(w http.ResponseWriter, r *http.Request) {
		s.update(w, func(c *Config) bool { c.ProxyURL = ""; return true })
	})

	// routing/strategy answers under the key "strategy".
	scalarSetting(s, rt, "/routing/strategy", "strategy", func(c *Config) *string { return &c.Routing.Strategy },
		func(v string) (string, string) {
			norm, ok := normalizeStrategy(v)
			if !ok || strings.TrimSpace(v) == "" {
				return "", "invalid strategy"
			}
			return norm, ""
		})
}

// scalarSetting registers one setting in CPA's scalar pattern: GET answers
// {key: value}; PUT and PATCH take {"value": V}, which norm (when set) may
// rewrite or refuse with an error message.
func scalarSetting[T any](s *State, rt *router, path, key string, get func(*Config) *T, norm func(T) (T, string)) {
	rt.handle("GET", path, func(w http.ResponseWriter, r *http.Request) {
		s.mu.RLock()
		v := *get(s.cfg)
		s.mu.RUnlock()
		writeJSON(w, http.StatusOK, map[string]any{key: v})
	})
	set := func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Value *T `json:"value"`
		}
		if err := decodeJSON(r, &body); err != nil || body.Value == nil {
			writeError(w, http.StatusBadRequest, "invalid body")
			return
		}
		v := *body.Value
		if norm != nil {
			var msg string
			if v, msg = norm(v); msg != "" {
				writeError(w, http.StatusBadRequest, msg)
				return
			}
		}
		s.update(w, func(c *Config) bool { *get(c) = v; return true })
	}
	rt.handle("PUT", path, set)
	rt.handle("PATCH", path, set)
}

func (s *State) latestVersion(w http.ResponseWriter, r *http.Request) {
	if v := s.opts.LatestVersion; v != "" {
		writeJSON(w, http.StatusOK, map[string]any{"latest-version": v})
		return
	}
	writeCodeError(w, http.StatusBadGateway, "request_failed",
		`Get "https://api.github.com/repos/router-for-me/CLIProxyAPI/releases/latest": dial tcp: lookup api.github.com: no such host`)
}

func (s *State) modelDefinitions(w http.ResponseWriter, r *http.Request, channel string) {
	key := strings.ToLower(strings.TrimSpace(channel))
	defs, ok := modelCatalog[key]
	if !ok {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "unknown channel", "channel": channel})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"channel": key, "models": defs})
}

func (s *State) getPlugins(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"plugins_enabled": false,
		"plugins_dir":     "plugins",
		"plugins":         []any{},
	})
}

func (s *State) pluginStore(w http.ResponseWriter, r *http.Request) {
	writeCodeError(w, http.StatusBadGateway, "plugin_discovery_failed",
		`Get "https://raw.githubusercontent.com/router-for-me/CLIProxyAPI-plugins/main/index.json": dial tcp: lookup raw.githubusercontent.com: no such host`)
}

func (s *State) pluginNotFound(w http.ResponseWriter, r *http.Request, rest string) {
	id, _, _ := strings.Cut(rest, "/")
	writeCodeError(w, http.StatusNotFound, "plugin_not_found", "plugin "+id+" not found")
}
