package api

import (
	"context"
	"net/http"
	"time"

	"github.com/cpam-caddy/cpam/store"
)

// quotaEvidencePattern is the route of the passive quota evidence.
const quotaEvidencePattern = "GET /api/v1/quota-evidence"

// quotaEvidenceParams are the query parameters of the quota evidence: the
// period (from defaults to 24 hours before to, to to now), its zone for
// dates, and the upstream and provider filters.
var quotaEvidenceParams = []string{pFrom, pTo, pTZ, pUpstream, pProvider}

// quotaEvidenceRoutes registers /api/v1/quota-evidence.
func (h *Handler) quotaEvidenceRoutes(mux *routeMux) {
	rt := analyticsRoute{method: "GET", path: "/api/v1/quota-evidence", params: quotaEvidenceParams, filtered: true,
		serve: (*Handler).quotaEvidence}
	mux.HandleFunc(quotaEvidencePattern, func(w http.ResponseWriter, r *http.Request) {
		h.serveAnalytics(w, r, rt)
	})
}

// quotaEvidenceJSON is one credential's newest quota evidence.
type quotaEvidenceJSON struct {
	// Account is the credential's auth_index.
	Account string `json:"account"`
	// Name is the credential's display name (emails masked), "" when
	// unknown.
	Name       string    `json:"name"`
	Provider   string    `json:"provider"`
	Upstream   string    `json:"upstream"`
	ObservedAt time.Time `json:"observed_at"`
	RequestID  string    `json:"request_id"`
	// Headers are the event's stored quota headers (see
	// store.IsQuotaHeader), names in canonical form.
	Headers map[string]string `json:"headers"`
}

// quotaEvidence answers GET /api/v1/quota-evidence: for each credential,
// the newest event of the period whose stored response headers report
// quota, with those headers.
func (h *Handler) quotaEvidence(w http.ResponseWriter, r *http.Request, q *query) error {
	s, err := h.store()
	if err != nil {
		return err
	}
	evs, err := s.QuotaEvidence(r.Context(), q.filter)
	if err != nil {
		return err
	}
	names, err := h.credentialNames(r.Context(), s, evs)
	if err != nil {
		return err
	}
	items := make([]quotaEvidenceJSON, len(evs))
	for i, e := range evs {
		hdr := make(map[string]string, len(e.Headers))
		for k, v := range e.Headers {
			if store.IsQuotaHeader(k) {
				hdr[http.CanonicalHeaderKey(k)] = v
			}
		}
		items[i] = quotaEvidenceJSON{Account: e.AuthIndex, Name: names[e.AuthIndex], Provider: e.Provider,
			Upstream: e.Upstream, ObservedAt: e.Time, RequestID: e.RequestID, Headers: hdr}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

// credentialNames labels the credentials of evs like the account
// breakdown does: the backend's current name, else the attribution frozen
// on the event, else on the credential's newest event. Emails are masked.
func (h *Handler) credentialNames(ctx context.Context, s *store.Store, evs []store.StoredEvent) (map[string]string, error) {
	lookup, _ := h.opts.Backend.(AccountLookup)
	out := make(map[string]string, len(evs))
	var missing []string
	for _, e := range evs {
		if lookup != nil {
			if a, ok := lookup.Account(e.AuthIndex); ok {
				if label := accountLabel(a); label != "" {
					out[e.AuthIndex] = label
					continue
				}
			}
		}
		if label := accountLabel(e.Account); label != "" {
			out[e.AuthIndex] = label
			continue
		}
		missing = append(missing, e.AuthIndex)
	}
	if len(missing) == 0 {
		return out, nil
	}
	stored, err := s.LatestAccounts(ctx, missing)
	if err != nil {
		return nil, err
	}
	for k, a := range stored {
		out[k] = accountLabel(a)
	}
	return out, nil
}
