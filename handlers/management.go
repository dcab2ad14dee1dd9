package handlers

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"

	"github.com/cpam-caddy/cpam/api"
	"github.com/cpam-caddy/cpam/module"
)

func init() {
	caddy.RegisterModule(new(Management))
}

// managementPrefix is where CPA serves its management API.
const managementPrefix = "/v0/management/"

// strippedRequestHeaders never reach CPA from a browser: CPA trusts
// X-Forwarded-For/X-Real-IP from any peer (a forwarded address would turn
// every call into a "remote" one, or let a caller dodge CPA's IP ban), and
// the caller's own credentials and cookies are not CPA's business.
// Authorization is not listed: the proxy overwrites it with CPA's key.
var strippedRequestHeaders = []string{
	"X-Management-Key", "Cookie",
	"X-Forwarded-For", "X-Real-IP", "Forwarded", "X-Forwarded-Host", "X-Forwarded-Proto",
}

// strippedResponseHeaders undo CPA's wide-open CORS, so browsers apply the
// site's own policy.
var strippedResponseHeaders = []string{
	"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers",
	"Access-Control-Allow-Credentials", "Access-Control-Expose-Headers", "Access-Control-Max-Age",
}

// Management proxies CPA's management API (/v0/management/...) for an
// authenticated caddy-cpam user (session cookie or admin key bearer; not a
// CPA key), with Caddy's reverse_proxy. The CPA management key is added
// server-side and never reaches the browser; failed sign-ins stop here, so
// they count towards caddy-cpam's limiter and never towards CPA's IP ban.
//
// With several CPA upstreams, a request picks one by path
// (/cpa/<name>/v0/management/...) or by the X-CPAM-Upstream header; the
// default is the first configured upstream. CPA's usage routes, removed
// from CPA in v6.10, are answered from the caddy-cpam store for the chosen
// upstream.
type Management struct {
	// Upstream pins the handler to one CPA upstream (from the cpam global
	// option); requests selecting another upstream get 404. Default: any
	// configured upstream may be selected, the first one by default.
	Upstream string `json:"upstream,omitempty"`

	auth    *api.Auth
	usage   *api.Handler
	proxies map[string]*reverseproxy.Handler
	names   []string // selectable upstreams, the default first
}

// UpstreamHeader selects the CPA upstream of a management request.
const UpstreamHeader = "X-CPAM-Upstream"

// upstreamPathPrefix selects the CPA upstream by path: /cpa/<name>/v0/management/...
const upstreamPathPrefix = "/cpa/"

// CaddyModule returns the Caddy module information.
func (*Management) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.cpam_management",
		New: func() caddy.Module { return new(Management) },
	}
}

// Provision builds one reverse proxy per selectable CPA upstream.
func (m *Management) Provision(ctx caddy.Context) error {
	app, err := cpamApp(ctx)
	if err != nil {
		return fmt.Errorf("cpam_management: %w", err)
	}
	settings := app.Settings()
	var ups []module.UpstreamSettings
	if m.Upstream != "" {
		up, ok := settings.Upstream(m.Upstream)
		if !ok {
			return fmt.Errorf("cpam_management: unknown CPA upstream %q; the cpam global option names its upstreams with: cpa <name> <url>", m.Upstream)
		}
		ups = append(ups, up)
	} else {
		ups = settings.Upstreams
	}
	if len(ups) == 0 {
		return fmt.Errorf("cpam_management: no CPA upstream is configured; add to the global options: cpam { cpa http://127.0.0.1:8317 { management_key {env.CPA_MANAGEMENT_KEY} } }")
	}
	m.auth = app.Runtime().Auth()
	m.usage = api.New(apiOptions(app))
	m.proxies = make(map[string]*reverseproxy.Handler, len(ups))
	for _, up := range ups {
		raw, err := json.Marshal(proxyConfig(up))
		if err != nil {
			return fmt.Errorf("cpam_management: encoding proxy config: %w", err)
		}
		mod, err := ctx.LoadModuleByID("http.handlers.reverse_proxy", raw)
		if err != nil {
			return fmt.Errorf("cpam_management: loading reverse_proxy for cpa %s: %w", up.Name, err)
		}
		m.proxies[up.Name] = mod.(*reverseproxy.Handler)
		m.names = append(m.names, up.Name)
	}
	return nil
}

