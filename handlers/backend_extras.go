package handlers

import (
	"net/url"
	"time"

	"github.com/cpam-caddy/cpam/api"
	"github.com/cpam-caddy/cpam/usage"
)

// Account names a CPA credential for the API's account breakdown.
func (b backend) Account(authIndex string) (usage.Account, bool) {
	return b.app.Runtime().Account(authIndex)
}

// Retention is how long raw events are kept, for the API's /status.
func (b backend) Retention() time.Duration { return b.app.Settings().Retention }

// ServiceSettings describes the effective cpam configuration for the API's
// /status, without any key.
func (b backend) ServiceSettings() api.ServiceSettings {
	s := b.app.Settings()
	out := api.ServiceSettings{
		Upstreams:         make([]api.UpstreamSetting, 0, len(s.Upstreams)),
		AdminKey:          "generated",
		RetentionSeconds:  int64(s.Retention / time.Second),
		SessionTTLSeconds: int64(s.SessionTTL / time.Second),
		QueryLimit:        s.QueryLimit,
		MaxImportSize:     s.MaxImportSize,
		CORSOrigins:       append([]string{}, s.CORSOrigins...),
		PriceSources:      make([]api.PriceSource, 0, len(s.PriceSources)),
	}
	if s.AdminKey != "" {
		out.AdminKey = "configured"
	}
	for _, u := range s.Upstreams {
		out.Upstreams = append(out.Upstreams, api.UpstreamSetting{
			Name: u.Name, URL: publicURL(u.URL), Collector: u.Collector,
			PollIntervalSeconds:   int64(u.PollInterval / time.Second),
			TLSInsecureSkipVerify: u.TLSInsecureSkipVerify,
			ManagementKeySet:      u.ManagementKey != "",
		})
	}
	for _, p := range s.PriceSources {
		out.PriceSources = append(out.PriceSources, api.PriceSource{Name: p.Name, URL: publicURL(mustParse(p.URL))})
	}
	return out
}

// publicURL drops the parts of u that may carry secrets: user information,
// query and fragment.
func publicURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User, c.RawQuery, c.ForceQuery, c.Fragment, c.RawFragment = nil, "", false, "", ""
	return c.String()
}

// mustParse parses a URL validated when the config loaded; nil if it no
// longer parses.
func mustParse(raw string) *url.URL {
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	return u
}
