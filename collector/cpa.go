package collector

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Reasons a CPA refuses the collector. They stop collection until the
// configuration changes, because retrying would count towards CPA's IP ban
// (5 failures → 30 minutes, shared with everyone on this host).
var (
	// ErrKeyRejected: CPA does not accept the management key.
	ErrKeyRejected = errors.New("CPA rejected the management key; fix management_key and reload Caddy")
	// ErrRemoteDisabled: CPA only accepts management calls from its own host.
	ErrRemoteDisabled = errors.New("CPA refuses remote management; run Caddy on CPA's host or set remote-management.allow-remote: true in CPA's config")
	// ErrManagementOff: CPA has no management secret or runs in Home mode, so it serves no usage.
	ErrManagementOff = errors.New("CPA's management API is off (no remote-management.secret-key, or Home mode), so it publishes no usage")
)

// BannedError reports CPA's IP ban and how long it lasts.
type BannedError struct{ Remaining time.Duration }

func (e *BannedError) Error() string {
	return fmt.Sprintf("CPA has banned this host's IP after failed logins; retrying in %s", e.Remaining)
}

// isFatal reports errors that stop collection until a reload.
func isFatal(err error) bool {
	return errors.Is(err, ErrKeyRejected) || errors.Is(err, ErrRemoteDisabled)
}

// classifyCPAError maps CPA's management error texts (HTTP and RESP) to the
// errors above; ok is false for anything else.
func classifyCPAError(msg string) (error, bool) {
	switch {
	case strings.Contains(msg, "invalid management key"), strings.Contains(msg, "missing management key"):
		return ErrKeyRejected, true
	case strings.Contains(msg, "remote management disabled"):
		return ErrRemoteDisabled, true
	case strings.Contains(msg, "IP banned"):
		return &BannedError{Remaining: parseBanRemaining(msg)}, true
	}
	return nil, false
}

// parseBanRemaining reads "... Try again in 29m59s"; it falls back to CPA's
// full ban length.
func parseBanRemaining(msg string) time.Duration {
	if i := strings.LastIndex(msg, "Try again in "); i >= 0 {
		if d, err := time.ParseDuration(strings.TrimSpace(msg[i+len("Try again in "):])); err == nil && d > 0 {
			return d
		}
	}
	return 30 * time.Minute
}

// cpaClient calls CPA's management API.
type cpaClient struct {
	base *url.URL
	key  string
	http *http.Client
}

func newCPAClient(base *url.URL, key string, insecure bool) *cpaClient {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // CPA is reached directly; a proxy would add forwarding headers
	if insecure {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // opted in by tls_insecure_skip_verify
	}
	return &cpaClient{base: base, key: key, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// maxManagementBody bounds what the collector reads from one answer.
const maxManagementBody = 64 << 20

// get calls a management route and decodes its JSON answer into out. It
// returns CPA's version header.
func (c *cpaClient) get(ctx context.Context, path string, out any) (string, error) {
	u := c.base.JoinPath("/v0/management", path)
	if i := strings.IndexByte(path, '?'); i >= 0 {
		u = c.base.JoinPath("/v0/management", path[:i])
		u.RawQuery = path[i+1:]
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", fmt.Errorf("building request for %s: %w", path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	resp, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	version := resp.Header.Get("X-CPA-VERSION")
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxManagementBody+1))
	if err != nil {
		return version, fmt.Errorf("GET %s: reading answer: %w", path, err)
	}
	if len(body) > maxManagementBody {
		return version, fmt.Errorf("GET %s: answer larger than %d bytes", path, maxManagementBody)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(body, &e)
		if known, ok := classifyCPAError(e.Error); ok {
			return version, known
		}
		if resp.StatusCode == http.StatusNotFound && len(body) == 0 {
			return version, ErrManagementOff
		}
		return version, fmt.Errorf("GET %s: CPA answered %d %s", path, resp.StatusCode, strings.TrimSpace(e.Error+" "+e.Message))
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return version, fmt.Errorf("GET %s: decoding answer: %w", path, err)
		}
	}
	return version, nil
}

// popQueue takes up to count records from CPA's usage queue over HTTP.
// Elements are returned raw; CPA sends objects, some builds JSON strings.
func (c *cpaClient) popQueue(ctx context.Context, count int) ([]json.RawMessage, error) {
	var recs []json.RawMessage
	_, err := c.get(ctx, "usage-queue?count="+strconv.Itoa(count), &recs)
	return recs, err
}

// cpaSettings is what the collector reads from CPA's /config.
type cpaSettings struct {
	Version          string
	UsageEnabled     *bool
	RetentionSeconds int
}

func (c *cpaClient) settings(ctx context.Context) (cpaSettings, error) {
	var cfg struct {
		UsageEnabled *bool `json:"usage-statistics-enabled"`
		Retention    *int  `json:"redis-usage-queue-retention-seconds"`
	}
	version, err := c.get(ctx, "config", &cfg)
	if err != nil {
		return cpaSettings{Version: version}, err
	}
	s := cpaSettings{Version: version, UsageEnabled: cfg.UsageEnabled, RetentionSeconds: 60}
	if cfg.Retention != nil {
		// CPA's own clamping: <= 0 means 60, above 3600 is cut to 3600.
		switch r := *cfg.Retention; {
		case r <= 0:
		case r > 3600:
			s.RetentionSeconds = 3600
		default:
			s.RetentionSeconds = r
		}
	}
	return s, nil
}
