package mgmt

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// listRoutes registers /api-keys, the provider key lists and the OAuth
// model maps.
func (s *State) listRoutes(rt *router) {
	rt.handle("GET", "/api-keys", s.getAPIKeys)
	rt.handle("PUT", "/api-keys", s.putAPIKeys)
	rt.handle("PATCH", "/api-keys", s.patchAPIKeys)
	rt.handle("DELETE", "/api-keys", s.deleteAPIKeys)

	for _, sec := range keySections {
		sec := sec
		path := "/" + sec.name
		rt.handle("GET", path, func(w http.ResponseWriter, r *http.Request) { s.getKeySection(w, sec) })
		rt.handle("PUT", path, func(w http.ResponseWriter, r *http.Request) { s.putKeySection(w, r, sec) })
		rt.handle("PATCH", path, func(w http.ResponseWriter, r *http.Request) { s.patchKeySection(w, r, sec) })
		rt.handle("DELETE", path, func(w http.ResponseWriter, r *http.Request) { s.deleteKeySection(w, r, sec) })
	}

	rt.handle("GET", "/openai-compatibility", s.getCompat)
	rt.handle("PUT", "/openai-compatibility", s.putCompat)
	rt.handle("PATCH", "/openai-compatibility", s.patchCompat)
	rt.handle("DELETE", "/openai-compatibility", s.deleteCompat)

	mapRoutes(s, rt, "/oauth-excluded-models", "oauth-excluded-models", "provider", []string{"models"},
		func(c *Config) *map[string][]string { return &c.OAuthExcludedModels }, normalizeExcluded)
	mapRoutes(s, rt, "/oauth-model-alias", "oauth-model-alias", "channel", []string{"aliases", "models", "items"},
		func(c *Config) *map[string][]ModelAlias { return &c.OAuthModelAlias }, normalizeAliases)
	mapRoutes(s, rt, "/oauth-request-scoped-errors", "oauth-request-scoped-errors", "channel", []string{"rules", "errors", "items"},
		func(c *Config) *map[string][]ScopedErrorRule { return &c.OAuthRequestScopedErrors }, normalizeRules)
}

// ---- /api-keys ----

func (s *State) getAPIKeys(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	keys := append([]string{}, s.cfg.APIKeys...)
	s.mu.RUnlock()
	writeJSON(w, http.StatusOK, map[string]any{"api-keys": keys})
}

// decodeItems decodes a JSON array, or an object {"items": [...]} whose
// items must not be empty, into out.
func decodeItems[T any](data []byte, out *[]T) bool {
	if err := json.Unmarshal(data, out); err == nil {
		return true
	}
	var obj struct {
		Items []T `json:"items"`
	}
	if err := json.Unmarshal(data, &obj); err != nil || len(obj.Items) == 0 {
		return false
	}
	*out = obj.Items
	return true
}

func (s *State) putAPIKeys(w http.ResponseWriter, r *http.Request) {
	data, err := readBody(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "failed to read body")
		return
	}
	var keys []string
	if !decodeItems(data, &keys) {
		writeError(w, http.StatusBadRequest, "invalid body")
		return
	}
	s.update(w, func(c *Config) bool { c.APIKeys = trimList(keys); return true })
}

