package mgmt

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// oauthSessionTTL is how long a login flow stays pollable.
const oauthSessionTTL = 30 * time.Minute

// oauthFlow is one pending or finished OAuth login.
type oauthFlow struct {
	provider string // canonical provider: anthropic, codex, antigravity, gemini-cli, kimi, xai
	device   bool
	status   string // "wait", "ok" or "error"
	err      string
	started  time.Time
}

// oauthProviders maps the spellings accepted by oauth-callback to the
// canonical provider.
var oauthProviders = map[string]string{
	"anthropic": "anthropic", "claude": "anthropic",
	"codex": "codex", "openai": "codex",
	"antigravity": "antigravity",
	"gemini":      "gemini-cli", "gemini-cli": "gemini-cli",
	"xai": "xai", "grok": "xai",
	"kimi": "kimi",
}

func (s *State) oauthRoutes(rt *router) {
	pkce := map[string]string{
		"/anthropic-auth-url":   "anthropic",
		"/codex-auth-url":       "codex",
		"/antigravity-auth-url": "antigravity",
		"/gemini-cli-auth-url":  "gemini-cli",
	}
	for path, provider := range pkce {
		provider := provider
		rt.handle("GET", path, func(w http.ResponseWriter, r *http.Request) { s.startPKCE(w, provider) })
	}
	rt.handle("GET", "/kimi-auth-url", func(w http.ResponseWriter, r *http.Request) { s.startDevice(w, "kimi") })
	rt.handle("GET", "/xai-auth-url", func(w http.ResponseWriter, r *http.Request) { s.startDevice(w, "xai") })
	rt.handle("GET", "/get-auth-status", s.getAuthStatus)
	rt.handle("DELETE", "/oauth-session", s.deleteOAuthSession)
	rt.handle("POST", "/oauth-callback", s.oauthCallback)
	rt.handle("GET", "/oauth-callback", s.oauthCallback)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("mgmt: random: %v", err))
	}
	return hex.EncodeToString(b)
}

// newFlow registers a login flow and returns its state. s.mu must be held.
func (s *State) newFlow(provider string, device bool) string {
	now := s.opts.Now()
	for st, f := range s.sessions {
		if now.Sub(f.started) > oauthSessionTTL {
			delete(s.sessions, st)
		}
	}
	state := randomHex(16)
	s.sessions[state] = &oauthFlow{provider: provider, device: device, status: "wait", started: now}
	return state
}

func (s *State) startPKCE(w http.ResponseWriter, provider string) {
	s.mu.Lock()
	state := s.newFlow(provider, false)
	s.mu.Unlock()
	sum := sha256.Sum256([]byte(randomHex(32)))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	q := url.Values{}
	q.Set("state", state)
	q.Set("response_type", "code")
	q.Set("code_challenge", challenge)
	q.Set("code_challenge_method", "S256")
	var base string
	switch provider {
	case "anthropic":
		base = "https://claude.ai/oauth/authorize"
		q.Set("code", "true")
		q.Set("client_id", "cpa-sim-claude-client")
		q.Set("redirect_uri", "http://localhost:54545/callback")
		q.Set("scope", "org:create_api_key user:profile user:inference")
	case "codex":
		base = "https://auth.openai.com/oauth/authorize"
		q.Set("client_id", "app_cpa_sim_codex")
		q.Set("redirect_uri", "http://localhost:1455/auth/callback")
		q.Set("scope", "openid email profile offline_access")
		q.Set("prompt", "login")
	case "antigravity":
		base = "https://accounts.google.com/o/oauth2/v2/auth"
		q.Set("client_id", "cpa-sim-antigravity.apps.googleusercontent.com")
		q.Set("redirect_uri", "http://localhost:51121/oauth-callback")
		q.Set("scope", "https://www.googleapis.com/auth/cloud-platform https://www.googleapis.com/auth/userinfo.email")
		q.Set("access_type", "offline")
		q.Set("prompt", "consent")
	default:
		base = "https://accounts.google.com/o/oauth2/v2/auth"
		q.Set("client_id", "cpa-sim-gemini-cli.apps.googleusercontent.com")
		q.Set("redirect_uri", "http://localhost:8085/oauth2callback")
		q.Set("scope", "https://www.googleapis.com/auth/cloud-platform https://www.googleapis.com/auth/userinfo.email")
		q.Set("access_type", "offline")
		q.Set("prompt", "consent")
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "url": base + "?" + q.Encode(), "state": state})
}