// proxyConfig is the reverse_proxy configuration for one CPA upstream. It
// holds the resolved management key, so it lives only in memory.
func proxyConfig(up module.UpstreamSettings) map[string]any {
	host := up.URL.Host
	if up.URL.Port() == "" {
		port := "80"
		if up.URL.Scheme == "https" {
			port = "443"
		}
		host = net.JoinHostPort(up.URL.Hostname(), port)
	}
	transport := map[string]any{"protocol": "http"}
	if up.URL.Scheme == "https" {
		tls := map[string]any{"server_name": up.URL.Hostname()}
		if up.TLSInsecureSkipVerify {
			tls["insecure_skip_verify"] = true
		}
		transport["tls"] = tls
	}
	return map[string]any{
		"upstreams":      []map[string]string{{"dial": host}},
		"transport":      transport,
		"flush_interval": -1,
		"headers": map[string]any{
			"request": map[string]any{
				"delete": strippedRequestHeaders,
				"set": map[string][]string{
					"Authorization": {"Bearer " + escapePlaceholders(up.ManagementKey)},
					"Host":          {up.URL.Host},
				},
			},
			"response": map[string]any{"delete": strippedResponseHeaders},
		},
	}
}

// escapePlaceholders keeps braces in a header value literal: Caddy's header
// operations expand {placeholders} in the values they set.
func escapePlaceholders(v string) string {
	return strings.NewReplacer("{", `\{`, "}", `\}`).Replace(v)
}

// ServeHTTP authenticates the caller, picks the CPA upstream and proxies
// the request to it (or answers CPA's removed usage routes from the store).
func (m *Management) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	name, rel, byPath := upstreamFromPath(r.URL.Path)
	if !strings.HasPrefix(rel, managementPrefix) {
		if byPath {
			writeJSONError(w, http.StatusNotFound, "not_found",
				"address CPA's management API below /cpa/<upstream>/v0/management/")
			return nil
		}
		return next.ServeHTTP(w, r)
	}
	if m.auth == nil {
		writeJSONError(w, http.StatusServiceUnavailable, "unavailable",
			"the management proxy is not set up; check the Caddy log")
		return nil
	}
	r, ok := m.auth.Authenticate(w, r.WithContext(withClientIP(r)), false)
	if !ok {
		return nil
	}
	sub := strings.TrimSuffix(strings.TrimPrefix(rel, strings.TrimSuffix(managementPrefix, "/")), "/")
	if sub == "/usage-queue" {
		writeJSONError(w, http.StatusForbidden, "reserved",
			"usage-queue is reserved for the cpam collector: reading it here would take usage records away from the store; read usage from the cpam API instead")
		return nil
	}
	if h := r.Header.Get(UpstreamHeader); h != "" {
		if byPath && h != name {
			writeJSONError(w, http.StatusBadRequest, "upstream_conflict",
				"the path and the "+UpstreamHeader+" header select different CPA upstreams; use one of them")
			return nil
		}
		name = h
	}
	if name == "" && len(m.names) > 0 {
		name = m.names[0]
	}
	proxy, ok := m.proxies[name]
	if !ok {
		writeJSONError(w, http.StatusNotFound, "unknown_upstream",
			fmt.Sprintf("no CPA upstream named %q here; choose one of: %s", name, strings.Join(m.names, ", ")))
		return nil
	}
	r = r.Clone(r.Context())
	r.Header.Del(UpstreamHeader)
	if byPath {
		r.URL.Path, r.URL.RawPath = rel, ""
	}
	if sub == "/usage" || strings.HasPrefix(sub, "/usage/") {
		if m.serveUsage(w, r, name, sub) {
			return nil
		}
	}
	return proxy.ServeHTTP(w, r, next)
}

// serveUsage answers CPA's removed /usage, /usage/export and /usage/import
// from the store, for the chosen upstream. It reports false for other
// usage paths, which go to CPA.
func (m *Management) serveUsage(w http.ResponseWriter, r *http.Request, upstream, sub string) bool {
	// CPA's usage routes answered for one CPA: always that CPA's events. A
	// request that ServeUsageCompat does not take goes on to CPA unchanged.
	r2 := r.Clone(r.Context())
	q := r2.URL.Query()
	q.Set("upstream", upstream)
	r2.URL.RawQuery = q.Encode()
	r2.URL.Path = sub
	return m.usage.ServeUsageCompat(w, r2)
}

// upstreamFromPath splits "/cpa/<name>/rest" into name and "/rest"; other
// paths come back unchanged with byPath false.
func upstreamFromPath(p string) (name, rel string, byPath bool) {
	if !strings.HasPrefix(p, upstreamPathPrefix) {
		return "", p, false
	}
	rest := p[len(upstreamPathPrefix):]
	name, tail, _ := strings.Cut(rest, "/")
	return name, "/" + tail, true
}

// writeJSONError answers {"error": msg, "code": code}, like the API.
func writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg, "code": code})
}

// Interface guards.
var (
	_ caddy.Provisioner           = (*Management)(nil)
	_ caddyhttp.MiddlewareHandler = (*Management)(nil)
)
