package module

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
)

// Collector modes an upstream accepts.
const (
	CollectorAuto      = "auto"
	CollectorSubscribe = "subscribe"
	CollectorHTTP      = "http"
	CollectorRESP      = "resp"
)

// Defaults applied when an option is not set.
const (
	DefaultUpstreamName = "default"
	DefaultPollInterval = 10 * time.Second
	DefaultRetention    = 90 * 24 * time.Hour
	minPollInterval     = time.Second
	maxPollInterval     = 30 * time.Minute
	minRetention        = time.Hour
	DefaultSessionTTL   = 12 * time.Hour
	minSessionTTL       = 5 * time.Minute
	maxSessionTTL       = 90 * 24 * time.Hour
	DefaultQueryLimit   = 50000
	maxQueryLimit       = 1000000
	// DefaultMaxImportSize bounds a usage import body (256 MiB).
	DefaultMaxImportSize = 256 << 20
	minImportSize        = 1 << 10
)

// Default catalogue URLs of the model price sync.
const (
	DefaultModelsDevURL  = "https://models.dev/api.json"
	DefaultLiteLLMURL    = "https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json"
	DefaultOpenRouterURL = "https://openrouter.ai/api/v1/models"
	// PriceSourceOff disables a price source.
	PriceSourceOff = "off"
)

// PriceSources are the catalogue URLs the model price sync reads. An empty
// field uses the public default; "off" disables the source.
type PriceSources struct {
	ModelsDev  string `json:"models_dev,omitempty"`
	LiteLLM    string `json:"litellm,omitempty"`
	OpenRouter string `json:"openrouter,omitempty"`
}

var upstreamNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// Upstream is one CPA instance whose usage is collected and whose management
// API is proxied.
type Upstream struct {
	// Name identifies the upstream in stored events and in the panel. It may
	// be omitted when only one CPA is configured ("default" is used).
	// Lowercase letters, digits, '-' and '_'.
	Name string `json:"name,omitempty"`

	// URL is CPA's base URL, e.g. "http://127.0.0.1:8317". The collector
	// reaches CPA's usage stream on the same host and port.
	URL string `json:"url"`

	// ManagementKey is CPA's management key. Write it as a placeholder
	// ({env.CPA_MANAGEMENT_KEY} or {file./run/secrets/cpa}) so it is resolved
	// when the config loads and never stored in Caddy's autosaved config.
	ManagementKey string `json:"management_key,omitempty"`

	// Collector selects how usage is collected: "auto" (default: subscribe,
	// drain the queue after every (re)subscribe, fall back to HTTP polling),
	// "subscribe", "http" or "resp".
	Collector string `json:"collector,omitempty"`

	// PollInterval is how often the HTTP fallback polls CPA's usage queue.
	// Keep it well below CPA's redis-usage-queue-retention-seconds (60 s by
	// default). Default 10s.
	PollInterval caddy.Duration `json:"poll_interval,omitempty"`

	// TLSInsecureSkipVerify disables certificate verification when URL is
	// https. Only for a CPA with a self-signed certificate on a trusted
	// network.
	TLSInsecureSkipVerify bool `json:"tls_insecure_skip_verify,omitempty"`
}

// Settings is the resolved, validated form of the app's configuration:
// defaults applied and secrets read from their placeholders.
type Settings struct {
	Upstreams   []UpstreamSettings
	AdminKey    string
	Database    string
	Retention   time.Duration
	CORSOrigins []string
	SessionTTL  time.Duration
	QueryLimit  int
	// MaxImportSize is the largest usage import body in bytes.
	MaxImportSize int64
	// PriceSources maps a price source name ("models.dev", "litellm",
	// "openrouter") to its URL, in sync priority order; disabled sources
	// are left out.
	PriceSources []PriceSource
}

// PriceSource is one enabled catalogue of the model price sync.
type PriceSource struct {
	Name string
	URL  string
}

// UpstreamSettings is the resolved form of one Upstream.
type UpstreamSettings struct {
	Name                  string
	URL                   *url.URL
	ManagementKey         string
	Collector             string
	PollInterval          time.Duration
	TLSInsecureSkipVerify bool
}

