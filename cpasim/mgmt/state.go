// Package mgmt is the management plane of the CPA simulator: the runtime
// configuration CPA keeps (client keys, provider credentials, auth files,
// scalar settings), the in-memory request counters, the log files, and the
// /v0/management HTTP routes that read and write them.
//
// The transport side of the simulator (package cpasim) authenticates
// management requests and then hands them to State.Handler. While it
// serves /v1 requests it reads the configuration through the accessor
// methods below, counts every upstream attempt (RecordAttempt), writes
// main.log lines (AppendLog) and the request and error log files
// (WriteRequestLog, WriteErrorLog), and it delivers OAuth provider
// redirects (CompleteOAuth).
//
// Configuration writes behave like CPA's hot reload: the management view
// (GET /config, the lists, /auth-files) changes at once, while the runtime
// view read by the accessors (Credentials, ClientKeyValid,
// UsageStatisticsEnabled, ...) changes after Options.ReloadDelay, after
// which the OnReload hooks run.
package mgmt

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"
)

// Options configures a State.
type Options struct {
	// SecretKey is the plaintext management key. Empty disables management:
	// every management route answers a bare 404 and RESP is refused. When
	// empty, a plaintext remote-management.secret-key of the initial config
	// document is used instead.
	SecretKey string
	// AllowRemote mirrors remote-management.allow-remote. When true it
	// overrides the initial config document; later config writes rule.
	AllowRemote bool
	// ReloadDelay is how long a configuration write takes to "hot-reload"
	// before it is visible and the refresh hook fires. CPA takes a few
	// hundred milliseconds; tests may set it to zero, which applies every
	// write synchronously before the response is written.
	ReloadDelay time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Location is the server's local time zone used for recent_requests
	// bucket labels; nil means time.Local.
	Location *time.Location

	// ConfigYAML is the initial config.yaml document. When empty,
	// ConfigFile is read once; when both are empty the simulator's default
	// configuration is used (client keys sk-cpa-test-1/2, usage statistics
	// on, retention 60 s, the "mock" openai-compatibility provider at
	// http://127.0.0.1:18080/v1, one claude-api-key and one codex-api-key
	// entry). The simulator never writes the document back to disk.
	ConfigYAML []byte
	// ConfigFile is a config.yaml path read once by LoadState.
	ConfigFile string
	// AuthFiles are the initial auth files (name → JSON). nil installs the
	// demo OAuth accounts (claude, codex, gemini-cli, antigravity for
	// demo@example.com); an empty non-nil map installs none.
	AuthFiles map[string][]byte
	// LatestVersion, when set, is what GET /latest-version reports. Empty
	// means the simulator is offline: 502 request_failed, as CPA without
	// internet access.
	LatestVersion string
	// DeviceAutoApprove, when positive, completes device-flow logins (kimi,
	// xai) on the first get-auth-status poll at least that long after the
	// flow started. Zero leaves them waiting for an oauth-callback.
	DeviceAutoApprove time.Duration
	// MaxLogLines caps the in-memory main.log; older lines rotate out.
	// Zero means 5000.
	MaxLogLines int
}

