package mgmt

import (
	"net/http"
	"time"
)

const (
	bucketWidth = 10 * time.Minute
	bucketCount = 20
)

// counter holds the in-memory request counters of one credential.
type counter struct {
	success int64
	failed  int64
	buckets map[int64]*[2]int64 // bucket start (unix seconds) → success, failed
}

// recentBucket is one recent_requests element.
type recentBucket struct {
	Time    string `json:"time"`
	Success int64  `json:"success"`
	Failed  int64  `json:"failed"`
}

func bucketStart(t time.Time) int64 {
	u := t.Unix()
	w := int64(bucketWidth / time.Second)
	return u - ((u%w)+w)%w
}

// RecordAttempt counts one upstream attempt of a credential in the in-memory
// counters behind /api-key-usage and the auth-files recent_requests buckets.
func (s *State) RecordAttempt(authIndex string, failed bool, at time.Time) {
	if authIndex == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.counters[authIndex]
	if c == nil {
		c = &counter{buckets: map[int64]*[2]int64{}}
		s.counters[authIndex] = c
	}
	start := bucketStart(at)
	b := c.buckets[start]
	if b == nil {
		b = &[2]int64{}
		c.buckets[start] = b
	}
	if failed {
		c.failed++
		b[1]++
	} else {
		c.success++
		b[0]++
	}
	// Drop buckets that can no longer be shown.
	oldest := bucketStart(s.opts.Now()) - int64((bucketCount-1)*bucketWidth/time.Second)
	for k := range c.buckets {
		if k < oldest && k != start {
			delete(c.buckets, k)
		}
	}
}

// usageOf returns the totals and the 20 recent buckets (oldest first,
// labelled "HH:MM-HH:MM" in local time) of a credential. s.mu must be held.
func (s *State) usageOf(authIndex string) (int64, int64, []recentBucket) {
	now := s.opts.Now()
	end := bucketStart(now)
	c := s.counters[authIndex]
	out := make([]recentBucket, 0, bucketCount)
	for i := bucketCount - 1; i >= 0; i-- {
		start := end - int64(i)*int64(bucketWidth/time.Second)
		from := time.Unix(start, 0).In(s.opts.Location)
		to := from.Add(bucketWidth)
		rb := recentBucket{Time: from.Format("15:04") + "-" + to.Format("15:04")}
		if c != nil {
			if b := c.buckets[start]; b != nil {
				rb.Success, rb.Failed = b[0], b[1]
			}
		}
		out = append(out, rb)
	}
	if c == nil {
		return 0, 0, out
	}
	return c.success, c.failed, out
}

// apiKeyUsage serves GET /api-key-usage: counters of every config API-key
// credential, grouped by provider (or openai-compatibility name) and keyed
// "<base_url>|<api_key>".
func (s *State) apiKeyUsage(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := map[string]map[string]any{}
	add := func(group, baseURL, key, idx string) {
		succ, fail, recent := s.usageOf(idx)
		if out[group] == nil {
			out[group] = map[string]any{}
		}
		out[group][baseURL+"|"+key] = map[string]any{"success": succ, "failed": fail, "recent_requests": recent}
	}
	for _, p := range s.cfg.OpenAICompatibility {
		for _, e := range p.APIKeyEntries {
			add(p.Name, p.BaseURL, e.APIKey, keyAuthIndex("openai-compatibility", p.BaseURL, e.APIKey))
		}
	}
	for _, sec := range keySections {
		for _, e := range *sec.list(s.cfg) {
			add(sec.provider, e.BaseURL, e.APIKey, keyAuthIndex(sec.name, e.BaseURL, e.APIKey))
		}
	}
	writeJSON(w, http.StatusOK, out)
}
