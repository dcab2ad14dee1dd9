// Package api serves caddy-cpam's HTTP API (everything under the cpam_api
// base path, /cpam by default) as a plain net/http handler. It knows nothing
// about Caddy: the handler module strips the base path and passes requests
// here.
package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/cpam-caddy/cpam/collector"
	"github.com/cpam-caddy/cpam/store"
	"github.com/cpam-caddy/cpam/usage"
)

// Backend is what the API reads from the running service.
type Backend interface {
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Info describes the running service.
	Info() ServiceInfo
	// Store is the database the analytics read.
	Store() *store.Store
	// CollectorStatus reports every CPA upstream's collector.
	CollectorStatus() []collector.Status
	// Normalizer hashes client API keys and normalises imported records
	// exactly as the collector does; nil while usage collection is not
	// running.
	Normalizer() *usage.Normalizer
	// PricesChanged rebuilds the price book new events are costed with
	// from the prices stored in the database.
	PricesChanged(ctx context.Context) error
}

// ServiceInfo is the public description of the running service, answered
// without authentication by /usage-service/info so a panel can tell which
// backend it talks to. It carries no secrets, no addresses and no counts.
type ServiceInfo struct {
	// Service is always "caddy-cpam".
	Service string `json:"service"`
	// Mode is always "caddy": the service runs inside Caddy.
	Mode string `json:"mode"`
	// Version is the caddy-cpam module version.
	Version string `json:"version"`
	// InstanceID identifies the running service; it survives config reloads.
	InstanceID string `json:"instanceId"`
	// StartedAt is when the service (not the current config) started.
	StartedAt time.Time `json:"startedAt"`
	// ConfigGeneration counts configurations applied since start.
	ConfigGeneration int64 `json:"configGeneration"`
	// Configured reports whether at least one CPA upstream is configured.
	Configured bool `json:"configured"`
}

// Options configure the API handler.
type Options struct {
	Backend Backend
	// Auth authenticates every route but /health, /usage-service/info and
	// /auth/login; nil refuses them all.
	Auth *Auth
	// CORSOrigins lists the browser origins allowed to call the API.
	CORSOrigins []string
	// QueryLimit caps the events /v0/management/usage lists in detail.
	// Default DefaultQueryLimit.
	QueryLimit int
	// MaxImportSize is the largest /v0/management/usage/import body in
	// bytes; larger bodies get 413. Default DefaultMaxImportSize.
	MaxImportSize int64
	// PriceSources are the catalogues /v0/management/model-prices/sync
	// reads, in priority order.
	PriceSources []PriceSource
	// HTTPClient downloads price catalogues. Default: a client with
	// priceFetchTimeout.
	HTTPClient *http.Client
	// ObserveQuery, when set, receives how long each authenticated request
	// took, by route pattern (for the query latency metric).
	ObserveQuery func(route string, d time.Duration)
}

// PriceSource is one catalogue of the model price sync: Name is
// "models.dev", "litellm" or "openrouter".
type PriceSource struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// Defaults of Options.
const (
	DefaultQueryLimit    = 50000
	DefaultMaxImportSize = 256 << 20
)

// Handler serves the API.
type Handler struct {
	opts   Options
	public *routeMux // no authentication
	mux    *routeMux // authenticated
	// liveHub serves /api/v1/live and ends its streams on Close.
	liveHub *liveHub
}

// New returns the API handler.
func New(opts Options) *Handler {
	if opts.QueryLimit <= 0 {
		opts.QueryLimit = DefaultQueryLimit
	}
	if opts.MaxImportSize <= 0 {
		opts.MaxImportSize = DefaultMaxImportSize
	}
	h := &Handler{opts: opts, public: newRouteMux(), mux: newRouteMux()}
	h.public.HandleFunc("GET /health", h.health)
	h.public.HandleFunc("GET /usage-service/info", h.info)
	h.authRoutes(h.public, h.mux)
	h.analyticsRoutes(h.mux)
	h.compatRoutes(h.mux)
	h.priceRoutes(h.mux)
	h.aliasRoutes(h.mux)
	h.liveRoutes(h.mux)
	h.inspectionRoutes(h.mux)
	h.quotaEvidenceRoutes(h.mux)
	// The fallback is not a route: registered past routeMux, it is not
	// recorded.
	h.mux.ServeMux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such API route: "+r.URL.Path)
	})
	return h
}

// ServeHTTP serves one request. Paths are relative to the base path, e.g.
// "/health".
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.cors(w, r) {
		return
	}
	if handler, pattern := h.public.Handler(r); pattern != "" {
		handler.ServeHTTP(w, r)
		return
	}
	if !h.authorize(w, r) {
		return
	}
	if h.opts.ObserveQuery == nil {
		h.mux.ServeHTTP(w, r)
		return
	}
	_, pattern := h.mux.Handler(r)
	if pattern == livePattern {
		h.mux.ServeHTTP(w, r) // a stream's duration is not a query latency
		return
	}
	if pattern == "" {
		pattern = "unmatched" // e.g. a method the route does not serve
	}
	start := time.Now()
	h.mux.ServeHTTP(w, r)
	h.opts.ObserveQuery(pattern, time.Since(start))
}

// healthTimeout bounds the database check of /health.
const healthTimeout = 2 * time.Second

func (h *Handler) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
	defer cancel()
	if err := h.opts.Backend.Ping(ctx); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{
			"status":   "error",
			"database": "unavailable",
			"error":    "the database does not answer; check the Caddy log for the cause",
		})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "database": "ok"})
}

func (h *Handler) info(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, h.opts.Backend.Info())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers {"error": message, "code": code}: code is a stable
// machine-readable word, message says what to do.
func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]string{"error": message, "code": code})
}