func trimList(in []string) []string {
	out := make([]string, 0, len(in))
	for _, v := range in {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func (s *State) patchAPIKeys(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Old   *string `json:"old"`
		New   *string `json:"new"`
		Index *int    `json:"index"`
		Value *string `json:"value"`
	}
	if err := decodeJSON(r, &body); err != nil {
		writeError(w, http.StatusBadRequest, "invalid body")
		return
	}
	s.update(w, func(c *Config) bool {
		if body.Index != nil && body.Value != nil {
			if *body.Index < 0 || *body.Index >= len(c.APIKeys) {
				writeError(w, http.StatusNotFound, "item not found")
				return false
			}
			c.APIKeys[*body.Index] = strings.TrimSpace(*body.Value)
			return true
		}
		if body.Old != nil && body.New != nil {
			for i, k := range c.APIKeys {
				if k == *body.Old {
					c.APIKeys[i] = strings.TrimSpace(*body.New)
					return true
				}
			}
			c.APIKeys = append(c.APIKeys, strings.TrimSpace(*body.New))
			return true
		}
		writeError(w, http.StatusBadRequest, "missing fields")
		return false
	})
}

func (s *State) deleteAPIKeys(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.update(w, func(c *Config) bool {
		if idx := q.Get("index"); idx != "" {
			i, err := strconv.Atoi(idx)
			if err != nil || i < 0 || i >= len(c.APIKeys) {
				writeError(w, http.StatusNotFound, "item not found")
				return false
			}
			c.APIKeys = append(c.APIKeys[:i:i], c.APIKeys[i+1:]...)
			return true
		}
		if v := strings.TrimSpace(q.Get("value")); v != "" {
			if !slices.Contains(c.APIKeys, v) {
				writeError(w, http.StatusNotFound, "item not found")
				return false
			}
			c.APIKeys = removeString(c.APIKeys, v)
			return true
		}
		writeError(w, http.StatusBadRequest, "missing index or value")
		return false
	})
}

// ---- provider key sections ----

// withAuthIndex renders v as a JSON object with an extra "auth-index".
func withAuthIndex(v any, idx string) map[string]any {
	data, _ := json.Marshal(v)
	m := map[string]any{}
	_ = json.Unmarshal(data, &m)
	if idx != "" {
		m["auth-index"] = idx
	}
	return m
}

func (s *State) getKeySection(w http.ResponseWriter, sec keySection) {
	s.mu.RLock()
	list := *sec.list(s.cfg)
	out := make([]map[string]any, 0, len(list))
	for _, e := range list {
		out = append(out, withAuthIndex(e, keyAuthIndex(sec.name, e.BaseURL, e.APIKey)))
	}
	s.mu.RUnlock()
	writeJSON(w, http.StatusOK, map[string]any{sec.name: out})
}

// validateEntries checks and normalises entries of a key section. It
// returns an error message for a 400 response, or "".
func validateEntries(sec keySection, in []APIKeyEntry) ([]APIKeyEntry, string) {
	out := make([]APIKeyEntry, 0, len(in))
	for _, e := range in {
		e.APIKey = strings.TrimSpace(e.APIKey)
		e.BaseURL = strings.TrimSpace(e.BaseURL)
		if e.APIKey == "" {
			if sec.name == "vertex-api-key" {
				return nil, "api-key is required"
			}
			continue
		}
		if e.Weight != nil && *e.Weight < 0 {
			return nil, "weight must be >= 0"
		}
		out = append(out, e)
	}
	return out, ""
}

func (s *State) putKeySection(w http.ResponseWriter, r *http.Request, sec keySection) {
	data, err := readBody(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "failed to read body")
		return
	}
	var entries []APIKeyEntry
	if !decodeItems(data, &entries) {
		writeError(w, http.StatusBadRequest, "invalid body")
		return
	}
	entries, msg := validateEntries(sec, entries)
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	s.update(w, func(c *Config) bool { *sec.list(c) = entries; return true })
}

// overlay applies the JSON object patch onto v (a struct) and decodes the
// result into out.
func overlay(v any, patch json.RawMessage, out any) error {
	var p map[string]json.RawMessage
	if err := json.Unmarshal(patch, &p); err != nil {
		return fmt.Errorf("decode patch: %w", err)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode entry: %w", err)
	}
	m := map[string]json.RawMessage{}
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("decode entry: %w", err)
	}
	for k, val := range p {
		m[k] = val
	}
	merged, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode entry: %w", err)
	}
	if err := json.Unmarshal(merged, out); err != nil {
		return fmt.Errorf("decode entry: %w", err)
	}
	return nil
}

