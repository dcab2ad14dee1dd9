package mgmt

import (
	"path"
	"slices"
	"sort"
	"strings"
)

// keySection describes one provider key list of config.yaml.
type keySection struct {
	name        string // config key and route name, e.g. "claude-api-key"
	provider    string // usage provider id and /api-key-usage group
	executor    string // CPA executor type name
	channel     string // model catalog channel
	defaultBase string // base URL used when the entry names none
	list        func(*Config) *[]APIKeyEntry
}

// keySections lists the provider key sections in the order CPA registers
// their credentials.
var keySections = []keySection{
	{"gemini-api-key", "gemini", "GeminiExecutor", "gemini", "https://generativelanguage.googleapis.com", func(c *Config) *[]APIKeyEntry { return &c.GeminiKey }},
	{"interactions-api-key", "interactions", "InteractionsExecutor", "interactions", "https://generativelanguage.googleapis.com", func(c *Config) *[]APIKeyEntry { return &c.InteractionsKey }},
	{"claude-api-key", "claude", "ClaudeExecutor", "claude", "https://api.anthropic.com", func(c *Config) *[]APIKeyEntry { return &c.ClaudeKey }},
	{"codex-api-key", "codex", "CodexExecutor", "codex", "https://chatgpt.com/backend-api/codex", func(c *Config) *[]APIKeyEntry { return &c.CodexKey }},
	{"xai-api-key", "xai", "XAIExecutor", "xai", "https://api.x.ai/v1", func(c *Config) *[]APIKeyEntry { return &c.XAIKey }},
	{"vertex-api-key", "vertex", "VertexExecutor", "vertex", "https://aiplatform.googleapis.com", func(c *Config) *[]APIKeyEntry { return &c.VertexKey }},
}

// keyAuthIndex is the auth_index of a config API-key credential.
func keyAuthIndex(section, baseURL, apiKey string) string {
	return AuthIndex(section + ":" + baseURL + "+" + apiKey)
}

// oauthKind describes how an auth file type maps to CPA's runtime.
type oauthKind struct {
	provider string
	executor string
	channel  string
}

var oauthKinds = map[string]oauthKind{
	"claude":      {"claude", "ClaudeExecutor", "claude"},
	"codex":       {"codex", "CodexExecutor", "codex"},
	"gemini":      {"gemini-cli", "GeminiCLIExecutor", "gemini-cli"},
	"gemini-cli":  {"gemini-cli", "GeminiCLIExecutor", "gemini-cli"},
	"antigravity": {"antigravity", "AntigravityExecutor", "antigravity"},
	"vertex":      {"vertex", "VertexExecutor", "vertex"},
	"aistudio":    {"aistudio", "AIStudioExecutor", "aistudio"},
	"kimi":        {"kimi", "KimiExecutor", "kimi"},
	"xai":         {"xai", "XAIExecutor", "xai"},
}

func kindOf(fileType string) oauthKind {
	if k, ok := oauthKinds[strings.ToLower(fileType)]; ok {
		return k
	}
	return oauthKind{provider: fileType, executor: "", channel: fileType}
}

// matchModel reports whether model matches a pattern with "*" wildcards.
func matchModel(pattern, model string) bool {
	pattern = strings.ToLower(strings.TrimSpace(pattern))
	model = strings.ToLower(model)
	if pattern == "*" || pattern == model {
		return true
	}
	if !strings.Contains(pattern, "*") {
		return false
	}
	ok, err := path.Match(pattern, model)
	return err == nil && ok
}

func excluded(patterns []string, model string) bool {
	for _, p := range patterns {
		if matchModel(p, model) {
			return true
		}
	}
	return false
}

// entryModels resolves the client-visible model names of an entry and the
// alias → upstream name map.
func entryModels(models []ModelEntry, channel string, excludedModels []string) ([]string, map[string]string) {
	var names []string
	alias := map[string]string{}
	if len(models) == 0 {
		for _, id := range catalogIDs(channel) {
			if !excluded(excludedModels, id) {
				names = append(names, id)
			}
		}
		return names, alias
	}
	for _, m := range models {
		client := m.Alias
		if client == "" {
			client = m.Name
		}
		if client == "" || excluded(excludedModels, client) {
			continue
		}
		names = append(names, client)
		if m.Name != "" && m.Name != client {
			alias[client] = m.Name
		}
	}
	return names, alias
}

