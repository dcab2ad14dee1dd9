package mgmt

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// Config mirrors CPA's config.yaml. YAML and JSON keys are kebab-case; the
// keys GET /config hides (host, port, remote-management, auth-dir) carry
// json:"-".
type Config struct {
	Host             string           `yaml:"host" json:"-"`
	Port             int              `yaml:"port" json:"-"`
	TLS              TLSConfig        `yaml:"tls" json:"tls"`
	RemoteManagement RemoteManagement `yaml:"remote-management" json:"-"`
	AuthDir          string           `yaml:"auth-dir" json:"-"`

	Debug                           bool   `yaml:"debug" json:"debug"`
	Pprof                           Pprof  `yaml:"pprof" json:"pprof"`
	CommercialMode                  bool   `yaml:"commercial-mode" json:"commercial-mode"`
	LoggingToFile                   bool   `yaml:"logging-to-file" json:"logging-to-file"`
	LogsMaxTotalSizeMB              int    `yaml:"logs-max-total-size-mb" json:"logs-max-total-size-mb"`
	ErrorLogsMaxFiles               int    `yaml:"error-logs-max-files" json:"error-logs-max-files"`
	UsageStatisticsEnabled          bool   `yaml:"usage-statistics-enabled" json:"usage-statistics-enabled"`
	RedisUsageQueueRetentionSeconds int    `yaml:"redis-usage-queue-retention-seconds" json:"redis-usage-queue-retention-seconds"`
	DisableCooling                  bool   `yaml:"disable-cooling" json:"disable-cooling"`
	TransientErrorCooldownSeconds   int    `yaml:"transient-error-cooldown-seconds" json:"transient-error-cooldown-seconds"`
	SaveCooldownStatus              bool   `yaml:"save-cooldown-status" json:"save-cooldown-status"`
	ProxyURL                        string `yaml:"proxy-url" json:"proxy-url"`
	RequestLog                      bool   `yaml:"request-log" json:"request-log"`
	WSAuth                          bool   `yaml:"ws-auth" json:"ws-auth"`
	RequestRetry                    int    `yaml:"request-retry" json:"request-retry"`
	MaxRetryCredentials             int    `yaml:"max-retry-credentials" json:"max-retry-credentials"`
	MaxRetryInterval                int    `yaml:"max-retry-interval" json:"max-retry-interval"`
	CredentialConcurrency           int    `yaml:"credential-concurrency" json:"credential-concurrency"`
	CredentialInFlight              int    `yaml:"credential-in-flight" json:"credential-in-flight"`
	AuthAutoRefreshWorkers          int    `yaml:"auth-auto-refresh-workers" json:"auth-auto-refresh-workers"`
	ForceModelPrefix                bool   `yaml:"force-model-prefix" json:"force-model-prefix"`
	DisableClaudeCloakMode          bool   `yaml:"disable-claude-cloak-mode" json:"disable-claude-cloak-mode"`
	DisableImageGeneration          bool   `yaml:"disable-image-generation" json:"disable-image-generation"`
	PassthroughHeaders              any    `yaml:"passthrough-headers" json:"passthrough-headers"`

	Routing       Routing       `yaml:"routing" json:"routing"`
	QuotaExceeded QuotaExceeded `yaml:"quota-exceeded" json:"quota-exceeded"`
	Streaming     Streaming     `yaml:"streaming" json:"streaming"`

	APIKeys             []string       `yaml:"api-keys" json:"api-keys"`
	GeminiKey           []APIKeyEntry  `yaml:"gemini-api-key" json:"gemini-api-key"`
	InteractionsKey     []APIKeyEntry  `yaml:"interactions-api-key" json:"interactions-api-key"`
	ClaudeKey           []APIKeyEntry  `yaml:"claude-api-key" json:"claude-api-key"`
	CodexKey            []APIKeyEntry  `yaml:"codex-api-key" json:"codex-api-key"`
	XAIKey              []APIKeyEntry  `yaml:"xai-api-key" json:"xai-api-key"`
	VertexKey           []APIKeyEntry  `yaml:"vertex-api-key" json:"vertex-api-key"`
	OpenAICompatibility []OpenAICompat `yaml:"openai-compatibility" json:"openai-compatibility"`

	ClaudeCode           map[string]any `yaml:"claude-code" json:"claude-code"`
	Codex                map[string]any `yaml:"codex" json:"codex"`
	Antigravity          map[string]any `yaml:"antigravity" json:"antigravity"`
	XAI                  map[string]any `yaml:"xai" json:"xai"`
	ClaudeHeaderDefaults map[string]any `yaml:"claude-header-defaults" json:"claude-header-defaults"`
	CodexHeaderDefaults  map[string]any `yaml:"codex-header-defaults" json:"codex-header-defaults"`
	Payload              map[string]any `yaml:"payload" json:"payload"`
	Plugins              map[string]any `yaml:"plugins" json:"plugins"`

	OAuthExcludedModels      map[string][]string          `yaml:"oauth-excluded-models,omitempty" json:"oauth-excluded-models,omitempty"`
	OAuthModelAlias          map[string][]ModelAlias      `yaml:"oauth-model-alias,omitempty" json:"oauth-model-alias,omitempty"`
	OAuthRequestScopedErrors map[string][]ScopedErrorRule `yaml:"oauth-request-scoped-errors,omitempty" json:"oauth-request-scoped-errors,omitempty"`
}

