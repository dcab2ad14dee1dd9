// Package module is the Caddy app "cpam": its JSON configuration, the
// "cpam" global option of the Caddyfile, and the lifecycle that keeps one
// Runtime (database and collectors) per database file across config reloads.
package module

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
)

func init() {
	caddy.RegisterModule(new(App))
}

// runtimes holds one *Runtime per absolute database path. A reload
// provisions the new config (reference count 2) before cleaning up the old
// one (back to 1), so the database is never closed or opened twice.
var runtimes = caddy.NewUsagePool()

// App is the cpam app: it connects Caddy to one or more CLIProxyAPI (CPA)
// instances, keeps their usage in a SQLite database and serves what the
// cpam_panel, cpam_api and cpam_management handlers need.
type App struct {
	// CPA lists the CPA instances to manage and collect usage from.
	CPA []*Upstream `json:"cpa,omitempty"`

	// AdminKey is the key that unlocks the panel and the usage API. Write it
	// as a placeholder ({env.CPAM_ADMIN_KEY}); at least 16 characters. It is
	// kept in memory only. When empty, the first start generates a key,
	// logs it once and stores only its argon2id hash in the database.
	AdminKey string `json:"admin_key,omitempty"`

	// Database is the SQLite file. Default: cpam/cpam.db under Caddy's data
	// directory.
	Database string `json:"database,omitempty"`

	// Retention is how long raw usage events are kept; aggregates are kept
	// for good. Default 90 days.
	Retention caddy.Duration `json:"retention,omitempty"`

	// CORSOrigins lists browser origins allowed to call the usage API from
	// another site (e.g. a panel served by CPA itself). Empty: none.
	CORSOrigins []string `json:"cors_origins,omitempty"`

	// SessionTTL is how long a panel session lasts without being used (the
	// expiry slides with every request). Default 12h.
	SessionTTL caddy.Duration `json:"session_ttl,omitempty"`

	// QueryLimit caps the events the CPA-Manager compatible aggregate
	// (/v0/management/usage) lists in detail; its totals always cover the
	// whole range. Default 50000.
	QueryLimit int `json:"query_limit,omitempty"`

	// MaxImportSize is the largest usage import body in bytes; larger
	// uploads get 413. Default 256 MiB.
	MaxImportSize int64 `json:"max_import_size,omitempty"`

	// PriceSources overrides where the model price sync downloads its
	// catalogues from; "off" disables a source.
	PriceSources *PriceSources `json:"price_sources,omitempty"`

	settings *Settings
	runtime  *Runtime
	poolKey  string
	logger   *zap.Logger
}

// CaddyModule returns the Caddy module information.
func (*App) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "cpam",
		New: func() caddy.Module { return new(App) },
	}
}

// DefaultDatabasePath is where the database lives when none is configured.
func DefaultDatabasePath() string {
	return filepath.Join(caddy.AppDataDir(), "cpam", "cpam.db")
}

// Provision resolves secrets and settings and takes a reference to the
// Runtime for the database, opening it if this is the first reference. It
// starts no background work.
func (a *App) Provision(ctx caddy.Context) error {
	a.logger = ctx.Logger()
	settings, err := a.resolve(resolvePlaceholders, DefaultDatabasePath())
	if err != nil {
		return fmt.Errorf("cpam: %w", err)
	}
	a.warnLiteralSecrets()

	path, err := filepath.Abs(settings.Database)
	if err != nil {
		return fmt.Errorf("cpam: database path %s: %w", settings.Database, err)
	}
	settings.Database = path
	a.settings = settings

	val, _, err := runtimes.LoadOrNew(path, func() (caddy.Destructor, error) {
		return newRuntime(ctx, path)
	})
	if err != nil {
		return fmt.Errorf("cpam: %w", err)
	}
	a.poolKey = path
	a.runtime = val.(*Runtime)
	if reg := ctx.GetMetricsRegistry(); reg != nil {
		if err := registerMetrics(reg, a.runtime); err != nil {
			a.logger.Warn("registering the cpam metrics failed; /metrics will lack them", zap.Error(err))
		}
	}
	return nil
}

// resolvePlaceholders resolves {env.*} and {file.*} (and Caddy's other
// global placeholders) in v; a placeholder that is unknown or empty is an
// error, so a missing secret stops the config instead of running without it.
func resolvePlaceholders(v string) (string, error) {
	out, err := caddy.NewReplacer().ReplaceOrErr(v, true, true)
	if err != nil {
		return "", fmt.Errorf("%w (check that the environment variable or file it names is set)", err)
	}
	return out, nil
}

// Validate rejects settings that would make caddy-cpam misbehave at run
// time: two upstreams naming the same CPA would pop its usage queue twice
// and split the records between them.
func (a *App) Validate() error {
	seen := make(map[string]string)
	for _, up := range a.settings.Upstreams {
		addr := up.URL.Scheme + "://" + strings.ToLower(up.URL.Host)
		if other, dup := seen[addr]; dup {
			return fmt.Errorf("cpam: cpa %s and cpa %s both point at %s; collecting one CPA twice would split its usage queue between them, so configure it once", other, up.Name, addr)
		}
		seen[addr] = up.Name
	}
	return nil
}

// warnLiteralSecrets points out secrets written literally in the config:
// they end up in Caddy's autosave.json and its admin API.
func (a *App) warnLiteralSecrets() {
	if a.AdminKey != "" && !isPlaceholder(a.AdminKey) {
		a.logger.Warn("admin_key is written literally in the config; use {env.CPAM_ADMIN_KEY} or {file.<path>} to keep it out of saved configs")
	}
	for _, up := range a.CPA {
		if up != nil && up.ManagementKey != "" && !isPlaceholder(up.ManagementKey) {
			a.logger.Warn("management_key is written literally in the config; use {env.CPA_MANAGEMENT_KEY} or {file.<path>} to keep it out of saved configs",
				zap.String("cpa", up.Name))
		}
	}
}

// Start applies this configuration's settings to the Runtime. During a
// reload this runs before the old configuration stops, so the Runtime is
// never without settings.
func (a *App) Start() error {
	if err := a.runtime.apply(a.settings); err != nil {
		return fmt.Errorf("cpam: %w", err)
	}
	a.logger.Info("cpam started",
		zap.String("database", a.settings.Database),
		zap.Int("cpa_upstreams", len(a.settings.Upstreams)),
		zap.Int64("config_generation", a.runtime.Generation()))
	return nil
}

// Stop does nothing: the Runtime outlives a configuration and is stopped
// when its last reference is cleaned up.
func (a *App) Stop() error { return nil }

// Cleanup releases this configuration's reference to the Runtime. It copes
// with a failed Provision.
func (a *App) Cleanup() error {
	if a.poolKey == "" {
		return nil
	}
	_, err := runtimes.Delete(a.poolKey)
	a.poolKey = ""
	if err != nil {
		return fmt.Errorf("cpam: releasing database: %w", err)
	}
	return nil
}

// Settings returns this configuration's resolved settings. Handlers read
// them in their Provision, after the app has been provisioned.
func (a *App) Settings() *Settings { return a.settings }

// Runtime returns the shared Runtime: the database and background work.
func (a *App) Runtime() *Runtime { return a.runtime }

// Interface guards.
var (
	_ caddy.App          = (*App)(nil)
	_ caddy.Provisioner  = (*App)(nil)
	_ caddy.Validator    = (*App)(nil)
	_ caddy.CleanerUpper = (*App)(nil)
	_ caddy.Destructor   = (*Runtime)(nil)
)
