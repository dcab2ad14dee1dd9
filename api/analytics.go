package api

import "net/http"

// analyticsRoutes registers /status and /api/v1/*.
func (h *Handler) analyticsRoutes(mux *http.ServeMux) {}