// Credential is one upstream credential CPA can route a request to: an
// entry of a provider key list or an OAuth auth file.
type Credential struct {
	// AuthIndex is CPA's stable credential id (16 hex characters).
	AuthIndex string
	// Provider is the executor id written into usage records, e.g.
	// "openai-compatible-mock", "claude", "codex", "gemini-cli".
	Provider string
	// ExecutorType is the Go type name of CPA's executor.
	ExecutorType string
	// AuthType is "apikey" or "oauth".
	AuthType string
	// Source is what a usage record carries in "source": the upstream API
	// key for API-key credentials, the account email for OAuth (the
	// project id for Vertex).
	Source string
	// Label is a human name (entry name, base URL or email).
	Label string
	// Models lists the model names clients may ask this credential for;
	// empty means any.
	Models []string
	// Disabled credentials are never chosen.
	Disabled bool

	// Section is the config section ("openai-compatibility",
	// "claude-api-key", ...) or "auth-file".
	Section string
	// Name is the openai-compatibility provider name or the auth file name.
	Name string
	// BaseURL is the upstream base URL of an API-key credential (the
	// section's official endpoint when the entry names none).
	BaseURL string
	// APIKey is the upstream key of an API-key credential.
	APIKey string
	// AccessToken is the OAuth access token of an auth-file credential.
	AccessToken string
	// ProxyURL is the credential's own proxy, if any.
	ProxyURL string
	// Headers are extra upstream headers configured for the credential.
	Headers map[string]string
	// Prefix is the model prefix configured for the credential.
	Prefix string
	// ProjectID is the Google project of Gemini/Vertex/Antigravity files.
	ProjectID string
	// AccountID is the ChatGPT account id of Codex files.
	AccountID string
	// ModelAlias maps a client-visible model name to the upstream model
	// name when they differ.
	ModelAlias map[string]string
}

// UpstreamModel returns the upstream model name for a client model name:
// the alias target when one is configured, else the name itself (without a
// credential prefix).
func (c Credential) UpstreamModel(model string) string {
	if c.Prefix != "" {
		model = strings.TrimPrefix(model, c.Prefix+"/")
	}
	if up, ok := c.ModelAlias[model]; ok {
		return up
	}
	return model
}

// AuthIndex computes CPA's auth_index for a seed: the first 8 bytes of the
// SHA-256 of the seed, hex encoded. Seeds are "<section>:<base-url>+<api-key>"
// for config keys and "<type>:<absolute path>" for auth files.
func AuthIndex(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return hex.EncodeToString(sum[:8])
}

// live is the runtime view of the configuration, replaced on every reload.
type live struct {
	secret           string
	allowRemote      bool
	apiKeys          []string
	usageOn          bool
	retention        int
	retry            int
	loggingToFile    bool
	requestLog       bool
	errorLogsMax     int
	forceModelPrefix bool
	creds            []Credential
	cfg              *Config // deep copy of the applied configuration
}

// State is the simulator's management plane. It is safe for concurrent use.
// Call Close when done with it to stop pending reload timers.
type State struct {
	opts    Options
	handler http.Handler

	mu       sync.RWMutex
	cfg      *Config               // management view, changed at once by writes
	raw      []byte                // config.yaml as served by GET /config.yaml
	node     *yaml.Node            // parsed raw, for comment-preserving saves
	secret   string                // plaintext secret of cfg
	files    map[string]*authFile  // auth files by name
	live     live                  // runtime view, replaced on reload
	counters map[string]*counter   // by auth_index
	logs     logStore              // main.log
	reqLogs  []logFile             // error and request log files, oldest first
	sessions map[string]*oauthFlow // OAuth flows by state
	oauthSeq int

	timer    *time.Timer
	closed   bool
	applying sync.WaitGroup

	hookMu   sync.Mutex
	onReload []func()
}

