package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cpam-caddy/cpam/store"
)

// Limits of the alias routes.
const (
	// maxAliasLen is the longest alias, in characters.
	maxAliasLen = 120
	// maxAliasItems is how many aliases one PUT may set.
	maxAliasItems = 5000
	// keyHashLen is the length of a client API key hash
	// (usage.Normalizer.Secret: 32 lowercase hex digits).
	keyHashLen = 32
)

// aliasRoutes registers /v0/management/api-key-aliases.
func (h *Handler) aliasRoutes(mux *routeMux) {
	mux.HandleFunc("GET /v0/management/api-key-aliases", h.getAliases)
	mux.HandleFunc("PUT /v0/management/api-key-aliases", h.putAliases)
	mux.HandleFunc("DELETE /v0/management/api-key-aliases/{hash}", h.deleteAlias)
}

// aliasJSON is one alias of the alias document.
type aliasJSON struct {
	APIKeyHash string `json:"apiKeyHash"`
	Alias      string `json:"alias"`
	// UpdatedAt is null for aliases set before caddy-cpam recorded it.
	UpdatedAt *time.Time `json:"updatedAt"`
}

// aliasesDocJSON is the answer of GET /v0/management/api-key-aliases.
type aliasesDocJSON struct {
	Items []aliasJSON `json:"items"`
}

// aliasesDocument lists the aliases, sorted by alias.
func aliasesDocument(ctx context.Context, s *store.Store) (aliasesDocJSON, error) {
	list, err := s.APIKeyAliasList(ctx)
	if err != nil {
		return aliasesDocJSON{}, err
	}
	doc := aliasesDocJSON{Items: make([]aliasJSON, len(list))}
	for i, a := range list {
		doc.Items[i] = aliasJSON{APIKeyHash: a.KeyHash, Alias: a.Alias}
		if !a.Updated.IsZero() {
			t := a.Updated
			doc.Items[i].UpdatedAt = &t
		}
	}
	return doc, nil
}

