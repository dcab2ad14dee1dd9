package collector

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/cpam-caddy/cpam/usage"
)

// Attribution maps each upstream's credentials (auth_index) to what CPA's
// management API says about them. It is shared by the collectors, which
// refresh it, and the ingester, which freezes the entry onto each event.
type Attribution struct {
	mu sync.RWMutex
	m  map[string]map[string]usage.Account
}

// NewAttribution returns an empty map.
func NewAttribution() *Attribution {
	return &Attribution{m: make(map[string]map[string]usage.Account)}
}

// Lookup returns the account behind authIndex on upstream.
func (a *Attribution) Lookup(upstream, authIndex string) (usage.Account, bool) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	acc, ok := a.m[upstream][authIndex]
	return acc, ok
}

// Len returns how many credentials of upstream are known.
func (a *Attribution) Len(upstream string) int {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return len(a.m[upstream])
}

func (a *Attribution) set(upstream string, m map[string]usage.Account) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.m[upstream] = m
}

// providerSections are CPA's config key lists whose entries carry an
// auth-index (config API-key credentials never appear in /auth-files).
var providerSections = []string{
	"gemini-api-key", "interactions-api-key", "claude-api-key",
	"codex-api-key", "xai-api-key", "vertex-api-key",
}

// fetchAttribution reads /auth-files and the provider key lists.
func (c *Collector) fetchAttribution(ctx context.Context) (map[string]usage.Account, error) {
	out := make(map[string]usage.Account)
	var files struct {
		Files []struct {
			AuthIndex string `json:"auth_index"`
			Name      string `json:"name"`
			Type      string `json:"type"`
			Provider  string `json:"provider"`
			Label     string `json:"label"`
			Email     string `json:"email"`
			Account   string `json:"account"`
			ProjectID string `json:"project_id"`
		} `json:"files"`
	}
	if _, err := c.cpa.get(ctx, "auth-files", &files); err != nil {
		return nil, fmt.Errorf("reading auth files: %w", err)
	}
	for _, f := range files.Files {
		if f.AuthIndex == "" {
			continue
		}
		provider := f.Provider
		if provider == "" {
			provider = f.Type
		}
		label := f.Label
		if label == "" {
			label = f.Name
		}
		email := f.Email
		if email == "" && strings.Contains(f.Account, "@") {
			email = f.Account
		}
		out[f.AuthIndex] = usage.Account{Label: label, Email: email, Provider: provider, ProjectID: f.ProjectID, FileName: f.Name}
	}
	type keyEntry struct {
		AuthIndex string `json:"auth-index"`
		BaseURL   string `json:"base-url"`
		Prefix    string `json:"prefix"`
	}
	for _, section := range providerSections {
		var list map[string][]keyEntry
		if _, err := c.cpa.get(ctx, section, &list); err != nil {
			return nil, fmt.Errorf("reading %s: %w", section, err)
		}
		for i, e := range list[section] {
			if e.AuthIndex == "" {
				continue
			}
			label := fmt.Sprintf("%s #%d", section, i+1)
			if e.Prefix != "" {
				label += " " + e.Prefix
			} else if e.BaseURL != "" {
				label += " " + e.BaseURL
			}
			out[e.AuthIndex] = usage.Account{Label: label, Provider: section}
		}
	}
	var compat struct {
		Entries []struct {
			Name      string `json:"name"`
			BaseURL   string `json:"base-url"`
			AuthIndex string `json:"auth-index"`
			Keys      []struct {
				AuthIndex string `json:"auth-index"`
			} `json:"api-key-entries"`
		} `json:"openai-compatibility"`
	}
	if _, err := c.cpa.get(ctx, "openai-compatibility", &compat); err != nil {
		return nil, fmt.Errorf("reading openai-compatibility: %w", err)
	}
	for _, e := range compat.Entries {
		for i, k := range e.Keys {
			if k.AuthIndex == "" {
				continue
			}
			label := e.Name
			if len(e.Keys) > 1 {
				label = fmt.Sprintf("%s #%d", e.Name, i+1)
			}
			out[k.AuthIndex] = usage.Account{Label: label, Provider: "openai-compatibility:" + e.Name}
		}
		if e.AuthIndex != "" {
			if _, ok := out[e.AuthIndex]; !ok {
				out[e.AuthIndex] = usage.Account{Label: e.Name, Provider: "openai-compatibility:" + e.Name}
			}
		}
	}
	return out, nil
}
