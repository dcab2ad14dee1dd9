// Package handlers holds caddy-cpam's HTTP handler modules and their
// Caddyfile directives: cpam_panel (the web panel), cpam_api (the usage
// service API) and cpam_management (the authenticated proxy to CPA's
// management API). They are thin glue over the Caddy-free packages.
package handlers

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"os"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/cpam-caddy/cpam/web"
)

func init() {
	caddy.RegisterModule(new(Panel))
}

// Default base paths the panel calls.
const (
	DefaultAPIBase        = "/cpam"
	DefaultManagementBase = "/v0/management"
)

// Panel serves the web panel: one self-contained HTML page, embedded in the
// binary unless File overrides it. The page learns where the usage API and
// the management proxy live from a <meta name="cpam-config"> tag.
type Panel struct {
	// APIBase is where the panel finds the cpam_api handler. Default /cpam.
	APIBase string `json:"api_base,omitempty"`
	// ManagementBase is where the panel finds the cpam_management proxy.
	// Default /v0/management.
	ManagementBase string `json:"management_base,omitempty"`
	// File serves this HTML file instead of the embedded panel.
	File string `json:"file,omitempty"`

	page    []byte
	etag    string
	modTime time.Time
}

// CaddyModule returns the Caddy module information.
func (*Panel) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.cpam_panel",
		New: func() caddy.Module { return new(Panel) },
	}
}

// Provision loads the page and injects the panel's configuration.
func (p *Panel) Provision(caddy.Context) error {
	if p.APIBase == "" {
		p.APIBase = DefaultAPIBase
	}
	if p.ManagementBase == "" {
		p.ManagementBase = DefaultManagementBase
	}
	page := web.ManagementHTML
	p.modTime = time.Now()
	if p.File != "" {
		b, err := os.ReadFile(p.File)
		if err != nil {
			return fmt.Errorf("cpam_panel: reading file: %w", err)
		}
		page = b
	}
	cfg, err := json.Marshal(map[string]string{"apiBase": p.APIBase, "managementBase": p.ManagementBase})
	if err != nil {
		return fmt.Errorf("cpam_panel: encoding page config: %w", err)
	}
	p.page = injectMeta(page, `<meta name="cpam-config" content="`+html.EscapeString(string(cfg))+`">`)
	sum := sha256.Sum256(p.page)
	p.etag = `"` + hex.EncodeToString(sum[:12]) + `"`
	return nil
}

// injectMeta puts tag right before </head>, or at the start of the page when
// it has no head.
func injectMeta(page []byte, tag string) []byte {
	i := bytes.Index(bytes.ToLower(page), []byte("</head>"))
	if i < 0 {
		return append([]byte(tag), page...)
	}
	out := make([]byte, 0, len(page)+len(tag))
	out = append(out, page[:i]...)
	out = append(out, tag...)
	return append(out, page[i:]...)
}

// ServeHTTP serves the page for GET and HEAD.
func (p *Panel) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		return caddyhttp.Error(http.StatusMethodNotAllowed, fmt.Errorf("the panel only answers GET and HEAD"))
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", p.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "frame-ancestors 'none'")
	http.ServeContent(w, r, "", p.modTime, bytes.NewReader(p.page))
	return nil
}

// Interface guards.
var (
	_ caddy.Provisioner           = (*Panel)(nil)
	_ caddyhttp.MiddlewareHandler = (*Panel)(nil)
)