// buildCredentials derives the runtime credentials from a configuration and
// the auth files, in routing order: openai-compatibility keys, the other
// provider key sections, then auth files sorted by name.
func buildCredentials(cfg *Config, files map[string]*authFile) []Credential {
	var out []Credential
	for _, p := range cfg.OpenAICompatibility {
		for _, e := range p.APIKeyEntries {
			if strings.TrimSpace(e.APIKey) == "" {
				continue
			}
			models, alias := entryModels(p.Models, "", e.ExcludedModels)
			out = append(out, Credential{
				AuthIndex:    keyAuthIndex("openai-compatibility", p.BaseURL, e.APIKey),
				Provider:     "openai-compatible-" + p.Name,
				ExecutorType: "OpenAICompatExecutor",
				AuthType:     "apikey",
				Source:       e.APIKey,
				Label:        p.Name,
				Models:       models,
				Disabled:     p.Disabled || slices.Contains(e.ExcludedModels, "*") || len(models) == 0,
				Section:      "openai-compatibility",
				Name:         p.Name,
				BaseURL:      p.BaseURL,
				APIKey:       e.APIKey,
				ProxyURL:     e.ProxyURL,
				Headers:      p.Headers,
				Prefix:       p.Prefix,
				ModelAlias:   alias,
			})
		}
	}
	for _, sec := range keySections {
		for _, e := range *sec.list(cfg) {
			if strings.TrimSpace(e.APIKey) == "" {
				continue
			}
			models, alias := entryModels(e.Models, sec.channel, e.ExcludedModels)
			base := e.BaseURL
			if base == "" {
				base = sec.defaultBase
			}
			label := e.BaseURL
			if label == "" {
				label = sec.provider
			}
			out = append(out, Credential{
				AuthIndex:    keyAuthIndex(sec.name, e.BaseURL, e.APIKey),
				Provider:     sec.provider,
				ExecutorType: sec.executor,
				AuthType:     "apikey",
				Source:       e.APIKey,
				Label:        label,
				Models:       models,
				Disabled:     slices.Contains(e.ExcludedModels, "*") || len(models) == 0,
				Section:      sec.name,
				BaseURL:      base,
				APIKey:       e.APIKey,
				ProxyURL:     e.ProxyURL,
				Headers:      e.Headers,
				Prefix:       e.Prefix,
				ModelAlias:   alias,
			})
		}
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f := files[n]
		out = append(out, f.credential(cfg))
	}
	return out
}

// credential derives the runtime credential of an auth file.
func (f *authFile) credential(cfg *Config) Credential {
	typ := f.fileType()
	kind := kindOf(typ)
	patterns := cfg.OAuthExcludedModels[kind.channel]
	if len(patterns) == 0 && kind.channel != typ {
		patterns = cfg.OAuthExcludedModels[typ]
	}
	var models []string
	alias := map[string]string{}
	for _, id := range catalogIDs(kind.channel) {
		if !excluded(patterns, id) {
			models = append(models, id)
		}
	}
	for _, a := range cfg.OAuthModelAlias[kind.channel] {
		if a.Alias == "" || a.Name == "" || !slices.Contains(models, a.Name) {
			continue
		}
		if !a.Fork {
			models = removeString(models, a.Name)
		}
		if !slices.Contains(models, a.Alias) {
			models = append(models, a.Alias)
		}
		alias[a.Alias] = a.Name
	}
	source := f.email()
	if kind.provider == "vertex" {
		source = f.str("project_id")
	}
	return Credential{
		AuthIndex:    f.authIndex(cfg.AuthDir),
		Provider:     kind.provider,
		ExecutorType: kind.executor,
		AuthType:     "oauth",
		Source:       source,
		Label:        f.label(),
		Models:       models,
		Disabled:     f.disabled() || len(models) == 0,
		Section:      "auth-file",
		Name:         f.name,
		AccessToken:  f.token(),
		ProxyURL:     f.str("proxy_url"),
		Prefix:       f.str("prefix"),
		ProjectID:    f.str("project_id"),
		AccountID:    f.codexAccountID(),
		ModelAlias:   alias,
	}
}

func removeString(list []string, v string) []string {
	out := list[:0:0]
	for _, x := range list {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}