func (s *State) startDevice(w http.ResponseWriter, provider string) {
	s.mu.Lock()
	state := s.newFlow(provider, true)
	s.mu.Unlock()
	code := strings.ToUpper(randomHex(2) + "-" + randomHex(2))
	base := "https://www.kimi.com/code/authorize_device"
	if provider == "xai" {
		base = "https://accounts.x.ai/device"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"status": "ok", "url": base + "?user_code=" + url.QueryEscape(code), "state": state,
		"flow": "device", "user_code": code, "expires_in": int(oauthSessionTTL / time.Second),
	})
}

// validState reports whether a state parameter is well formed.
func validState(st string) bool {
	if st == "" || len(st) > 256 {
		return false
	}
	for _, c := range st {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// flow returns the live session for state, dropping it when expired.
// s.mu must be held for writing.
func (s *State) flow(state string) *oauthFlow {
	f := s.sessions[state]
	if f == nil {
		return nil
	}
	if s.opts.Now().Sub(f.started) > oauthSessionTTL {
		delete(s.sessions, state)
		return nil
	}
	return f
}

func oauthError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"status": "error", "error": msg})
}

func (s *State) getAuthStatus(w http.ResponseWriter, r *http.Request) {
	state := r.URL.Query().Get("state")
	if !validState(state) {
		oauthError(w, http.StatusBadRequest, "invalid state")
		return
	}
	s.mu.Lock()
	f := s.flow(state)
	if f == nil {
		s.mu.Unlock()
		oauthError(w, http.StatusOK, "unknown or expired state")
		return
	}
	completed := false
	if f.device && f.status == "wait" && s.opts.DeviceAutoApprove > 0 && s.opts.Now().Sub(f.started) >= s.opts.DeviceAutoApprove {
		s.completeFlowLocked(f, state)
		completed = true
	}
	status, msg := f.status, f.err
	s.mu.Unlock()
	if completed {
		s.scheduleReload()
	}
	if status == "error" {
		oauthError(w, http.StatusOK, msg)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": status})
}

func (s *State) deleteOAuthSession(w http.ResponseWriter, r *http.Request) {
	state := r.URL.Query().Get("state")
	if !validState(state) {
		oauthError(w, http.StatusBadRequest, "invalid state")
		return
	}
	s.mu.Lock()
	f := s.flow(state)
	cancelled := f != nil && f.status == "wait"
	delete(s.sessions, state)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "cancelled": cancelled})
}

// callbackError is an oauth-callback failure with its HTTP status.
type callbackError struct {
	status int
	msg    string
}

func (e *callbackError) Error() string { return e.msg }

func (s *State) oauthCallback(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Provider    string `json:"provider"`
		RedirectURL string `json:"redirect_url"`
		Code        string `json:"code"`
		State       string `json:"state"`
		Error       string `json:"error"`
	}
	if r.Method == http.MethodPost {
		if err := decodeJSON(r, &in); err != nil {
			oauthError(w, http.StatusBadRequest, "invalid body")
			return
		}
	} else {
		q := r.URL.Query()
		in.Provider, in.Code, in.State, in.Error = q.Get("provider"), q.Get("code"), q.Get("state"), q.Get("error")
	}
	if in.RedirectURL != "" {
		u, err := url.Parse(strings.TrimSpace(in.RedirectURL))
		if err != nil {
			oauthError(w, http.StatusBadRequest, "invalid redirect_url")
			return
		}
		q := u.Query()
		if frag, err := url.ParseQuery(u.Fragment); err == nil {
			for k, v := range frag {
				if q.Get(k) == "" && len(v) > 0 {
					q.Set(k, v[0])
				}
			}
		}
		if in.Code == "" {
			in.Code = q.Get("code")
		}
		if in.State == "" {
			in.State = q.Get("state")
		}
		if in.Error == "" {
			in.Error = q.Get("error")
		}
	}
	if err := s.CompleteOAuth(in.Provider, in.State, in.Code, in.Error); err != nil {
		var ce *callbackError
		if errors.As(err, &ce) {
			oauthError(w, ce.status, ce.msg)
			return
		}
		oauthError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
}