func (s *State) patchKeySection(w http.ResponseWriter, r *http.Request, sec keySection) {
	var body struct {
		Index *int            `json:"index"`
		Match *string         `json:"match"`
		Value json.RawMessage `json:"value"`
	}
	if err := decodeJSON(r, &body); err != nil || len(body.Value) == 0 || string(body.Value) == "null" {
		writeError(w, http.StatusBadRequest, "invalid body")
		return
	}
	s.update(w, func(c *Config) bool {
		list := sec.list(c)
		target := -1
		if body.Index != nil && *body.Index >= 0 && *body.Index < len(*list) {
			target = *body.Index
		}
		if target < 0 && body.Match != nil {
			match := strings.TrimSpace(*body.Match)
			var hits []int
			for i, e := range *list {
				if e.APIKey == match {
					hits = append(hits, i)
				}
			}
			if len(hits) > 1 {
				writeError(w, http.StatusBadRequest, "multiple items match; index is required")
				return false
			}
			if len(hits) == 1 {
				target = hits[0]
			}
		}
		if target < 0 {
			writeError(w, http.StatusNotFound, "item not found")
			return false
		}
		var next APIKeyEntry
		if err := overlay((*list)[target], body.Value, &next); err != nil {
			writeError(w, http.StatusBadRequest, "invalid body")
			return false
		}
		next.APIKey = strings.TrimSpace(next.APIKey)
		if next.APIKey == "" {
			*list = append((*list)[:target:target], (*list)[target+1:]...)
			return true
		}
		if next.Weight != nil && *next.Weight < 0 {
			writeError(w, http.StatusBadRequest, "weight must be >= 0")
			return false
		}
		(*list)[target] = next
		return true
	})
}

func (s *State) deleteKeySection(w http.ResponseWriter, r *http.Request, sec keySection) {
	q := r.URL.Query()
	s.update(w, func(c *Config) bool {
		list := sec.list(c)
		if key := strings.TrimSpace(q.Get("api-key")); key != "" {
			base, hasBase := strings.TrimSpace(q.Get("base-url")), q.Has("base-url")
			var keep []APIKeyEntry
			hits := 0
			for _, e := range *list {
				if e.APIKey == key && (!hasBase || e.BaseURL == base) {
					hits++
					continue
				}
				keep = append(keep, e)
			}
			if hits == 0 {
				writeError(w, http.StatusNotFound, "item not found")
				return false
			}
			if hits > 1 && !hasBase {
				writeError(w, http.StatusBadRequest, "multiple items match api-key; base-url is required")
				return false
			}
			*list = keep
			return true
		}
		if idx := q.Get("index"); idx != "" {
			i, err := strconv.Atoi(idx)
			if err != nil || i < 0 || i >= len(*list) {
				writeError(w, http.StatusNotFound, "item not found")
				return false
			}
			*list = append((*list)[:i:i], (*list)[i+1:]...)
			return true
		}
		writeError(w, http.StatusBadRequest, "missing api-key or index")
		return false
	})
}

// ---- openai-compatibility ----

func compatJSON(p OpenAICompat) map[string]any {
	m := withAuthIndex(p, "")
	entries := make([]map[string]any, 0, len(p.APIKeyEntries))
	for i, e := range p.APIKeyEntries {
		idx := keyAuthIndex("openai-compatibility", p.BaseURL, e.APIKey)
		entries = append(entries, withAuthIndex(e, idx))
		if i == 0 {
			m["auth-index"] = idx
		}
	}
	m["api-key-entries"] = entries
	if p.Models == nil {
		m["models"] = []any{}
	}
	return m
}

func (s *State) getCompat(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	out := make([]map[string]any, 0, len(s.cfg.OpenAICompatibility))
	for _, p := range s.cfg.OpenAICompatibility {
		out = append(out, compatJSON(p))
	}
	s.mu.RUnlock()
	writeJSON(w, http.StatusOK, map[string]any{"openai-compatibility": out})
}

