package api

import "net/http"

// priceRoutes registers /v0/management/model-prices and its sync.
func (h *Handler) priceRoutes(mux *http.ServeMux) {}