// Upstream returns the upstream with the given name; an empty name selects
// the first configured upstream.
func (s *Settings) Upstream(name string) (UpstreamSettings, bool) {
	for _, u := range s.Upstreams {
		if name == "" || u.Name == name {
			return u, true
		}
	}
	return UpstreamSettings{}, false
}

// secretResolver turns an option value into its run-time value, resolving
// {env.*} and {file.*} placeholders.
type secretResolver func(value string) (string, error)

// resolve builds Settings from the app's JSON fields. It reports every
// problem with the option name, so an operator knows what to change.
func (a *App) resolve(resolveValue secretResolver, defaultDatabase string) (*Settings, error) {
	s := &Settings{
		Database:  a.Database,
		Retention: time.Duration(a.Retention),
	}
	var err error
	if s.Database != "" {
		if s.Database, err = resolveValue(s.Database); err != nil {
			return nil, fmt.Errorf("database: %w", err)
		}
	} else {
		s.Database = defaultDatabase
	}
	if s.Retention == 0 {
		s.Retention = DefaultRetention
	}
	if s.Retention < minRetention {
		return nil, fmt.Errorf("retention %s is too short: raw events must be kept at least %s", s.Retention, minRetention)
	}
	if a.AdminKey != "" {
		if s.AdminKey, err = resolveValue(a.AdminKey); err != nil {
			return nil, fmt.Errorf("admin_key: %w", err)
		}
		if len(s.AdminKey) < 16 {
			return nil, errors.New("admin_key must be at least 16 characters; generate one with: openssl rand -hex 24")
		}
	}
	if s.SessionTTL = time.Duration(a.SessionTTL); s.SessionTTL == 0 {
		s.SessionTTL = DefaultSessionTTL
	}
	if s.SessionTTL < minSessionTTL || s.SessionTTL > maxSessionTTL {
		return nil, fmt.Errorf("session_ttl %s is out of range: use %s to %s", s.SessionTTL, minSessionTTL, maxSessionTTL)
	}
	if s.QueryLimit = a.QueryLimit; s.QueryLimit == 0 {
		s.QueryLimit = DefaultQueryLimit
	}
	if s.QueryLimit < 1 || s.QueryLimit > maxQueryLimit {
		return nil, fmt.Errorf("query_limit %d is out of range: use 1 to %d", s.QueryLimit, maxQueryLimit)
	}
	if s.MaxImportSize = a.MaxImportSize; s.MaxImportSize == 0 {
		s.MaxImportSize = DefaultMaxImportSize
	}
	if s.MaxImportSize < minImportSize {
		return nil, fmt.Errorf("max_import_size %d is too small: use at least 1KiB", s.MaxImportSize)
	}
	if s.PriceSources, err = a.PriceSources.resolve(resolveValue); err != nil {
		return nil, fmt.Errorf("price_sources: %w", err)
	}
	for _, origin := range a.CORSOrigins {
		if err := checkOrigin(origin); err != nil {
			return nil, fmt.Errorf("cors_origins: %w", err)
		}
		s.CORSOrigins = append(s.CORSOrigins, strings.TrimSuffix(origin, "/"))
	}
	seen := make(map[string]bool)
	for i, up := range a.CPA {
		if up == nil {
			return nil, fmt.Errorf("cpa #%d: empty upstream", i+1)
		}
		us, err := up.resolve(resolveValue, len(a.CPA))
		if err != nil {
			return nil, err
		}
		if seen[us.Name] {
			return nil, fmt.Errorf("cpa %s: name used twice; give every CPA upstream its own name", us.Name)
		}
		seen[us.Name] = true
		s.Upstreams = append(s.Upstreams, us)
	}
	return s, nil
}

// resolve lists the enabled sources in sync priority order: models.dev,
// LiteLLM, OpenRouter.
func (p *PriceSources) resolve(resolveValue secretResolver) ([]PriceSource, error) {
	var ps PriceSources
	if p != nil {
		ps = *p
	}
	var out []PriceSource
	for _, src := range []struct{ name, value, def string }{
		{"models.dev", ps.ModelsDev, DefaultModelsDevURL},
		{"litellm", ps.LiteLLM, DefaultLiteLLMURL},
		{"openrouter", ps.OpenRouter, DefaultOpenRouterURL},
	} {
		v := src.value
		if v == PriceSourceOff {
			continue
		}
		if v == "" {
			v = src.def
		}
		v, err := resolveValue(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", src.name, err)
		}
		if err := checkSourceURL(v); err != nil {
			return nil, fmt.Errorf("%s: %w", src.name, err)
		}
		out = append(out, PriceSource{Name: src.name, URL: v})
	}
	return out, nil
}

