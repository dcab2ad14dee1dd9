package api

import "net/http"

// Auth authenticates API and management-proxy requests.
type Auth struct{}

// authRoutes registers /auth/login (public) and the other /auth routes.
func (h *Handler) authRoutes(public, private *http.ServeMux) {}

// authorize lets an authenticated request through, or answers 401/403/429.
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request) bool {
	writeError(w, http.StatusUnauthorized, "unauthorized", "sign in first: POST /auth/login with the admin key, or send Authorization: Bearer <admin key>")
	return false
}

// cors applies the CORS policy; it returns false when it has answered.
func (h *Handler) cors(w http.ResponseWriter, r *http.Request) bool { return true }
