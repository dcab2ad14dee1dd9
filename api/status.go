package api

import (
	_ "embed" // the OpenAPI document
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"time"

	"github.com/cpam-caddy/cpam/collector"
	"github.com/cpam-caddy/cpam/internal/version"
	"github.com/cpam-caddy/cpam/store"
)

// openAPIDoc is the OpenAPI 3.0 description of every API route, served by
// GET /api/v1/openapi.json.
//
//go:embed openapi.json
var openAPIDoc []byte

// openAPI answers GET /api/v1/openapi.json.
func (h *Handler) openAPI(w http.ResponseWriter, r *http.Request, _ *query) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(openAPIDoc)
	return nil
}

// databaseJSON describes the database file.
type databaseJSON struct {
	Path string `json:"path"`
	// SizeBytes is FileBytes + WALBytes.
	SizeBytes     int64 `json:"sizeBytes"`
	FileBytes     int64 `json:"fileBytes"`
	WALBytes      int64 `json:"walBytes"`
	SchemaVersion int   `json:"schemaVersion"`
	// RetentionSeconds is how long raw events are kept (rollups are kept
	// for good); 0 when the backend does not say.
	RetentionSeconds int64 `json:"retentionSeconds,omitempty"`
	// Compaction says how far the analytics cubes are built.
	Compaction *compactionJSON `json:"compaction,omitempty"`
}

// compactionJSON is store.CompactionStatus.
type compactionJSON struct {
	// Watermark is the end of the compacted time (null before the first
	// compaction).
	Watermark *time.Time `json:"watermark"`
	// PendingQuarterHours counts the quarter hours waiting for compaction;
	// their queries are exact but read the 15-minute rollups.
	PendingQuarterHours int64  `json:"pendingQuarterHours"`
	LastError           string `json:"lastError,omitempty"`
}

// RetentionReporter is implemented by backends that know how long raw
// events are kept.
type RetentionReporter interface {
	Retention() time.Duration
}

// warningJSON is one collector warning, lifted to the top of /status.
type warningJSON struct {
	Upstream string `json:"upstream"`
	Message  string `json:"message"`
}

// statusJSON is the answer of GET /status.
type statusJSON struct {
	Service    string             `json:"service"`
	Version    string             `json:"version"`
	Time       time.Time          `json:"time"`
	Database   *databaseJSON      `json:"database"`
	Collectors []collector.Status `json:"collectors"`
	Warnings   []warningJSON      `json:"warnings"`
	// Settings is the effective configuration, when the backend reports it.
	Settings *ServiceSettings `json:"settings,omitempty"`
}

// ServiceSettings is caddy-cpam's effective configuration as /status shows
// it: no keys, only whether they are set.
type ServiceSettings struct {
	Upstreams []UpstreamSetting `json:"upstreams"`
	// AdminKey is "configured" (admin_key option) or "generated" (stored hash).
	AdminKey          string        `json:"adminKey"`
	RetentionSeconds  int64         `json:"retentionSeconds"`
	SessionTTLSeconds int64         `json:"sessionTtlSeconds"`
	QueryLimit        int           `json:"queryLimit"`
	MaxImportSize     int64         `json:"maxImportSize"`
	CORSOrigins       []string      `json:"corsOrigins"`
	PriceSources      []PriceSource `json:"priceSources"`
}

// UpstreamSetting is one configured CPA.
type UpstreamSetting struct {
	Name string `json:"name"`
	// URL is CPA's base URL without user information, query or fragment.
	URL                   string `json:"url"`
	Collector             string `json:"collector"`
	PollIntervalSeconds   int64  `json:"pollIntervalSeconds"`
	TLSInsecureSkipVerify bool   `json:"tlsInsecureSkipVerify"`
	ManagementKeySet      bool   `json:"managementKeySet"`
}

// SettingsReporter is implemented by backends that can describe their
// effective configuration for /status.
type SettingsReporter interface {
	ServiceSettings() ServiceSettings
}

// status answers GET /status: version, database file and collectors.
func (h *Handler) status(w http.ResponseWriter, r *http.Request, _ *query) error {
	out := statusJSON{Service: "caddy-cpam", Version: version.String(), Time: timeNow().UTC(),
		Collectors: []collector.Status{}, Warnings: []warningJSON{}}
	if h.opts.Backend != nil {
		if s := h.opts.Backend.Store(); s != nil {
			db, err := databaseView(s)
			if err != nil {
				return err
			}
			if rr, ok := h.opts.Backend.(RetentionReporter); ok {
				db.RetentionSeconds = int64(rr.Retention() / time.Second)
			}
			cs, err := s.CompactionStatus(r.Context())
			if err != nil {
				return fmt.Errorf("status: %w", err)
			}
			db.Compaction = &compactionJSON{PendingQuarterHours: cs.Pending, LastError: cs.LastError}
			if !cs.Watermark.IsZero() {
				db.Compaction.Watermark = &cs.Watermark
			}
			if cs.LastError != "" {
				out.Warnings = append(out.Warnings, warningJSON{Message: "building the analytics cubes fails (" + cs.LastError +
					"): queries stay exact but slow down; check the disk and the database file"})
			}
			out.Database = db
		}
		if cs := h.opts.Backend.CollectorStatus(); cs != nil {
			out.Collectors = cs
		}
		if sr, ok := h.opts.Backend.(SettingsReporter); ok {
			settings := sr.ServiceSettings()
			out.Settings = &settings
		}
	}
	for _, c := range out.Collectors {
		for _, msg := range collectorWarnings(c) {
			out.Warnings = append(out.Warnings, warningJSON{Upstream: c.Upstream, Message: msg})
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// collectorWarnings lists the warnings of c once each: its Warnings, the
// loss and restart warnings (normally already among them), and the
// conditions that stop collection or storage.
func collectorWarnings(c collector.Status) []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, s := range c.Warnings {
		add(s)
	}
	add(c.LossWarning)
	add(c.RestartWarning)
	if c.Stopped {
		msg := "collection stopped; fix the upstream configuration and reload Caddy"
		if c.LastError != "" {
			msg = "collection stopped (" + c.LastError + "); fix the upstream configuration and reload Caddy"
		}
		add(msg)
	}
	if c.IngestError != "" {
		add("storing events fails: " + c.IngestError)
	}
	return out
}

// databaseView reports the database file and its WAL sizes.
func databaseView(s *store.Store) (*databaseJSON, error) {
	db := &databaseJSON{Path: s.Path(), SchemaVersion: store.SchemaVersion}
	size := func(p string) (int64, error) {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return 0, nil
		}
		if err != nil {
			return 0, fmt.Errorf("status: reading the size of %s: %w", p, err)
		}
		return fi.Size(), nil
	}
	var err error
	if db.FileBytes, err = size(db.Path); err != nil {
		return nil, err
	}
	if db.WALBytes, err = size(db.Path + "-wal"); err != nil {
		return nil, err
	}
	db.SizeBytes = db.FileBytes + db.WALBytes
	return db, nil
}
