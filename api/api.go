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
)

// Backend is what the API reads from the running service.
type Backend interface {
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Info describes the running service.
	Info() ServiceInfo
}

// ServiceInfo is the public description of the running service, answered
// without authentication by /usage-service/info so a panel can tell which
// backend it talks to. It carries no secrets and no upstream addresses.
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
	// Upstreams is the number of configured CPA upstreams.
	Upstreams int `json:"upstreams"`
}

// Handler serves the API.
type Handler struct {
	backend Backend
	mux     *http.ServeMux
}

// New returns the API handler for backend.
func New(backend Backend) *Handler {
	h := &Handler{backend: backend, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /health", h.health)
	h.mux.HandleFunc("GET /usage-service/info", h.info)
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such API route: "+r.URL.Path)
	})
	return h
}

// ServeHTTP serves one request. Paths are relative to the base path, e.g.
// "/health".
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mux.ServeHTTP(w, r)
}

// healthTimeout bounds the database check of /health.
const healthTimeout = 2 * time.Second

func (h *Handler) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
	defer cancel()
	if err := h.backend.Ping(ctx); err != nil {
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
	writeJSON(w, http.StatusOK, h.backend.Info())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