func (h *Handler) getAliases(w http.ResponseWriter, r *http.Request) {
	s, err := h.store()
	if err != nil {
		answerError(w, "reading the aliases", err)
		return
	}
	doc, err := aliasesDocument(r.Context(), s)
	if err != nil {
		answerError(w, "reading the aliases", err)
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

// validKeyHash reports whether s looks like a client API key hash.
func validKeyHash(s string) bool {
	if len(s) != keyHashLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

const putAliasesExample = `{"items": [{"apiKeyHash": "<hash>", "alias": "ci"}, {"apiKey": "<client key>", "alias": "alice"}]} (an empty alias removes it)`

// putAliases answers PUT /v0/management/api-key-aliases: the items are
// set (an empty alias removes one); other aliases stay. A raw client key
// is hashed like the collector hashes it and never kept or repeated.
func (h *Handler) putAliases(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Items []struct {
			APIKeyHash string `json:"apiKeyHash"`
			APIKey     string `json:"apiKey"`
			Alias      string `json:"alias"`
		} `json:"items"`
	}
	if !decodeManagementBody(w, r, &body, false, putAliasesExample) {
		return
	}
	if body.Items == nil {
		writeError(w, http.StatusBadRequest, "bad_parameter", "items is missing: send "+putAliasesExample)
		return
	}
	if len(body.Items) > maxAliasItems {
		writeError(w, http.StatusBadRequest, "bad_parameter", fmt.Sprintf("items lists %d aliases: send at most %d", len(body.Items), maxAliasItems))
		return
	}
	items := make([]store.APIKeyAlias, len(body.Items))
	itemOf := map[string]int{}      // key hash → item index
	aliasOf := map[string]int{}     // lower-case alias → item index
	for i, it := range body.Items { // errors name items by index: a raw key is never repeated
		name := fmt.Sprintf("items[%d]", i)
		hash := strings.TrimSpace(it.APIKeyHash)
		switch {
		case it.APIKey != "" && hash != "":
			writeError(w, http.StatusBadRequest, "bad_parameter", name+": send apiKeyHash or apiKey, not both")
			return
		case it.APIKey != "":
			norm := h.opts.Backend.Normalizer()
			if norm == nil {
				writeError(w, http.StatusServiceUnavailable, "unavailable",
					name+": a raw apiKey cannot be hashed while usage collection is not running; send its apiKeyHash, or check the cpam configuration and retry")
				return
			}
			hash = norm.Secret(it.APIKey).Hash
		case hash == "":
			writeError(w, http.StatusBadRequest, "bad_parameter", name+": send apiKeyHash (from the usage data) or apiKey (the client key as configured in CPA)")
			return
		case !validKeyHash(hash):
			writeError(w, http.StatusBadRequest, "bad_parameter",
				fmt.Sprintf("%s: apiKeyHash %q is not a key hash (%d lowercase hex digits): send the hash shown with the usage data, or the key itself as apiKey", name, truncate(hash, 64), keyHashLen))
			return
		}
		alias := strings.TrimSpace(it.Alias)
		switch {
		case !utf8.ValidString(alias) || strings.ContainsFunc(alias, unicode.IsControl):
			writeError(w, http.StatusBadRequest, "bad_parameter", name+": the alias contains control characters or invalid UTF-8")
			return
		case utf8.RuneCountInString(alias) > maxAliasLen:
			writeError(w, http.StatusBadRequest, "bad_parameter", fmt.Sprintf("%s: the alias is longer than %d characters", name, maxAliasLen))
			return
		}
		if j, dup := itemOf[hash]; dup {
			writeError(w, http.StatusBadRequest, "bad_parameter", fmt.Sprintf("items[%d] and %s name the same key (%s): send it once", j, name, hash))
			return
		}
		itemOf[hash] = i
		if alias != "" {
			if j, dup := aliasOf[strings.ToLower(alias)]; dup {
				writeError(w, http.StatusBadRequest, "bad_parameter",
					fmt.Sprintf("items[%d] and %s both take the alias %q (aliases are unique, ignoring case): choose another", j, name, alias))
				return
			}
			aliasOf[strings.ToLower(alias)] = i
		}
		items[i] = store.APIKeyAlias{KeyHash: hash, Alias: alias}
	}
	s, err := h.store()
	if err != nil {
		answerError(w, "saving the aliases", err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), priceWriteTimeout)
	defer cancel()
	if err := s.PutAPIKeyAliases(ctx, items); err != nil {
		var conflict *store.AliasConflictError
		if errors.As(err, &conflict) {
			writeError(w, http.StatusConflict, "alias_taken", fmt.Sprintf(
				"items[%d]: the alias %q is already used by key %s (aliases are unique, ignoring case): choose another, or rename that key in the same request",
				itemOf[conflict.KeyHash], conflict.Alias, conflict.OtherKeyHash))
			return
		}
		answerError(w, "saving the aliases", err)
		return
	}
	doc, err := aliasesDocument(ctx, s)
	if err != nil {
		answerError(w, "reading the aliases", err)
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

// deleteAlias answers DELETE /v0/management/api-key-aliases/{hash}.
func (h *Handler) deleteAlias(w http.ResponseWriter, r *http.Request) {
	hash := r.PathValue("hash")
	if !validKeyHash(hash) {
		writeError(w, http.StatusBadRequest, "bad_parameter",
			fmt.Sprintf("%q is not a key hash (%d lowercase hex digits): send the apiKeyHash of GET /v0/management/api-key-aliases", truncate(hash, 64), keyHashLen))
		return
	}
	s, err := h.store()
	if err != nil {
		answerError(w, "deleting the alias", err)
		return
	}
	ok, err := s.DeleteAPIKeyAlias(r.Context(), hash)
	if err != nil {
		answerError(w, "deleting the alias", err)
		return
	}
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "key "+hash+" has no alias: GET /v0/management/api-key-aliases lists them")
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}
