// Package mgmt is the management plane of the CPA simulator: the runtime
// configuration CPA keeps (client keys, provider credentials, auth files,
// scalar settings), the in-memory request counters, the log files, and the
// /v0/management HTTP routes that read and write them.
//
// The transport side of the simulator (package cpasim) authenticates
// management requests and then hands them to State.Handler; it also reads
// the configuration through the accessor methods below when it produces
// usage records.
package mgmt

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sync"
	"time"
)

// Options configures a State.
type Options struct {
	// SecretKey is the plaintext management key. Empty disables management:
	// every management route answers a bare 404 and RESP is refused.
	SecretKey string
	// AllowRemote mirrors remote-management.allow-remote.
	AllowRemote bool
	// ReloadDelay is how long a configuration write takes to "hot-reload"
	// before it is visible and the refresh hook fires. CPA takes a few
	// hundred milliseconds; tests may set it to zero.
	ReloadDelay time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
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
	// key for API-key credentials, the account email for OAuth.
	Source string
	// Label is a human name (entry name, base URL or email).
	Label string
	// Models lists the model names this credential serves; empty means any.
	Models []string
	// Disabled credentials are never chosen.
	Disabled bool
}

// AuthIndex computes CPA's auth_index for a seed: the first 8 bytes of the
// SHA-256 of the seed, hex encoded. Seeds are "<section>:<base-url>+<api-key>"
// for config keys and "<type>:<absolute path>" for auth files.
func AuthIndex(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return hex.EncodeToString(sum[:8])
}

// State is the simulator's management plane. It is safe for concurrent use.
type State struct {
	opts Options

	mu        sync.RWMutex
	apiKeys   []string
	creds     []Credential
	usageOn   bool
	retention int
	retry     int

	hookMu   sync.Mutex
	onReload []func()
}

// NewState returns a State holding the simulator's default configuration.
func NewState(opts Options) *State {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &State{
		opts:      opts,
		apiKeys:   []string{"sk-cpa-test-1", "sk-cpa-test-2"},
		usageOn:   true,
		retention: 60,
	}
	base := "http://127.0.0.1:18080/v1"
	s.creds = []Credential{{
		AuthIndex:    AuthIndex("openai-compatibility:" + base + "+sk-mock-upstream"),
		Provider:     "openai-compatible-mock",
		ExecutorType: "OpenAICompatExecutor",
		AuthType:     "apikey",
		Source:       "sk-mock-upstream",
		Label:        "mock",
		Models:       []string{"mock-gpt", "mock-fail"},
	}}
	return s
}

// Secret returns the plaintext management key ("" when management is off).
func (s *State) Secret() string { return s.opts.SecretKey }

// AllowRemote reports remote-management.allow-remote.
func (s *State) AllowRemote() bool { return s.opts.AllowRemote }

// UsageStatisticsEnabled reports usage-statistics-enabled.
func (s *State) UsageStatisticsEnabled() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.usageOn
}

// RetentionSeconds returns redis-usage-queue-retention-seconds as CPA applies
// it: values <= 0 become 60, values above 3600 become 3600.
func (s *State) RetentionSeconds() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return clampRetention(s.retention)
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
	return s.retry
}

// ClientKeyValid reports whether key is one of the configured api-keys.
func (s *State) ClientKeyValid(key string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, k := range s.apiKeys {
		if k == key {
			return true
		}
	}
	return false
}

// Credentials returns the enabled credentials that serve model, in the order
// a request should try them.
func (s *State) Credentials(model string) []Credential {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Credential
	for _, c := range s.creds {
		if c.Disabled {
			continue
		}
		if len(c.Models) == 0 || contains(c.Models, model) {
			out = append(out, c)
		}
	}
	return out
}

// Models returns every model name some credential serves, for /v1/models.
func (s *State) Models() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	for _, c := range s.creds {
		for _, m := range c.Models {
			if !contains(out, m) {
				out = append(out, m)
			}
		}
	}
	return out
}

// RecordAttempt counts one upstream attempt of a credential in the in-memory
// counters behind /api-key-usage and the auth-files recent_requests buckets.
func (s *State) RecordAttempt(authIndex string, failed bool, at time.Time) {}

// AppendLog appends one line to the simulated main.log. requestID, when not
// empty, is written as "[xxxxxxxx]" like CPA does.
func (s *State) AppendLog(requestID, line string) {}

// OnReload registers f to run after every configuration change has been
// applied (a config save, an auth file added, changed or removed). The
// transport publishes {"refresh":true} to usage subscribers from it, and
// drops the queue and subscribers when management was switched off.
func (s *State) OnReload(f func()) {
	s.hookMu.Lock()
	defer s.hookMu.Unlock()
	s.onReload = append(s.onReload, f)
}

// ResetRuntime clears what a CPA restart loses: the request counters.
func (s *State) ResetRuntime() {}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// Handler serves the management routes. Requests arrive with their full
// path (/v0/management/...) and have already passed CPA's availability gate
// and key authentication. Unknown paths answer 404 with an empty body.
func (s *State) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
	})
	return mux
}
