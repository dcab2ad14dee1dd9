package module

import (
	"math"
	"strconv"
	"strings"

	"github.com/dustin/go-humanize"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
)

func init() {
	httpcaddyfile.RegisterGlobalOption("cpam", parseGlobalOption)
}

// parseGlobalOption turns the "cpam" global option into the cpam app.
func parseGlobalOption(d *caddyfile.Dispenser, existing any) (any, error) {
	if existing != nil {
		return nil, d.Err("the cpam global option is given twice; put all its settings in one cpam { } block")
	}
	app := new(App)
	if err := app.UnmarshalCaddyfile(d); err != nil {
		return nil, err
	}
	return httpcaddyfile.App{Name: "cpam", Value: caddyconfig.JSON(app, nil)}, nil
}

// UnmarshalCaddyfile sets up the app from the cpam global option:
//
//	cpam {
//		cpa [<name>] <url> {
//			management_key <key>
//			collector auto|subscribe|http|resp
//			poll_interval <duration>
//			tls_insecure_skip_verify
//		}
//		admin_key <key>
//		database <path>
//		retention <duration>
//		cors_origins <origin...>
//		session_ttl <duration>
//		query_limit <n>
//		max_import_size <size>
//		price_sources {
//			models_dev <url>|off
//			litellm <url>|off
//			openrouter <url>|off
//		}
//	}
//
// Write keys as {env.NAME} or {file.PATH} placeholders: they are resolved
// when the config loads and never stored in the adapted JSON.
func (a *App) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the option name
	if d.NextArg() {
		return d.ArgErr()
	}
	seen := make(map[string]bool)
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		opt := d.Val()
		if opt != "cpa" && seen[opt] {
			return d.Errf("%s is given twice", opt)
		}
		seen[opt] = true
		switch opt {
		case "cpa":
			up, err := parseUpstream(d)
			if err != nil {
				return err
			}
			a.CPA = append(a.CPA, up)
		case "admin_key":
			if err := singleArg(d, &a.AdminKey); err != nil {
				return err
			}
		case "database":
			if err := singleArg(d, &a.Database); err != nil {
				return err
			}
		case "retention":
			var raw string
			if err := singleArg(d, &raw); err != nil {
				return err
			}
			dur, err := caddy.ParseDuration(raw)
			if err != nil {
				return d.Errf("retention %q: %v (write it like 90d or 720h)", raw, err)
			}
			if dur < minRetention {
				return d.Errf("retention %s is too short: raw events must be kept at least 1h", raw)
			}
			a.Retention = caddy.Duration(dur)
		case "cors_origins":
			origins := d.RemainingArgs()
			if len(origins) == 0 {
				return d.ArgErr()
			}
			for _, o := range origins {
				if err := checkOrigin(o); err != nil {
					return d.Errf("cors_origins: %v", err)
				}
			}
			a.CORSOrigins = origins
		case "session_ttl":
			var raw string
			if err := singleArg(d, &raw); err != nil {
				return err
			}
			dur, err := caddy.ParseDuration(raw)
			if err != nil {
				return d.Errf("session_ttl %q: %v (write it like 12h)", raw, err)
			}
			a.SessionTTL = caddy.Duration(dur)
		case "query_limit":
			var raw string
			if err := singleArg(d, &raw); err != nil {
				return err
			}
			n, err := strconv.Atoi(raw)
			if err != nil || n < 1 {
				return d.Errf("query_limit %q must be a positive number of events, like 50000", raw)
			}
			a.QueryLimit = n
		case "max_import_size":
			var raw string
			if err := singleArg(d, &raw); err != nil {
				return err
			}
			n, err := humanize.ParseBytes(raw)
			if err != nil || n == 0 || n > math.MaxInt64 {
				return d.Errf("max_import_size %q must be a size, like 256MiB or 2GB", raw)
			}
			a.MaxImportSize = int64(n)
		case "price_sources":
			ps, err := parsePriceSources(d)
			if err != nil {
				return err
			}
			a.PriceSources = ps
		default:
			return d.Errf("unknown cpam option %q; expected cpa, admin_key, database, retention, cors_origins, session_ttl, query_limit, max_import_size or price_sources", opt)
		}
	}
	if len(a.CPA) > 1 {
		names := make(map[string]bool)
		for _, up := range a.CPA {
			if up.Name == "" {
				return d.Errf("cpa %s needs a name when several CPA upstreams are configured: cpa <name> <url>", up.URL)
			}
			if names[up.Name] {
				return d.Errf("cpa name %q is used twice", up.Name)
			}
			names[up.Name] = true
		}
	}
	return nil
}