// CompleteOAuth delivers an OAuth provider redirect (code or error) for a
// pending login flow, as CPA's /<provider>/callback routes and the
// oauth-callback management route do. A code completes the flow: an auth
// file for a new demo account is created and the reload hooks run. The
// error's text is the message oauth-callback answers with.
func (s *State) CompleteOAuth(provider, state, code, errText string) error {
	p, ok := oauthProviders[strings.ToLower(strings.TrimSpace(provider))]
	if !ok {
		return &callbackError{http.StatusBadRequest, "unsupported provider"}
	}
	if state == "" {
		return &callbackError{http.StatusBadRequest, "missing state"}
	}
	if !validState(state) {
		return &callbackError{http.StatusBadRequest, "invalid state"}
	}
	s.mu.Lock()
	f := s.flow(state)
	switch {
	case f == nil:
		s.mu.Unlock()
		return &callbackError{http.StatusNotFound, "unknown or expired state"}
	case f.provider != p:
		s.mu.Unlock()
		return &callbackError{http.StatusBadRequest, "provider does not match state"}
	case f.status != "wait":
		s.mu.Unlock()
		return &callbackError{http.StatusConflict, "oauth flow is not pending"}
	}
	if errText != "" {
		f.status, f.err = "error", errText
		s.mu.Unlock()
		return nil
	}
	if code == "" && !f.device {
		s.mu.Unlock()
		return &callbackError{http.StatusBadRequest, "missing code"}
	}
	s.completeFlowLocked(f, state)
	s.mu.Unlock()
	s.scheduleReload()
	return nil
}

// completeFlowLocked finishes a flow by creating the account's auth file.
// s.mu must be held for writing.
func (s *State) completeFlowLocked(f *oauthFlow, state string) {
	s.oauthSeq++
	now := s.opts.Now()
	email := fmt.Sprintf("oauth-user-%d@example.com", s.oauthSeq)
	short := state
	if len(short) > 8 {
		short = short[:8]
	}
	meta := map[string]any{
		"email":         email,
		"access_token":  "sim-" + f.provider + "-access-" + short,
		"refresh_token": "sim-" + f.provider + "-refresh-" + short,
		"expired":       now.Add(8 * time.Hour).UTC().Format(time.RFC3339),
		"last_refresh":  now.UTC().Format(time.RFC3339),
	}
	var name string
	switch f.provider {
	case "anthropic":
		meta["type"] = "claude"
		name = "claude-" + email + ".json"
	case "codex":
		meta["type"] = "codex"
		account := "acc-sim-" + short
		meta["account_id"] = account
		meta["id_token"] = fakeJWT(map[string]any{"email": email, "https://api.openai.com/auth": map[string]any{
			"chatgpt_account_id": account, "chatgpt_plan_type": "plus",
			"chatgpt_subscription_active_start": now.UTC().Format(time.RFC3339),
			"chatgpt_subscription_active_until": now.AddDate(0, 1, 0).UTC().Format(time.RFC3339),
		}})
		name = "codex-" + email + "-plus.json"
	case "antigravity":
		meta["type"] = "antigravity"
		meta["project_id"] = fmt.Sprintf("sim-antigravity-%d", s.oauthSeq)
		name = "antigravity-" + email + ".json"
	case "gemini-cli":
		project := fmt.Sprintf("sim-project-%d", s.oauthSeq)
		meta["type"] = "gemini"
		meta["project_id"] = project
		meta["token"] = map[string]any{"access_token": meta["access_token"], "refresh_token": meta["refresh_token"], "token_type": "Bearer"}
		delete(meta, "access_token")
		delete(meta, "refresh_token")
		name = "gemini-" + email + "-" + project + ".json"
	default:
		meta["type"] = f.provider
		name = f.provider + "-" + email + ".json"
	}
	data, _ := json.MarshalIndent(meta, "", "  ")
	_ = s.storeFile(name, data)
	f.status = "ok"
}