// TLSConfig is the tls section.
type TLSConfig struct {
	Enable bool   `yaml:"enable" json:"enable"`
	Cert   string `yaml:"cert" json:"cert"`
	Key    string `yaml:"key" json:"key"`
}

// RemoteManagement is the remote-management section. SecretKey always holds
// the bcrypt-style hash, never the plaintext.
type RemoteManagement struct {
	AllowRemote            bool   `yaml:"allow-remote" json:"allow-remote"`
	SecretKey              string `yaml:"secret-key" json:"secret-key"`
	DisableControlPanel    bool   `yaml:"disable-control-panel" json:"disable-control-panel"`
	DisableAutoUpdatePanel bool   `yaml:"disable-auto-update-panel" json:"disable-auto-update-panel"`
	PanelGitHubRepository  string `yaml:"panel-github-repository" json:"panel-github-repository"`
}

// Pprof is the pprof section.
type Pprof struct {
	Enable bool   `yaml:"enable" json:"enable"`
	Addr   string `yaml:"addr" json:"addr"`
}

// Routing is the routing section.
type Routing struct {
	Strategy string `yaml:"strategy" json:"strategy"`
}

// QuotaExceeded is the quota-exceeded section.
type QuotaExceeded struct {
	SwitchProject      bool `yaml:"switch-project" json:"switch-project"`
	SwitchPreviewModel bool `yaml:"switch-preview-model" json:"switch-preview-model"`
}

// Streaming is the streaming section.
type Streaming struct {
	KeepaliveSeconds int `yaml:"keepalive-seconds" json:"keepalive-seconds"`
	BootstrapRetries int `yaml:"bootstrap-retries" json:"bootstrap-retries"`
}

// ModelEntry is one model of a provider entry: the upstream name and the
// alias clients use.
type ModelEntry struct {
	Name        string `yaml:"name" json:"name"`
	Alias       string `yaml:"alias,omitempty" json:"alias,omitempty"`
	DisplayName string `yaml:"display-name,omitempty" json:"display-name,omitempty"`
}

// ModelAlias is one oauth-model-alias entry.
type ModelAlias struct {
	Name         string `yaml:"name" json:"name"`
	Alias        string `yaml:"alias" json:"alias"`
	Fork         bool   `yaml:"fork,omitempty" json:"fork,omitempty"`
	DisplayName  string `yaml:"display-name,omitempty" json:"display-name,omitempty"`
	ForceMapping bool   `yaml:"force-mapping,omitempty" json:"force-mapping,omitempty"`
}

// ScopedErrorRule is one request-scoped error rule.
type ScopedErrorRule struct {
	Status      int    `yaml:"status" json:"status"`
	Match       string `yaml:"match,omitempty" json:"match,omitempty"`
	MatchRegexr string `yaml:"match-regexr,omitempty" json:"match-regexr,omitempty"`
	Action      string `yaml:"action" json:"action"`
}

