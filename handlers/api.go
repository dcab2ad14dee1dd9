package handlers

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/cpam-caddy/cpam/api"
	"github.com/cpam-caddy/cpam/collector"
	"github.com/cpam-caddy/cpam/internal/version"
	"github.com/cpam-caddy/cpam/module"
	"github.com/cpam-caddy/cpam/store"
	"github.com/cpam-caddy/cpam/usage"
)

func init() {
	caddy.RegisterModule(new(API))
}

// API serves the usage service API under BasePath (default /cpam): health,
// service info, and (in later releases) usage analytics.
type API struct {
	// BasePath is the path prefix the API is served under; it is stripped
	// before routing. The Caddyfile directive derives it from its path
	// matcher (cpam_api /cpam/* → /cpam).
	BasePath string `json:"base_path,omitempty"`

	handler *api.Handler
}

// CaddyModule returns the Caddy module information.
func (*API) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.cpam_api",
		New: func() caddy.Module { return new(API) },
	}
}

// Provision connects the handler to the cpam app.
func (a *API) Provision(ctx caddy.Context) error {
	if a.BasePath == "" {
		a.BasePath = DefaultAPIBase
	}
	a.BasePath = "/" + strings.Trim(a.BasePath, "/")
	app, err := cpamApp(ctx)
	if err != nil {
		return fmt.Errorf("cpam_api: %w", err)
	}
	a.handler = api.New(apiOptions(app))
	// Live streams never finish on their own: end them when the server
	// starts its graceful shutdown (on exit, and for the old server of a
	// config reload), or Caddy would wait for them until the grace period
	// ends (forever by default).
	if srv, ok := ctx.Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server); ok && srv != nil {
		srv.RegisterOnShutdown(a.closeLive)
	}
	return nil
}

// closeLive ends the live streams of this handler.
func (a *API) closeLive() {
	if a.handler != nil {
		a.handler.Close()
	}
}

// Cleanup ends the live streams of this configuration's handler too: Caddy
// cleans up the old configuration right after a reload, and a config that
// failed to start never shuts its server down. (On exit only the shutdown
// hook comes in time: Caddy waits for the servers before cleaning up.)
func (a *API) Cleanup() error {
	a.closeLive()
	return nil
}

// apiOptions configures an API handler from the cpam app's settings.
func apiOptions(app *module.App) api.Options {
	s := app.Settings()
	opts := api.Options{
		Backend:       backend{app: app},
		Auth:          app.Runtime().Auth(),
		CORSOrigins:   s.CORSOrigins,
		QueryLimit:    s.QueryLimit,
		MaxImportSize: s.MaxImportSize,
		ObserveQuery:  app.Runtime().ObserveAPIRequest,
	}
	for _, ps := range s.PriceSources {
		opts.PriceSources = append(opts.PriceSources, api.PriceSource{Name: ps.Name, URL: ps.URL})
	}
	return opts
}

// ServeHTTP strips the base path and serves the API; requests outside the
// base path go to the next handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	rel, ok := stripBase(r.URL.Path, a.BasePath)
	if !ok {
		return next.ServeHTTP(w, r)
	}
	r2 := r.Clone(withClientIP(r))
	r2.URL.Path = rel
	r2.URL.RawPath = ""
	a.handler.ServeHTTP(w, r2)
	return nil
}

// stripBase returns path relative to base ("/" for base itself).
func stripBase(path, base string) (string, bool) {
	if base == "/" {
		return path, true
	}
	if path == base {
		return "/", true
	}
	if strings.HasPrefix(path, base+"/") {
		return path[len(base):], true
	}
	return "", false
}

// withClientIP returns r's context carrying Caddy's client IP (which
// honours the server's trusted_proxies) for the brute-force limiter.
func withClientIP(r *http.Request) context.Context {
	ip, _ := caddyhttp.GetVar(r.Context(), caddyhttp.ClientIPVarKey).(string)
	if ip == "" {
		return r.Context()
	}
	return api.WithClientIP(r.Context(), ip)
}

// backend adapts the cpam app to api.Backend.
type backend struct{ app *module.App }

func (b backend) Ping(ctx context.Context) error { return b.app.Runtime().Store().Ping(ctx) }

func (b backend) Store() *store.Store { return b.app.Runtime().Store() }

func (b backend) CollectorStatus() []collector.Status { return b.app.Runtime().CollectorStatus() }

func (b backend) Normalizer() *usage.Normalizer { return b.app.Runtime().Normalizer() }

func (b backend) PricesChanged(ctx context.Context) error { return b.app.Runtime().PricesChanged(ctx) }

func (b backend) Info() api.ServiceInfo {
	rt := b.app.Runtime()
	return api.ServiceInfo{
		Service:          "caddy-cpam",
		Mode:             "caddy",
		Version:          version.String(),
		InstanceID:       rt.InstanceID(),
		StartedAt:        rt.StartedAt(),
		ConfigGeneration: rt.Generation(),
		Configured:       len(b.app.Settings().Upstreams) > 0,
	}
}

// cpamApp returns the provisioned cpam app, creating a default one when the
// config has no cpam global option.
func cpamApp(ctx caddy.Context) (*module.App, error) {
	v, err := ctx.App("cpam")
	if err != nil {
		return nil, fmt.Errorf("loading the cpam app: %w", err)
	}
	app, ok := v.(*module.App)
	if !ok {
		return nil, fmt.Errorf("the cpam app has unexpected type %T", v)
	}
	return app, nil
}

// Interface guards.
var (
	_ caddy.Provisioner           = (*API)(nil)
	_ caddy.CleanerUpper          = (*API)(nil)
	_ caddyhttp.MiddlewareHandler = (*API)(nil)
	_ api.Backend                 = backend{}
)
