package cpasim

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/cpam-caddy/cpam/cpasim/mgmt"
)

// secretHeaders are request headers whose values request logs mask.
var secretHeaders = []string{"Authorization", "X-Api-Key", "X-Goog-Api-Key", "X-Management-Key"}

// maskKey shortens a secret the way CPA's request logs do, e.g.
// sk-cpa-test-1 → sk-c…st-1.
func maskKey(k string) string {
	if len(k) <= 8 {
		return strings.Repeat("*", len(k))
	}
	return k[:4] + "…" + k[len(k)-4:]
}

// exchangeLog accumulates the log file text of one /v1 request: the
// downstream request, every upstream attempt and the final status, laid
// out like CPA's request and error logs.
type exchangeLog struct {
	head     strings.Builder
	attempts strings.Builder
	n        int
}

// newExchangeLog starts the log of request r with id requestID.
func newExchangeLog(r *http.Request, version, requestID string, at time.Time) *exchangeLog {
	l := &exchangeLog{}
	b := &l.head
	u := r.URL.Path
	if q := r.URL.Query(); len(q) > 0 {
		for _, k := range []string{"key", "auth_token"} {
			if v := q.Get(k); v != "" {
				q.Set(k, maskKey(v))
			}
		}
		u += "?" + q.Encode()
	}
	fmt.Fprintf(b, "=== REQUEST INFO ===\nVersion: %s\nURL: %s\nMethod: %s\nRequest ID: %s\nTimestamp: %s\n\n",
		version, u, r.Method, requestID, at.Format(time.RFC3339Nano))
	b.WriteString("=== HEADERS ===\n")
	names := make([]string, 0, len(r.Header))
	for name := range r.Header {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		for _, v := range r.Header[name] {
			if slices.Contains(secretHeaders, name) {
				scheme, key, ok := strings.Cut(v, " ")
				if ok {
					v = scheme + " " + maskKey(key)
				} else {
					v = maskKey(v)
				}
			}
			fmt.Fprintf(b, "%s: %s\n", name, v)
		}
	}
	b.WriteByte('\n')
	return l
}

// body records the downstream request body.
func (l *exchangeLog) body(raw []byte) {
	fmt.Fprintf(&l.head, "=== REQUEST BODY ===\n%s\n\n", raw)
}

// attempt records one upstream attempt.
func (l *exchangeLog) attempt(c mgmt.Credential, model string, a *attempt) {
	l.n++
	b := &l.attempts
	fmt.Fprintf(b, "=== API RESPONSE %d ===\nTimestamp: %s\nProvider: %s\nAuth: %s (%s)\nModel: %s\nStatus: %d\n",
		l.n, a.start.Format(time.RFC3339Nano), c.Provider, c.AuthIndex, maskKey(c.Source), model, a.status)
	if a.failed() {
		fmt.Fprintf(b, "\n%s\n", a.body)
	}
	b.WriteByte('\n')
}

// errorLog is the text of the request's error log so far: the request and
// every attempt made until now.
func (l *exchangeLog) errorLog() string {
	return l.head.String() + l.attempts.String()
}

// requestLog is the full request log, ending with the downstream status.
func (l *exchangeLog) requestLog(status int) string {
	return l.errorLog() + fmt.Sprintf("=== RESPONSE ===\nStatus: %d\n", status)
}