// APIKeyEntry is one entry of a provider key list (gemini-api-key,
// interactions-api-key, claude-api-key, codex-api-key, xai-api-key,
// vertex-api-key). Section-specific fields are omitted when unset.
type APIKeyEntry struct {
	APIKey                  string            `yaml:"api-key" json:"api-key"`
	Priority                *int              `yaml:"priority,omitempty" json:"priority,omitempty"`
	Weight                  *int              `yaml:"weight,omitempty" json:"weight,omitempty"`
	Prefix                  string            `yaml:"prefix,omitempty" json:"prefix,omitempty"`
	BaseURL                 string            `yaml:"base-url,omitempty" json:"base-url,omitempty"`
	ProxyURL                string            `yaml:"proxy-url,omitempty" json:"proxy-url,omitempty"`
	Headers                 map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
	Models                  []ModelEntry      `yaml:"models,omitempty" json:"models,omitempty"`
	ExcludedModels          []string          `yaml:"excluded-models,omitempty" json:"excluded-models,omitempty"`
	DisableCooling          *bool             `yaml:"disable-cooling,omitempty" json:"disable-cooling,omitempty"`
	RequestRetry            *int              `yaml:"request-retry,omitempty" json:"request-retry,omitempty"`
	RequestScopedErrors     []ScopedErrorRule `yaml:"request-scoped-errors,omitempty" json:"request-scoped-errors,omitempty"`
	FingerprintProfile      string            `yaml:"fingerprint-profile,omitempty" json:"fingerprint-profile,omitempty"`
	RebuildMidSystemMessage *bool             `yaml:"rebuild-mid-system-message,omitempty" json:"rebuild-mid-system-message,omitempty"`
	AlphaSearch             *bool             `yaml:"alpha-search,omitempty" json:"alpha-search,omitempty"`
	Websockets              *bool             `yaml:"websockets,omitempty" json:"websockets,omitempty"`
}

// CompatKeyEntry is one api-key-entries element of an openai-compatibility
// provider.
type CompatKeyEntry struct {
	APIKey         string   `yaml:"api-key" json:"api-key"`
	Weight         *int     `yaml:"weight,omitempty" json:"weight,omitempty"`
	ProxyURL       string   `yaml:"proxy-url,omitempty" json:"proxy-url,omitempty"`
	ExcludedModels []string `yaml:"excluded-models,omitempty" json:"excluded-models,omitempty"`
}

// OpenAICompat is one openai-compatibility provider.
type OpenAICompat struct {
	Name                  string            `yaml:"name" json:"name"`
	Priority              *int              `yaml:"priority,omitempty" json:"priority,omitempty"`
	Disabled              bool              `yaml:"disabled,omitempty" json:"disabled"`
	Prefix                string            `yaml:"prefix,omitempty" json:"prefix,omitempty"`
	BaseURL               string            `yaml:"base-url" json:"base-url"`
	APIKeyEntries         []CompatKeyEntry  `yaml:"api-key-entries" json:"api-key-entries"`
	Models                []ModelEntry      `yaml:"models" json:"models"`
	Headers               map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
	SupportPromptCacheKey *bool             `yaml:"support-prompt-cache-key,omitempty" json:"support-prompt-cache-key,omitempty"`
	DisableCooling        *bool             `yaml:"disable-cooling,omitempty" json:"disable-cooling,omitempty"`
	RequestRetry          *int              `yaml:"request-retry,omitempty" json:"request-retry,omitempty"`
	RequestScopedErrors   []ScopedErrorRule `yaml:"request-scoped-errors,omitempty" json:"request-scoped-errors,omitempty"`
}

// routingStrategies maps accepted routing strategy spellings to the
// canonical name.
var routingStrategies = map[string]string{
	"round-robin":          "round-robin",
	"rr":                   "round-robin",
	"weighted-round-robin": "weighted-round-robin",
	"wrr":                  "weighted-round-robin",
	"fill-first":           "fill-first",
	"ff":                   "fill-first",
}

// normalizeStrategy returns the canonical routing strategy for v, or false
// when v is not a known strategy. The empty string means round-robin.
func normalizeStrategy(v string) (string, bool) {
	v = strings.ToLower(strings.TrimSpace(v))
	if v == "" {
		return "round-robin", true
	}
	s, ok := routingStrategies[v]
	return s, ok
}

// defaultConfigYAML is the configuration a State starts with when Options
// names no document. Retention stays at CPA's default of 60 seconds; a
// caller that wants the 600 s of the offline example config passes its own
// document.
const defaultConfigYAML = `# CPA simulator configuration (CLIProxyAPI v7.2 compatible).
host: "127.0.0.1"
port: 8317
remote-management:
  allow-remote: false
  secret-key: ""
  disable-control-panel: true
  disable-auto-update-panel: true
  panel-github-repository: ""
auth-dir: "/srv/cpa-sim/auths"
debug: false
logging-to-file: true
logs-max-total-size-mb: 0
error-logs-max-files: 10
# Usage records are only produced while this is on.
usage-statistics-enabled: true
redis-usage-queue-retention-seconds: 60
proxy-url: ""
request-log: false
ws-auth: false
request-retry: 0
max-retry-credentials: 0
max-retry-interval: 0
force-model-prefix: false
routing:
  strategy: "round-robin"
quota-exceeded:
  switch-project: true
  switch-preview-model: true
streaming:
  keepalive-seconds: 0
  bootstrap-retries: 0
# Client keys accepted on /v1.
api-keys:
  - "sk-cpa-test-1"
  - "sk-cpa-test-2"
claude-api-key:
  - api-key: "sk-ant-api03-demo-claude-key"
    base-url: "https://api.anthropic.com"
codex-api-key:
  - api-key: "sk-proj-demo-codex-key"
    base-url: "https://api.openai.com/v1"
openai-compatibility:
  - name: "mock"
    base-url: "http://127.0.0.1:18080/v1"
    api-key-entries:
      - api-key: "sk-mock-upstream"
    models:
      - name: "mock-gpt"
        alias: "mock-gpt"
      - name: "mock-fail"
        alias: "mock-fail"
`