// validateCompat checks and normalises openai-compatibility entries.
func validateCompat(in []OpenAICompat) ([]OpenAICompat, string) {
	for i := range in {
		p := &in[i]
		p.Name = strings.TrimSpace(p.Name)
		p.BaseURL = strings.TrimSpace(p.BaseURL)
		if p.Name == "" {
			return nil, "name is required"
		}
		if p.BaseURL == "" {
			return nil, "base-url is required"
		}
		var keys []CompatKeyEntry
		for _, e := range p.APIKeyEntries {
			e.APIKey = strings.TrimSpace(e.APIKey)
			if e.APIKey == "" {
				continue
			}
			if e.Weight != nil && *e.Weight < 0 {
				return nil, "weight must be >= 0"
			}
			keys = append(keys, e)
		}
		p.APIKeyEntries = keys
	}
	return in, ""
}

func (s *State) putCompat(w http.ResponseWriter, r *http.Request) {
	data, err := readBody(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "failed to read body")
		return
	}
	var entries []OpenAICompat
	if !decodeItems(data, &entries) {
		writeError(w, http.StatusBadRequest, "invalid body")
		return
	}
	entries, msg := validateCompat(entries)
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	s.update(w, func(c *Config) bool { c.OpenAICompatibility = entries; return true })
}

func (s *State) patchCompat(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name  *string         `json:"name"`
		Index *int            `json:"index"`
		Value json.RawMessage `json:"value"`
	}
	if err := decodeJSON(r, &body); err != nil || len(body.Value) == 0 || string(body.Value) == "null" {
		writeError(w, http.StatusBadRequest, "invalid body")
		return
	}
	s.update(w, func(c *Config) bool {
		list := c.OpenAICompatibility
		target := -1
		if body.Index != nil && *body.Index >= 0 && *body.Index < len(list) {
			target = *body.Index
		}
		if target < 0 && body.Name != nil {
			for i, p := range list {
				if p.Name == strings.TrimSpace(*body.Name) {
					target = i
					break
				}
			}
		}
		if target < 0 {
			writeError(w, http.StatusNotFound, "item not found")
			return false
		}
		var next OpenAICompat
		if err := overlay(list[target], body.Value, &next); err != nil {
			writeError(w, http.StatusBadRequest, "invalid body")
			return false
		}
		fixed, msg := validateCompat([]OpenAICompat{next})
		if msg != "" {
			writeError(w, http.StatusBadRequest, msg)
			return false
		}
		list[target] = fixed[0]
		return true
	})
}

func (s *State) deleteCompat(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.update(w, func(c *Config) bool {
		list := c.OpenAICompatibility
		if name := strings.TrimSpace(q.Get("name")); name != "" {
			for i, p := range list {
				if p.Name == name {
					c.OpenAICompatibility = append(list[:i:i], list[i+1:]...)
					return true
				}
			}
			writeError(w, http.StatusNotFound, "item not found")
			return false
		}
		if idx := q.Get("index"); idx != "" {
			i, err := strconv.Atoi(idx)
			if err != nil || i < 0 || i >= len(list) {
				writeError(w, http.StatusNotFound, "item not found")
				return false
			}
			c.OpenAICompatibility = append(list[:i:i], list[i+1:]...)
			return true
		}
		writeError(w, http.StatusBadRequest, "missing name or index")
		return false
	})
}

// ---- OAuth model maps ----

