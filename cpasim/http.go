package cpasim

import (
	"bytes"
	"encoding/json"
	"html"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

const managementPrefix = "/v0/management"

// exposedHeaders are the X-CPA-* headers browsers may read.
const exposedHeaders = "X-CPA-VERSION, X-CPA-COMMIT, X-CPA-BUILD-DATE, X-CPA-SUPPORT-PLUGIN"

// topHandler routes every HTTP request of the shared listener.
func (s *Server) topHandler() http.Handler {
	mgmtHandler := s.state.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.enterHandler() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		defer s.leaveHandler()

		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "*")
		h.Set("Access-Control-Expose-Headers", exposedHeaders)
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}

		path := r.URL.Path
		switch {
		case path == managementPrefix || strings.HasPrefix(path, managementPrefix+"/"):
			s.serveManagement(w, r, mgmtHandler)
		case path == "/healthz":
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				notFound(w)
				return
			}
			writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		case path == SimStatsPath:
			// Not a CPA route: the simulator's own delivery counters, for
			// end-to-end tests that run it as a separate process.
			if r.Method != http.MethodGet {
				notFound(w)
				return
			}
			writeJSON(w, http.StatusOK, s.DeliveryStats())
		case path == "/anthropic/callback" || path == "/codex/callback" || path == "/antigravity/callback":
			s.serveOAuthRedirect(w, r, strings.TrimSuffix(strings.TrimPrefix(path, "/"), "/callback"))
		case path == "/management.html" && s.opts.PanelFile != "":
			s.servePanel(w, r)
		case path == "/v1/models":
			s.serveModels(w, r)
		case path == "/v1/chat/completions":
			s.serveProxy(w, r, routeChat)
		case path == "/v1/messages":
			s.serveProxy(w, r, routeMessages)
		case path == "/v1/responses":
			s.serveProxy(w, r, routeResponses)
		default:
			// Includes /management.html: disable-control-panel is on.
			notFound(w)
		}
	})
}

// servePanel answers GET and HEAD /management.html with Options.PanelFile,
// without authentication, like CPA's bundled panel.
func (s *Server) servePanel(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		notFound(w)
		return
	}
	body, err := os.ReadFile(s.opts.PanelFile)
	if err != nil {
		http.Error(w, "panel file unreadable: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "management.html", time.Time{}, bytes.NewReader(body))
}

// SimStatsPath serves DeliveryStats as JSON. It is the simulator's own
// route (CPA has none like it) and needs no key.
const SimStatsPath = "/_cpasim/delivery"

// notFound answers like gin's default 404.
func notFound(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write([]byte("404 page not found"))
}

// serveManagement runs CPA's availability gate and key authentication,
// serves usage-queue and hands everything else to the management plane.
func (s *Server) serveManagement(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if !s.managementAvailable() {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if r.URL.Path == managementPrefix+"/oauth-callback" {
		next.ServeHTTP(w, r)
		return
	}
	h := w.Header()
	h.Set("X-CPA-VERSION", s.opts.Version)
	h.Set("X-CPA-COMMIT", s.opts.Commit)
	h.Set("X-CPA-BUILD-DATE", s.opts.BuildDate)
	if s.opts.NoPluginSupport {
		h.Set("X-CPA-SUPPORT-PLUGIN", "0")
	} else {
		h.Set("X-CPA-SUPPORT-PLUGIN", "1")
	}
	if res := s.guard.authorize(r.Context(), clientIP(r), managementKey(r)); !res.ok() {
		writeJSON(w, res.status, map[string]string{"error": res.msg})
		return
	}
	if r.URL.Path == managementPrefix+"/usage-queue" && r.Method == http.MethodGet {
		s.serveUsageQueue(w, r)
		return
	}
	next.ServeHTTP(w, r)
}

// serveOAuthRedirect receives a provider's OAuth redirect for a login
// flow started through /v0/management/<provider>-auth-url. Like CPA it needs
// no management key and answers a small HTML page. CPA shows its success
// page whatever happened; the simulator reports a rejected redirect (no
// such pending flow, missing code) as 400 with a failure page instead, so
// a test sees the mistake.
func (s *Server) serveOAuthRedirect(w http.ResponseWriter, r *http.Request, provider string) {
	if r.Method != http.MethodGet {
		notFound(w)
		return
	}
	q := r.URL.Query()
	errText := q.Get("error")
	if errText == "" {
		errText = q.Get("error_description")
	}
	status, title, detail := http.StatusOK, "Authentication successful!", "You can close this window."
	if err := s.state.CompleteOAuth(provider, q.Get("state"), q.Get("code"), errText); err != nil {
		status, title, detail = http.StatusBadRequest, "Authentication failed", err.Error()
	} else if errText != "" {
		title, detail = "Authentication failed", errText
	}
	page := "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>" + title + "</title></head><body><h1>" +
		title + "</h1><p>" + html.EscapeString(detail) + "</p></body></html>"
	writeRaw(w, status, "text/html; charset=utf-8", []byte(page))
}

// serveUsageQueue pops up to count records (default 1).
func (s *Server) serveUsageQueue(w http.ResponseWriter, r *http.Request) {
	count := 1
	if raw := r.URL.Query().Get("count"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n <= 0 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "count must be a positive integer"})
			return
		}
		count = n
	}
	// A pop and its reply are one step for DropConnections (see popMu).
	s.popMu.RLock()
	defer s.popMu.RUnlock()
	items := s.queue.pop(count)
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i, it := range items {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(it)
	}
	buf.WriteByte(']')
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

// writeJSON writes v like gin's c.JSON: compact, no trailing newline.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