// LoadState returns a State holding the configuration named by opts (the
// simulator's default configuration when opts names none). It fails for an
// unreadable or invalid initial configuration or auth file.
func LoadState(opts Options) (*State, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.MaxLogLines <= 0 {
		opts.MaxLogLines = 5000
	}
	doc := opts.ConfigYAML
	if len(doc) == 0 && opts.ConfigFile != "" {
		data, err := os.ReadFile(opts.ConfigFile)
		if err != nil {
			return nil, fmt.Errorf("read config file: %w", err)
		}
		doc = data
	}
	if len(doc) == 0 {
		doc = []byte(defaultConfigYAML)
	}
	cfg, node, err := parseConfig(doc)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	secret := opts.SecretKey
	if sk := cfg.RemoteManagement.SecretKey; secret == "" && sk != "" && !isBcryptHash(sk) {
		secret = sk
	}
	if opts.AllowRemote {
		cfg.RemoteManagement.AllowRemote = true
		if node.Kind == yaml.DocumentNode && len(node.Content) == 1 {
			if v := mappingValue(mappingValue(node.Content[0], "remote-management"), "allow-remote"); v != nil {
				v.Value = "true"
			}
		}
	}
	s := &State{
		opts:     opts,
		cfg:      cfg,
		node:     node,
		files:    map[string]*authFile{},
		counters: map[string]*counter{},
		sessions: map[string]*oauthFlow{},
	}
	s.secret = secret
	s.cfg.RemoteManagement.SecretKey = secretHash(secret)
	s.raw = doc
	if applySecretToNode(node, secretHash(secret)) || opts.AllowRemote {
		if s.raw, err = encodeNode(node); err != nil {
			return nil, fmt.Errorf("load config: %w", err)
		}
	}
	files := opts.AuthFiles
	if files == nil {
		files = demoAuthFiles(opts.Now())
	}
	for name, data := range files {
		f, err := newAuthFile(name, data, opts.Now())
		if err != nil {
			return nil, fmt.Errorf("load auth file %s: %w", name, err)
		}
		s.files[name] = f
	}
	s.applyLocked()
	s.handler = s.routes()
	return s, nil
}

func secretHash(secret string) string {
	if secret == "" {
		return ""
	}
	return fakeBcrypt(secret)
}

// applyLocked makes the management view the runtime view. s.mu must be
// held for writing.
func (s *State) applyLocked() {
	c := s.cfg
	s.live = live{
		secret:           s.secret,
		allowRemote:      c.RemoteManagement.AllowRemote,
		apiKeys:          append([]string(nil), c.APIKeys...),
		usageOn:          c.UsageStatisticsEnabled,
		retention:        c.RedisUsageQueueRetentionSeconds,
		retry:            c.RequestRetry,
		loggingToFile:    c.LoggingToFile,
		requestLog:       c.RequestLog,
		errorLogsMax:     c.ErrorLogsMaxFiles,
		forceModelPrefix: c.ForceModelPrefix,
		creds:            buildCredentials(c, s.files),
		cfg:              cloneConfig(c),
	}
}

// saveLocked re-renders config.yaml from the management view, keeping the
// comments of the previous document. s.mu must be held for writing.
func (s *State) saveLocked() error {
	s.cfg.RemoteManagement.SecretKey = secretHash(s.secret)
	raw, err := renderConfig(s.cfg, s.node)
	if err != nil {
		return fmt.Errorf("failed to save config: %w", err)
	}
	var node yaml.Node
	if err := yaml.Unmarshal(raw, &node); err != nil {
		return fmt.Errorf("failed to save config: %w", err)
	}
	s.raw, s.node = raw, &node
	return nil
}

// scheduleReload applies the management view after ReloadDelay and then
// runs the OnReload hooks. With a zero delay (or after Close) it applies at
// once; hooks are not run after Close.
func (s *State) scheduleReload() {
	s.mu.Lock()
	if s.opts.ReloadDelay <= 0 || s.closed {
		s.applyLocked()
		closed := s.closed
		s.mu.Unlock()
		if !closed {
			s.fireHooks()
		}
		return
	}
	if s.timer == nil {
		s.timer = time.AfterFunc(s.opts.ReloadDelay, s.reloadNow)
	}
	s.mu.Unlock()
}

// reloadNow is the body of the reload timer.
func (s *State) reloadNow() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.timer = nil
	s.applying.Add(1)
	s.applyLocked()
	s.mu.Unlock()
	defer s.applying.Done()
	s.fireHooks()
}

func (s *State) fireHooks() {
	s.hookMu.Lock()
	hooks := append([]func(){}, s.onReload...)
	s.hookMu.Unlock()
	for _, f := range hooks {
		f()
	}
}

// Close stops a pending reload timer and waits for a running reload to
// finish. Writes made after Close apply synchronously and run no hooks.
// Close is idempotent.
func (s *State) Close() {
	s.mu.Lock()
	s.closed = true
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	s.applyLocked()
	s.mu.Unlock()
	s.applying.Wait()
}