// mapRoutes registers GET/PUT/PATCH/DELETE for a map section keyed by
// provider or channel. PATCH takes {"<keyName>" (or the other of
// provider/channel), "<one of valueNames>": [...]}; an empty list removes
// the key. DELETE takes ?<keyName>= (or the other spelling).
func mapRoutes[T any](s *State, rt *router, path, section, keyName string, valueNames []string,
	get func(*Config) *map[string][]T, norm func([]T) []T) {
	other := map[string]string{"provider": "channel", "channel": "provider"}[keyName]

	rt.handle("GET", path, func(w http.ResponseWriter, r *http.Request) {
		s.mu.RLock()
		m := *get(s.cfg)
		data, _ := json.Marshal(m)
		s.mu.RUnlock()
		out := map[string]any{}
		_ = json.Unmarshal(data, &out)
		if out == nil {
			out = map[string]any{}
		}
		writeJSON(w, http.StatusOK, map[string]any{section: out})
	})
	rt.handle("PUT", path, func(w http.ResponseWriter, r *http.Request) {
		data, err := readBody(r)
		if err != nil {
			writeError(w, http.StatusBadRequest, "failed to read body")
			return
		}
		var m map[string][]T
		var wrapped struct {
			Items map[string][]T `json:"items"`
		}
		if err := json.Unmarshal(data, &wrapped); err == nil && wrapped.Items != nil {
			m = wrapped.Items
		} else if err := json.Unmarshal(data, &m); err != nil || m == nil {
			writeError(w, http.StatusBadRequest, "invalid body")
			return
		}
		clean := map[string][]T{}
		for k, v := range m {
			k = strings.ToLower(strings.TrimSpace(k))
			if v = norm(v); k != "" && len(v) > 0 {
				clean[k] = v
			}
		}
		s.update(w, func(c *Config) bool { *get(c) = clean; return true })
	})
	rt.handle("PATCH", path, func(w http.ResponseWriter, r *http.Request) {
		var body map[string]json.RawMessage
		if err := decodeJSON(r, &body); err != nil {
			writeError(w, http.StatusBadRequest, "invalid body")
			return
		}
		var key string
		for _, n := range []string{keyName, other} {
			if raw, ok := body[n]; ok {
				_ = json.Unmarshal(raw, &key)
				break
			}
		}
		key = strings.ToLower(strings.TrimSpace(key))
		var vals []T
		found := false
		for _, n := range valueNames {
			if raw, ok := body[n]; ok {
				if err := json.Unmarshal(raw, &vals); err != nil {
					writeError(w, http.StatusBadRequest, "invalid body")
					return
				}
				found = true
				break
			}
		}
		if key == "" || !found {
			writeError(w, http.StatusBadRequest, "invalid body")
			return
		}
		vals = norm(vals)
		s.update(w, func(c *Config) bool {
			m := get(c)
			if len(vals) == 0 {
				if _, ok := (*m)[key]; !ok {
					writeError(w, http.StatusNotFound, keyName+" not found")
					return false
				}
				delete(*m, key)
				return true
			}
			if *m == nil {
				*m = map[string][]T{}
			}
			(*m)[key] = vals
			return true
		})
	})
	rt.handle("DELETE", path, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		key := q.Get(keyName)
		if key == "" {
			key = q.Get(other)
		}
		key = strings.ToLower(strings.TrimSpace(key))
		if key == "" {
			writeError(w, http.StatusBadRequest, "missing "+keyName)
			return
		}
		s.update(w, func(c *Config) bool {
			m := get(c)
			if _, ok := (*m)[key]; !ok {
				writeError(w, http.StatusNotFound, keyName+" not found")
				return false
			}
			delete(*m, key)
			return true
		})
	})
}

func normalizeExcluded(in []string) []string {
	var out []string
	for _, v := range in {
		v = strings.ToLower(strings.TrimSpace(v))
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func normalizeAliases(in []ModelAlias) []ModelAlias {
	var out []ModelAlias
	for _, a := range in {
		a.Name, a.Alias = strings.TrimSpace(a.Name), strings.TrimSpace(a.Alias)
		if a.Name != "" && a.Alias != "" {
			out = append(out, a)
		}
	}
	return out
}

func normalizeRules(in []ScopedErrorRule) []ScopedErrorRule {
	var out []ScopedErrorRule
	for _, r := range in {
		r.Action = strings.TrimSpace(r.Action)
		if r.Status != 0 || r.Match != "" || r.MatchRegexr != "" {
			out = append(out, r)
		}
	}
	return out
}