// configError is a semantic configuration error (422 invalid_config).
type configError struct{ msg string }

func (e *configError) Error() string { return e.msg }

// parseConfig parses a YAML document into a Config. A syntax error is
// returned as is; a type or semantic error is a *configError. The root
// node is returned for comment-preserving rewrites.
func parseConfig(doc []byte) (*Config, *yaml.Node, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(doc, &root); err != nil {
		return nil, nil, fmt.Errorf("parse yaml: %w", err)
	}
	cfg := &Config{}
	if root.Kind == 0 {
		// Empty document: every key takes its default.
		normalizeConfig(cfg)
		return cfg, &root, nil
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) != 1 || root.Content[0].Kind != yaml.MappingNode {
		if len(root.Content) == 1 && root.Content[0].Tag == "!!null" {
			normalizeConfig(cfg)
			return cfg, &root, nil
		}
		return nil, nil, &configError{msg: "config root must be a mapping"}
	}
	if err := root.Decode(cfg); err != nil {
		return nil, nil, &configError{msg: err.Error()}
	}
	if err := validateConfig(cfg); err != nil {
		return nil, nil, err
	}
	normalizeConfig(cfg)
	return cfg, &root, nil
}

// validateConfig reports semantic errors CPA's strict load rejects.
func validateConfig(cfg *Config) error {
	if _, ok := normalizeStrategy(cfg.Routing.Strategy); !ok {
		return &configError{msg: fmt.Sprintf("routing.strategy: unknown strategy %q", cfg.Routing.Strategy)}
	}
	if cfg.Port < 0 || cfg.Port > 65535 {
		return &configError{msg: fmt.Sprintf("port: %d out of range", cfg.Port)}
	}
	for i, e := range cfg.OpenAICompatibility {
		if strings.TrimSpace(e.Name) == "" {
			return &configError{msg: fmt.Sprintf("openai-compatibility[%d]: name is required", i)}
		}
	}
	for _, sec := range keySections {
		for i, e := range *sec.list(cfg) {
			if e.Weight != nil && *e.Weight < 0 {
				return &configError{msg: fmt.Sprintf("%s[%d]: weight must be >= 0", sec.name, i)}
			}
		}
	}
	return nil
}

// normalizeConfig applies CPA's load-time normalisation.
func normalizeConfig(cfg *Config) {
	cfg.Routing.Strategy, _ = normalizeStrategy(cfg.Routing.Strategy)
	if cfg.LogsMaxTotalSizeMB < 0 {
		cfg.LogsMaxTotalSizeMB = 0
	}
	if cfg.ErrorLogsMaxFiles < 0 {
		cfg.ErrorLogsMaxFiles = 10
	}
	if cfg.AuthDir == "" {
		cfg.AuthDir = "/srv/cpa-sim/auths"
	}
	for _, m := range []*map[string]any{&cfg.ClaudeCode, &cfg.Codex, &cfg.Antigravity, &cfg.XAI,
		&cfg.ClaudeHeaderDefaults, &cfg.CodexHeaderDefaults, &cfg.Payload, &cfg.Plugins} {
		if *m == nil {
			*m = map[string]any{}
		}
	}
}

// cloneConfig returns a deep copy of cfg.
func cloneConfig(cfg *Config) *Config {
	data, err := yaml.Marshal(cfg)
	if err != nil {
		panic(fmt.Sprintf("mgmt: clone config: %v", err))
	}
	out := &Config{}
	if err := yaml.Unmarshal(data, out); err != nil {
		panic(fmt.Sprintf("mgmt: clone config: %v", err))
	}
	return out
}

// configJSON renders cfg as the JSON object GET /config returns.
func configJSON(cfg *Config) ([]byte, error) {
	data, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	return data, nil
}