// parseUpstream parses one "cpa [<name>] <url> { ... }" line and block.
func parseUpstream(d *caddyfile.Dispenser) (*Upstream, error) {
	up := new(Upstream)
	args := d.RemainingArgs()
	switch len(args) {
	case 1:
		up.URL = args[0]
	case 2:
		up.Name, up.URL = args[0], args[1]
		if !upstreamNamePattern.MatchString(up.Name) {
			return nil, d.Errf("cpa name %q is invalid; use lowercase letters, digits, '-' and '_'", up.Name)
		}
	default:
		return nil, d.Errf("cpa takes a URL and an optional name before it: cpa [<name>] <url>")
	}
	if !strings.Contains(up.URL, "{") {
		if _, err := parseUpstreamURL(up.URL); err != nil {
			return nil, d.Errf("cpa: %v", err)
		}
	}
	seen := make(map[string]bool)
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		opt := d.Val()
		if seen[opt] {
			return nil, d.Errf("%s is given twice in this cpa block", opt)
		}
		seen[opt] = true
		switch opt {
		case "management_key":
			if err := singleArg(d, &up.ManagementKey); err != nil {
				return nil, err
			}
		case "collector":
			if err := singleArg(d, &up.Collector); err != nil {
				return nil, err
			}
			if err := checkCollector(up.Collector); err != nil {
				return nil, d.Err(err.Error())
			}
		case "poll_interval":
			var raw string
			if err := singleArg(d, &raw); err != nil {
				return nil, err
			}
			dur, err := caddy.ParseDuration(raw)
			if err != nil {
				return nil, d.Errf("poll_interval %q: %v (write it like 10s)", raw, err)
			}
			if err := checkPollInterval(dur); err != nil {
				return nil, d.Err(err.Error())
			}
			up.PollInterval = caddy.Duration(dur)
		case "tls_insecure_skip_verify":
			if d.NextArg() {
				return nil, d.ArgErr()
			}
			up.TLSInsecureSkipVerify = true
		default:
			return nil, d.Errf("unknown cpa option %q; expected management_key, collector, poll_interval or tls_insecure_skip_verify", opt)
		}
	}
	if up.ManagementKey == "" {
		return nil, d.Errf("cpa %s: management_key is required; add: management_key {env.CPA_MANAGEMENT_KEY}", up.URL)
	}
	return up, nil
}

// parsePriceSources parses the price_sources block.
func parsePriceSources(d *caddyfile.Dispenser) (*PriceSources, error) {
	if d.NextArg() {
		return nil, d.ArgErr()
	}
	ps := new(PriceSources)
	seen := make(map[string]bool)
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		opt := d.Val()
		if seen[opt] {
			return nil, d.Errf("%s is given twice in price_sources", opt)
		}
		seen[opt] = true
		var dst *string
		switch opt {
		case "models_dev":
			dst = &ps.ModelsDev
		case "litellm":
			dst = &ps.LiteLLM
		case "openrouter":
			dst = &ps.OpenRouter
		default:
			return nil, d.Errf("unknown price source %q; expected models_dev, litellm or openrouter", opt)
		}
		if err := singleArg(d, dst); err != nil {
			return nil, err
		}
		if *dst != PriceSourceOff && !strings.Contains(*dst, "{") {
			if err := checkSourceURL(*dst); err != nil {
				return nil, d.Errf("price_sources %s: %v", opt, err)
			}
		}
	}
	return ps, nil
}

// singleArg reads exactly one argument into dst.
func singleArg(d *caddyfile.Dispenser, dst *string) error {
	if !d.NextArg() {
		return d.ArgErr()
	}
	*dst = d.Val()
	if d.NextArg() {
		return d.ArgErr()
	}
	return nil
}

// Interface guard.
var _ caddyfile.Unmarshaler = (*App)(nil)
