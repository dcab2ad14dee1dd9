package mgmt

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// apiCallTimeout bounds a proxied /api-call request, as in CPA.
const apiCallTimeout = 60 * time.Second

// apiCallClient makes the real requests of /api-call. It never uses a
// proxy: the simulator only reaches loopback hosts.
var apiCallClient = &http.Client{
	Timeout:   apiCallTimeout,
	Transport: &http.Transport{Proxy: nil, DialContext: (&net.Dialer{Timeout: 10 * time.Second}).DialContext},
	CheckRedirect: func(req *http.Request, via []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// isLoopbackHost reports whether host (without port) is a loopback name
// or address.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

func rawString(m map[string]json.RawMessage, keys ...string) string {
	for _, k := range keys {
		if raw, ok := m[k]; ok {
			var v string
			if json.Unmarshal(raw, &v) == nil {
				return v
			}
		}
	}
	return ""
}

// credentialByIndex finds a credential (enabled or not) in the management
// view. s.mu must be held.
func (s *State) credentialByIndex(idx string) (Credential, bool) {
	for _, c := range buildCredentials(s.cfg, s.files) {
		if c.AuthIndex == idx {
			return c, true
		}
	}
	return Credential{}, false
}

func (s *State) apiCall(w http.ResponseWriter, r *http.Request) {
	var body map[string]json.RawMessage
	if err := decodeJSON(r, &body); err != nil || body == nil {
		writeError(w, http.StatusBadRequest, "invalid body")
		return
	}
	var headers map[string]string
	if raw, ok := body["header"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &headers); err != nil {
			writeError(w, http.StatusBadRequest, "invalid body")
			return
		}
	}
	method := strings.ToUpper(strings.TrimSpace(rawString(body, "method")))
	rawURL := strings.TrimSpace(rawString(body, "url"))
	data := rawString(body, "data")
	proxyURL := strings.TrimSpace(rawString(body, "proxy_url"))
	authIndex := strings.TrimSpace(rawString(body, "auth_index", "authIndex", "AuthIndex"))
	if method == "" {
		writeError(w, http.StatusBadRequest, "missing method")
		return
	}
	if rawURL == "" {
		writeError(w, http.StatusBadRequest, "missing url")
		return
	}
	target, err := url.Parse(rawURL)
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		writeError(w, http.StatusBadRequest, "invalid url")
		return
	}
	if proxyURL != "" && proxyURL != "direct" && proxyURL != "none" {
		p, err := url.Parse(proxyURL)
		if err != nil || p.Host == "" || (p.Scheme != "http" && p.Scheme != "https" && p.Scheme != "socks5" && p.Scheme != "socks5h") {
			writeError(w, http.StatusBadRequest, "invalid proxy_url")
			return
		}
	}

	var cred Credential
	haveCred := false
	if authIndex != "" {
		s.mu.RLock()
		cred, haveCred = s.credentialByIndex(authIndex)
		s.mu.RUnlock()
	}
	token := ""
	if haveCred {
		token = cred.APIKey
		if token == "" {
			token = cred.AccessToken
		}
	}
	needsToken := authIndex != ""
	for _, v := range headers {
		if strings.Contains(v, "$TOKEN$") {
			needsToken = true
		}
	}
	if needsToken && token == "" {
		writeError(w, http.StatusBadRequest, "auth token not found")
		return
	}
	hdr := http.Header{}
	host := ""
	for k, v := range headers {
		v = strings.ReplaceAll(v, "$TOKEN$", token)
		if strings.EqualFold(k, "Host") {
			host = v
			continue
		}
		hdr.Set(k, v)
	}

	var status int
	var respHeader http.Header
	var respBody string
	switch {
	case isLoopbackHost(target.Hostname()):
		ctx, cancel := context.WithTimeout(r.Context(), apiCallTimeout)
		defer cancel()
		var rd io.Reader
		if data != "" {
			rd = strings.NewReader(data)
		}
		req, err := http.NewRequestWithContext(ctx, method, target.String(), rd)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid url")
			return
		}
		req.Header = hdr
		if host != "" {
			req.Host = host
		}
		resp, err := apiCallClient.Do(req)
		if err != nil {
			writeError(w, http.StatusBadGateway, "request failed")
			return
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
		_ = resp.Body.Close()
		if err != nil {
			writeError(w, http.StatusBadGateway, "failed to read response")
			return
		}
		status, respHeader, respBody = resp.StatusCode, resp.Header, string(b)
	default:
		var ok bool
		status, respHeader, respBody, ok = s.simulateProvider(method, target, hdr, cred)
		if !ok {
			writeError(w, http.StatusBadGateway, "request failed")
			return
		}
	}
	if respHeader == nil {
		respHeader = http.Header{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"status_code": status, "header": respHeader, "body": respBody})
}
