package api

import "net/http"

// routeMux is an http.ServeMux that records the pattern of every route
// registered through Handle and HandleFunc, so the OpenAPI test can compare
// the served routes with the document.
type routeMux struct {
	*http.ServeMux
	// patterns are the registered patterns, e.g. "GET /api/v1/summary", in
	// registration order.
	patterns []string
}

func newRouteMux() *routeMux {
	return &routeMux{ServeMux: http.NewServeMux()}
}

// Handle registers handler for pattern and records the pattern.
func (m *routeMux) Handle(pattern string, handler http.Handler) {
	m.ServeMux.Handle(pattern, handler)
	m.patterns = append(m.patterns, pattern)
}

// HandleFunc registers handler for pattern and records the pattern.
func (m *routeMux) HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request)) {
	m.ServeMux.HandleFunc(pattern, handler)
	m.patterns = append(m.patterns, pattern)
}
