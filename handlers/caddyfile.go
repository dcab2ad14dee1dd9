package handlers

import (
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func init() {
	registerDirective("cpam_panel", []string{"/management.html"}, func(d *caddyfile.Dispenser, _ string) (caddyhttp.MiddlewareHandler, error) {
		p := new(Panel)
		return p, p.UnmarshalCaddyfile(d)
	})
	registerDirective("cpam_api", []string{DefaultAPIBase, DefaultAPIBase + "/*"}, func(d *caddyfile.Dispenser, pathMatcher string) (caddyhttp.MiddlewareHandler, error) {
		a := new(API)
		if err := a.UnmarshalCaddyfile(d); err != nil {
			return nil, err
		}
		if a.BasePath == "" && pathMatcher != "" {
			base, ok := basePathOf(pathMatcher)
			if !ok {
				return nil, d.Errf("cannot tell the API's base path from matcher %q: use a prefix such as /cpam/* or set base_path", pathMatcher)
			}
			a.BasePath = base
		}
		return a, nil
	})
	registerDirective("cpam_management", []string{DefaultManagementBase + "/*", upstreamPathPrefix + "*"}, func(d *caddyfile.Dispenser, _ string) (caddyhttp.MiddlewareHandler, error) {
		m := new(Management)
		return m, m.UnmarshalCaddyfile(d)
	})
}

// registerDirective registers a handler directive that takes an optional
// matcher and, without one, matches defaultPaths, so the Caddyfile works
// without a matcher and the adapted JSON shows exactly what is matched. The
// handlers produce responses, so they run just before respond and no order
// option is needed.
func registerDirective(name string, defaultPaths []string, unmarshal func(d *caddyfile.Dispenser, pathMatcher string) (caddyhttp.MiddlewareHandler, error)) {
	httpcaddyfile.RegisterDirective(name, func(h httpcaddyfile.Helper) ([]httpcaddyfile.ConfigValue, error) {
		if !h.Next() {
			return nil, h.ArgErr()
		}
		var hasMatcher bool
		var pathMatcher string
		if h.NextArg() {
			tok := h.Val()
			hasMatcher = tok == "*" || strings.HasPrefix(tok, "/") || strings.HasPrefix(tok, "@")
			if strings.HasPrefix(tok, "/") {
				pathMatcher = tok
			}
		}
		h.Reset()
		h.Next()
		matcherSet, err := h.ExtractMatcherSet()
		if err != nil {
			return nil, err
		}
		handler, err := unmarshal(h.Dispenser, pathMatcher)
		if err != nil {
			return nil, err
		}
		if !hasMatcher {
			matcherSet = caddy.ModuleMap{"path": caddyconfig.JSON(caddyhttp.MatchPath(defaultPaths), nil)}
		}
		return h.NewRoute(matcherSet, handler), nil
	})
	httpcaddyfile.RegisterDirectiveOrder(name, httpcaddyfile.Before, "respond")
}

// basePathOf turns a prefix path matcher into the base path it serves:
// "/cpam/*", "/cpam*", "/cpam/" and "/cpam" all give "/cpam".
func basePathOf(matcher string) (string, bool) {
	base := strings.TrimSuffix(matcher, "*")
	if strings.ContainsAny(base, "*?[{") {
		return "", false
	}
	base = "/" + strings.Trim(base, "/")
	return base, true
}

// UnmarshalCaddyfile sets up the panel handler:
//
//	cpam_panel [<matcher>] {
//		api_base        <path>
//		management_base <path>
//		file            <path>
//	}
//
// Without a matcher it serves /management.html.
func (p *Panel) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	seen := make(map[string]bool)
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		opt := d.Val()
		if seen[opt] {
			return d.Errf("%s is given twice", opt)
		}
		seen[opt] = true
		var dst *string
		switch opt {
		case "api_base":
			dst = &p.APIBase
		case "management_base":
			dst = &p.ManagementBase
		case "file":
			dst = &p.File
		default:
			return d.Errf("unknown cpam_panel option %q; expected api_base, management_base or file", opt)
		}
		if err := oneArg(d, dst); err != nil {
			return err
		}
		if opt != "file" && !strings.HasPrefix(*dst, "/") {
			return d.Errf("%s must be a path starting with /, got %q", opt, *dst)
		}
	}
	return nil
}

// UnmarshalCaddyfile sets up the API handler:
//
//	cpam_api [<matcher>] {
//		base_path <path>
//	}
//
// Without a matcher it serves /cpam and everything below. The base path is
// taken from a prefix path matcher (cpam_api /stats/* serves at /stats) or
// set with base_path.
func (a *API) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		switch d.Val() {
		case "base_path":
			if a.BasePath != "" {
				return d.Err("base_path is given twice")
			}
			if err := oneArg(d, &a.BasePath); err != nil {
				return err
			}
			if !strings.HasPrefix(a.BasePath, "/") {
				return d.Errf("base_path must start with /, got %q", a.BasePath)
			}
		default:
			return d.Errf("unknown cpam_api option %q; expected base_path", d.Val())
		}
	}
	return nil
}

// UnmarshalCaddyfile sets up the management proxy:
//
//	cpam_management [<matcher>] {
//		upstream <name>
//	}
//
// Without a matcher it serves /v0/management/* and /cpa/* (the upstream
// chosen by path: /cpa/<name>/v0/management/...). upstream pins the handler
// to one of the CPA upstreams of the cpam global option; without it any of
// them can be chosen by path or X-CPAM-Upstream header, the first by
// default.
func (m *Management) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		switch d.Val() {
		case "upstream":
			if m.Upstream != "" {
				return d.Err("upstream is given twice")
			}
			if err := oneArg(d, &m.Upstream); err != nil {
				return err
			}
		default:
			return d.Errf("unknown cpam_management option %q; expected upstream", d.Val())
		}
	}
	return nil
}

// oneArg reads exactly one argument into dst.
func oneArg(d *caddyfile.Dispenser, dst *string) error {
	if !d.NextArg() {
		return d.ArgErr()
	}
	*dst = d.Val()
	if d.NextArg() {
		return d.ArgErr()
	}
	return nil
}

// Interface guards.
var (
	_ caddyfile.Unmarshaler = (*Panel)(nil)
	_ caddyfile.Unmarshaler = (*API)(nil)
	_ caddyfile.Unmarshaler = (*Management)(nil)
)
