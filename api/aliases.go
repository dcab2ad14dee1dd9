package api

import "net/http"

// aliasRoutes registers /v0/management/api-key-aliases.
func (h *Handler) aliasRoutes(mux *http.ServeMux) {}