const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// fakeBcrypt returns a deterministic bcrypt-looking hash ($2a$10$ + 53
// characters) of secret. The simulator cannot verify foreign hashes; it only
// needs config.yaml to never show the plaintext.
func fakeBcrypt(secret string) string {
	a := sha256.Sum256([]byte("salt:" + secret))
	b := sha256.Sum256([]byte("hash:" + secret))
	raw := append(a[:], b[:]...)
	var sb strings.Builder
	sb.WriteString("$2a$10$")
	for i := 0; i < 53; i++ {
		sb.WriteByte(bcryptAlphabet[int(raw[i])%len(bcryptAlphabet)])
	}
	return sb.String()
}

// isBcryptHash reports whether v looks like a bcrypt hash CPA would keep.
func isBcryptHash(v string) bool {
	return strings.HasPrefix(v, "$2a$") || strings.HasPrefix(v, "$2b$") || strings.HasPrefix(v, "$2y$")
}

// renderConfig serialises cfg as YAML. Comments and unknown keys of the
// previous document prev (may be nil) are carried over, as CPA does when a
// management write saves config.yaml.
func renderConfig(cfg *Config, prev *yaml.Node) ([]byte, error) {
	var fresh yaml.Node
	if err := fresh.Encode(cfg); err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	if prev != nil && prev.Kind == yaml.DocumentNode && len(prev.Content) == 1 {
		old := prev.Content[0]
		fresh.HeadComment = old.HeadComment
		copyComments(old, &fresh)
		if old.Kind == yaml.MappingNode && fresh.Kind == yaml.MappingNode {
			known := map[string]bool{}
			for i := 0; i+1 < len(fresh.Content); i += 2 {
				known[fresh.Content[i].Value] = true
			}
			for i := 0; i+1 < len(old.Content); i += 2 {
				if !known[old.Content[i].Value] {
					fresh.Content = append(fresh.Content, old.Content[i], old.Content[i+1])
				}
			}
		}
		doc := &yaml.Node{Kind: yaml.DocumentNode, HeadComment: prev.HeadComment, FootComment: prev.FootComment, Content: []*yaml.Node{&fresh}}
		return encodeNode(doc)
	}
	return encodeNode(&fresh)
}

func encodeNode(n *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, fmt.Errorf("encode yaml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode yaml: %w", err)
	}
	return buf.Bytes(), nil
}

// copyComments copies comments from old onto the matching nodes of fresh:
// mapping values by key, sequence items by position.
func copyComments(old, fresh *yaml.Node) {
	if old == nil || fresh == nil {
		return
	}
	if fresh.HeadComment == "" {
		fresh.HeadComment = old.HeadComment
	}
	if fresh.LineComment == "" {
		fresh.LineComment = old.LineComment
	}
	if fresh.FootComment == "" {
		fresh.FootComment = old.FootComment
	}
	switch {
	case old.Kind == yaml.MappingNode && fresh.Kind == yaml.MappingNode:
		idx := map[string]int{}
		for i := 0; i+1 < len(old.Content); i += 2 {
			idx[old.Content[i].Value] = i
		}
		for i := 0; i+1 < len(fresh.Content); i += 2 {
			j, ok := idx[fresh.Content[i].Value]
			if !ok {
				continue
			}
			copyComments(old.Content[j], fresh.Content[i])
			copyComments(old.Content[j+1], fresh.Content[i+1])
		}
	case old.Kind == yaml.SequenceNode && fresh.Kind == yaml.SequenceNode:
		for i := 0; i < len(old.Content) && i < len(fresh.Content); i++ {
			copyComments(old.Content[i], fresh.Content[i])
		}
	}
}

// applySecretToNode rewrites remote-management.secret-key in root to hash.
// It reports whether the node changed.
func applySecretToNode(root *yaml.Node, hash string) bool {
	if root == nil || root.Kind != yaml.DocumentNode || len(root.Content) != 1 {
		return false
	}
	m := root.Content[0]
	rm := mappingValue(m, "remote-management")
	if rm == nil || rm.Kind != yaml.MappingNode {
		return false
	}
	sk := mappingValue(rm, "secret-key")
	if sk == nil || sk.Value == hash {
		return false
	}
	sk.Value = hash
	sk.Tag = "!!str"
	sk.Style = yaml.DoubleQuotedStyle
	return true
}

func mappingValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// isSyntaxError reports whether err came from YAML parsing rather than
// validation.
func isSyntaxError(err error) bool {
	var ce *configError
	return err != nil && !errors.As(err, &ce)
}
