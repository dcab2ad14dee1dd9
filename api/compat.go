package api

import "net/http"

// compatRoutes registers the CPA-Manager compatible usage routes.
func (h *Handler) compatRoutes(mux *http.ServeMux) {}