// checkSourceURL accepts an absolute http(s) URL.
func checkSourceURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL; write the full URL of the catalogue, or off", raw)
	}
	return nil
}

func (u *Upstream) resolve(resolveValue secretResolver, count int) (UpstreamSettings, error) {
	us := UpstreamSettings{
		Name:                  u.Name,
		Collector:             u.Collector,
		PollInterval:          time.Duration(u.PollInterval),
		TLSInsecureSkipVerify: u.TLSInsecureSkipVerify,
	}
	if us.Name == "" {
		if count > 1 {
			return us, fmt.Errorf("cpa %s: a name is required when several CPA upstreams are configured (cpa <name> <url>)", u.URL)
		}
		us.Name = DefaultUpstreamName
	}
	if !upstreamNamePattern.MatchString(us.Name) {
		return us, fmt.Errorf("cpa %q: invalid name; use lowercase letters, digits, '-' and '_' (at most 63 characters)", us.Name)
	}
	raw, err := resolveValue(u.URL)
	if err != nil {
		return us, fmt.Errorf("cpa %s: url: %w", us.Name, err)
	}
	if us.URL, err = parseUpstreamURL(raw); err != nil {
		return us, fmt.Errorf("cpa %s: %w", us.Name, err)
	}
	if u.ManagementKey == "" {
		return us, fmt.Errorf("cpa %s: management_key is required; add: management_key {env.CPA_MANAGEMENT_KEY}", us.Name)
	}
	if us.ManagementKey, err = resolveValue(u.ManagementKey); err != nil {
		return us, fmt.Errorf("cpa %s: management_key: %w", us.Name, err)
	}
	if us.Collector == "" {
		us.Collector = CollectorAuto
	}
	if err := checkCollector(us.Collector); err != nil {
		return us, fmt.Errorf("cpa %s: %w", us.Name, err)
	}
	if us.PollInterval == 0 {
		us.PollInterval = DefaultPollInterval
	}
	if err := checkPollInterval(us.PollInterval); err != nil {
		return us, fmt.Errorf("cpa %s: %w", us.Name, err)
	}
	return us, nil
}

func checkCollector(mode string) error {
	switch mode {
	case CollectorAuto, CollectorSubscribe, CollectorHTTP, CollectorRESP:
		return nil
	}
	return fmt.Errorf("unknown collector %q; use auto, subscribe, http or resp", mode)
}

func checkPollInterval(d time.Duration) error {
	if d < minPollInterval || d > maxPollInterval {
		return fmt.Errorf("poll_interval %s is out of range: use %s to %s, and keep it well below CPA's redis-usage-queue-retention-seconds", d, minPollInterval, maxPollInterval)
	}
	return nil
}

// parseUpstreamURL checks that raw is an http(s) base URL with a host and
// no path, query or credentials.
func parseUpstreamURL(raw string) (*url.URL, error) {
	if !strings.Contains(raw, "://") {
		return nil, fmt.Errorf("url %q must start with http:// or https://", raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("url %q is not a valid URL: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("url %q must start with http:// or https://", raw)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("url %q has no host", raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("url %q must not carry credentials; use management_key", raw)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("url %q must be CPA's base URL without a path, like http://127.0.0.1:8317", raw)
	}
	u.Path = ""
	return u, nil
}

// checkOrigin accepts an explicit browser origin such as
// "https://panel.example.com" (a wildcard would open the API to any site).
func checkOrigin(origin string) error {
	if origin == "*" {
		return errors.New(`"*" is not allowed: list each origin that may call the API, like https://panel.example.com`)
	}
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return fmt.Errorf("%q is not an origin; write scheme://host[:port], like https://panel.example.com", origin)
	}
	return nil
}

// isPlaceholder reports whether v is written as a run-time placeholder, so
// the secret stays out of the adapted JSON.
func isPlaceholder(v string) bool {
	return strings.HasPrefix(v, "{") && strings.HasSuffix(v, "}")
}
