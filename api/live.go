package api

import "net/http"

// liveRoutes registers /api/v1/live.
func (h *Handler) liveRoutes(mux *http.ServeMux) {}