// LoadYAML replaces the configuration with doc as PUT /config.yaml does,
// but applies it synchronously and runs the OnReload hooks before
// returning. Tests use it to set up e.g. request-retry and several
// api-key-entries in one step.
func (s *State) LoadYAML(doc []byte) error {
	if err := s.putConfigYAML(doc); err != nil {
		return err
	}
	s.mu.Lock()
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	s.applyLocked()
	s.mu.Unlock()
	s.fireHooks()
	return nil
}

// Config returns a deep copy of the applied (runtime) configuration. The
// remote-management secret-key holds the hash, never the plaintext.
func (s *State) Config() *Config {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return cloneConfig(s.live.cfg)
}

// ConfigYAML returns the current config.yaml document.
func (s *State) ConfigYAML() []byte {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]byte(nil), s.raw...)
}

// Secret returns the plaintext management key ("" when management is off).
func (s *State) Secret() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.live.secret
}

// AllowRemote reports remote-management.allow-remote.
func (s *State) AllowRemote() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.live.allowRemote
}

// UsageStatisticsEnabled reports usage-statistics-enabled.
func (s *State) UsageStatisticsEnabled() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.live.usageOn
}

// RetentionSeconds returns redis-usage-queue-retention-seconds as CPA applies
// it: values <= 0 become 60, values above 3600 become 3600.
func (s *State) RetentionSeconds() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return clampRetention(s.live.retention)
}

func clampRetention(v int) int {
	switch {
	case v <= 0:
		return 60
	case v > 3600:
		return 3600
	}
	return v
}

// RequestRetry returns request-retry: how many further credentials a failed
// attempt may fail over to.
func (s *State) RequestRetry() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.live.retry
}

// RequestLogEnabled reports request-log (full request logging).
func (s *State) RequestLogEnabled() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.live.requestLog
}

// ClientKeyValid reports whether key is one of the configured api-keys.
func (s *State) ClientKeyValid(key string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Contains(s.live.apiKeys, key)
}

// Credentials returns the enabled credentials that serve model, in the order
// a request should try them (configuration order: openai-compatibility
// keys, the provider key sections, then auth files by name). A model of the
// form "<prefix>/<name>" selects only credentials with that prefix; with
// force-model-prefix on, prefixed credentials serve only prefixed names.
func (s *State) Credentials(model string) []Credential {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Credential
	for _, c := range s.live.creds {
		if c.Disabled {
			continue
		}
		name := model
		if c.Prefix != "" {
			if strings.HasPrefix(model, c.Prefix+"/") {
				name = strings.TrimPrefix(model, c.Prefix+"/")
			} else if s.live.forceModelPrefix {
				continue
			}
		}
		if len(c.Models) == 0 || slices.Contains(c.Models, name) {
			out = append(out, c)
		}
	}
	return out
}

// Models returns every model name some enabled credential serves, for
// /v1/models.
func (s *State) Models() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	for _, c := range s.live.creds {
		if c.Disabled {
			continue
		}
		for _, m := range c.Models {
			if !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	return out
}

// OnReload registers f to run after every configuration change has been
// applied (a config save, an auth file added, changed or removed). The
// transport publishes {"refresh":true} to usage subscribers from it, and
// drops the queue and subscribers when management was switched off.
func (s *State) OnReload(f func()) {
	s.hookMu.Lock()
	defer s.hookMu.Unlock()
	s.onReload = append(s.onReload, f)
}

// ResetRuntime clears what a CPA restart loses: the request counters and
// the pending OAuth flows. A configuration write still waiting for its
// reload is applied at once (a restarted CPA reads the saved file); no
// hooks run.
func (s *State) ResetRuntime() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counters = map[string]*counter{}
	s.sessions = map[string]*oauthFlow{}
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	s.applyLocked()
}

// Handler serves the management routes. Requests arrive with their full
// path (/v0/management/...) and have already passed CPA's availability gate
// and key authentication. Unknown paths answer 404 with an empty body.
func (s *State) Handler() http.Handler {
	return s.handler
}
