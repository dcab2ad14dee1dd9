// Package benchgen generates raw CPA usage records (the v7.2 JSON the CPA
// simulator emits) shaped like one busy operator's traffic, for the
// benchmark harness (cmd/cpam-bench). The output depends only on the
// Config: the same seed, count and end time give the same bytes.
//
// The traffic model:
//
//   - 21 models across 7 providers (OAuth subscriptions for Claude, Codex,
//     Gemini CLI and Antigravity; API keys for an OpenAI-compatible
//     gateway, xAI and Gemini), drawn with a Zipf-like popularity;
//   - 41 upstream credentials (auth_index with an OAuth email or a
//     provider API key); CPA picks one of the model's provider at random;
//   - 30 client API keys, Zipf-like popularity, each sticking to 2–3
//     models with one dominant, some asking for a model alias;
//   - about 4% of attempts fail (429 most, then 5xx, 401/403, 400),
//     clustered on two bad credentials and hourly provider outages; a
//     failed attempt is usually retried on another credential of the same
//     provider (a failover attempt sharing the request_id), up to 3 attempts;
//   - a daily cycle in UTC (busy around 14:00, a floor at night, weekends
//     at 40%) over Span ending at End, records in arrival order.
package benchgen

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/cpam-caddy/cpam/cpasim"
)

// Config configures a Generator.
type Config struct {
	// Seed fixes the random sequence; DefaultSeed when 0.
	Seed uint64
	// Events is how many records (attempts) the generator spreads over the
	// span; generating more than that keeps going past End.
	Events int
	// End is the time of the last record; Span is how far back the first
	// one is (DefaultSpan when 0).
	End  time.Time
	Span time.Duration
}

// Defaults.
const (
	DefaultSeed = 20261127
	DefaultSpan = 30 * 24 * time.Hour
	// MaxAttempts bounds the attempts of one request (first + failovers).
	MaxAttempts = 3
)

// provider is one provider of the model: its models (most popular first),
// credentials and the route its clients call.
type provider struct {
	name, executor, authType, endpoint string
	models                             []string
	creds                              int
}

var providers = []provider{
	{"claude", "ClaudeExecutor", "oauth", "POST /v1/messages",
		[]string{"claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5", "claude-opus-4-5"}, 11},
	{"codex", "CodexExecutor", "oauth", "POST /v1/responses",
		[]string{"gpt-5-codex", "gpt-5", "gpt-5-mini", "gpt-5.1-codex"}, 8},
	{"gemini-cli", "GeminiCLIExecutor", "oauth", "POST /v1/chat/completions",
		[]string{"gemini-2.5-pro", "gemini-2.5-flash", "gemini-3-pro-preview"}, 6},
	{"antigravity", "AntigravityExecutor", "oauth", "POST /v1/chat/completions",
		[]string{"gemini-3-pro-high", "claude-sonnet-4-5-thinking"}, 4},
	{"openai-compatible", "OpenAICompatExecutor", "apikey", "POST /v1/chat/completions",
		[]string{"kimi-k2", "glm-4.6", "deepseek-v3.1", "qwen3-coder"}, 5},
	{"xai", "XAIExecutor", "apikey", "POST /v1/chat/completions",
		[]string{"grok-code-fast-1", "grok-4"}, 3},
	{"gemini", "GeminiExecutor", "apikey", "POST /v1beta/models",
		[]string{"gemini-2.5-flash-lite", "gemini-2.5-flash-image"}, 4},
}

// NumClientKeys is the number of client API keys.
const NumClientKeys = 30

// cred is one upstream credential.
type cred struct {
	authIndex string
	source    string // OAuth email or provider API key (plain, as CPA sends it)
	token     uint64 // seed of the hourly rotating access token hash
}

// model is a model with its provider.
type model struct {
	name string
	prov int
}

// clientKey is one client API key and the client behind it.
type clientKey struct {
	secret string
	models []int     // indexes into Generator.models
	cum    []float64 // cumulative share of models
	alias  []string  // alias asked for, per model
	ip, ua string
	tier   string
}

// statuses are the failure statuses with their weights.
var (
	statuses   = []int{429, 500, 502, 503, 401, 403, 400}
	statusCum  = Cumulative([]float64{50, 14, 8, 10, 8, 5, 5})
	failBodies = map[int]string{
		429: `{"error":{"type":"rate_limit_error","message":"You have hit your usage limit. Try again in 3h 12m."}}`,
		500: `{"error":{"type":"api_error","message":"Internal server error"}}`,
		502: `upstream connect error or disconnect/reset before headers`,
		503: `{"error":{"type":"overloaded_error","message":"Overloaded"}}`,
		401: `{"error":{"type":"authentication_error","message":"OAuth token has expired"}}`,
		403: `{"error":{"type":"permission_error","message":"This account is not allowed to use this model"}}`,
		400: `{"error":{"type":"invalid_request_error","message":"prompt is too long: 212345 tokens > 200000 maximum"}}`,
	}
)

// Generator produces records. It is not safe for concurrent use.
type Generator struct {
	rng    *rand.Rand
	start  time.Time
	total  int
	n      int // records produced
	models []model
	modelW []float64
	keys   []clientKey
	keyCum []float64
	creds  [][]cred
	bad    map[string]float64
	cumMin []float64
	// pending are the failover attempts of the current request.
	pending []cpasim.Record
}

// New returns a generator for cfg.
func New(cfg Config) *Generator {
	if cfg.Seed == 0 {
		cfg.Seed = DefaultSeed
	}
	if cfg.Span <= 0 {
		cfg.Span = DefaultSpan
	}
	if cfg.Events <= 0 {
		cfg.Events = 1
	}
	if cfg.End.IsZero() {
		cfg.End = time.Now()
	}
	r := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x6a09e667f3bcc909))
	g := &Generator{rng: r, start: cfg.End.Add(-cfg.Span).UTC(), total: cfg.Events, bad: map[string]float64{}}

	for pi, p := range providers {
		for _, m := range p.models {
			g.models = append(g.models, model{m, pi})
		}
		var cs []cred
		for c := 0; c < p.creds; c++ {
			idx := fmt.Sprintf("%016x", uint64(pi*100+c+1)*0x9e3779b97f4a7c15)
			src := fmt.Sprintf("%s-%02d.%s@example.com", p.name, c, idx[:4])
			if p.authType == "apikey" {
				src = fmt.Sprintf("sk-%s-%s%016x", p.name[:3], idx[:8], uint64(c+1)*0xbf58476d1ce4e5b9)
			}
			cs = append(cs, cred{authIndex: idx, source: src, token: uint64(pi*100+c+1) * 0x94d049bb133111eb})
		}
		g.creds = append(g.creds, cs)
	}
	// Popularity: a provider's i-th model ranks after every provider's
	// (i-1)-th, so the head of the distribution mixes providers.
	sort.SliceStable(g.models, func(i, j int) bool { return rankOf(g.models[i]) < rankOf(g.models[j]) })
	g.modelW = make([]float64, len(g.models))
	for i := range g.modelW {
		g.modelW[i] = 1 / math.Pow(float64(i+1), 1.1)
	}
	modelCum := Cumulative(g.modelW)
	// Two credentials fail a lot (quota, revoked token).
	g.bad[g.creds[0][3].authIndex] = 0.30
	g.bad[g.creds[1][1].authIndex] = 0.20

	uas := []string{"claude-cli/2.0.14 (external, cli)", "codex_cli_rs/0.46.0", "OpenAI/Python 1.99.1", "Cline/3.2.0",
		"curl/8.5.0", "opencode/0.9.3", "Roo-Code/3.28", "Kilo-Code/4.90"}
	var cum float64
	for k := 0; k < NumClientKeys; k++ {
		key := clientKey{
			secret: fmt.Sprintf("sk-cpa-client-%02d-%016x", k, uint64(k+7)*0xd6e8feb86659fd93),
			ip:     fmt.Sprintf("10.1.%d.%d", k/8, k%8+10),
			ua:     uas[r.IntN(len(uas))],
		}
		// 2–3 models: one drawn by popularity (dominant), the key's "own"
		// model (so that every model has some traffic), maybe another.
		nm := 2 + r.IntN(2)
		seen := map[int]bool{}
		for len(key.models) < nm {
			mi := Pick(r, modelCum)
			if len(key.models) == 1 && !seen[k%len(g.models)] {
				mi = k % len(g.models)
			}
			if seen[mi] {
				continue
			}
			seen[mi] = true
			key.models = append(key.models, mi)
			alias := g.models[mi].name
			if r.IntN(5) == 0 {
				alias = "team-" + alias // a model alias configured in CPA
			}
			key.alias = append(key.alias, alias)
		}
		key.cum = Cumulative([]float64{0.75, 0.18, 0.07}[:nm])
		switch r.IntN(10) {
		case 0:
			key.tier = "priority"
		case 1, 2:
			key.tier = "flex"
		default:
			key.tier = "auto"
		}
		g.keys = append(g.keys, key)
		cum += 1 / math.Pow(float64(k+1), 1.1)
		g.keyCum = append(g.keyCum, cum)
	}

	// Daily cycle per minute of the span.
	mins := max(int(cfg.Span/time.Minute), 1)
	g.cumMin = make([]float64, mins)
	var c float64
	for i := 0; i < mins; i++ {
		t := g.start.Add(time.Duration(i) * time.Minute)
		h := float64(t.Hour()) + float64(t.Minute())/60
		w := 0.15 + math.Exp(-math.Pow((h-14)/4, 2))
		if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
			w *= 0.4
		}
		c += w
		g.cumMin[i] = c
	}
	return g
}

// rankOf orders models for popularity.
func rankOf(m model) int {
	for i, name := range providers[m.prov].models {
		if name == m.name {
			return i*len(providers) + m.prov
		}
	}
	return math.MaxInt
}

// Cumulative returns the running sums of weights w, for Pick.
func Cumulative(w []float64) []float64 {
	out := make([]float64, len(w))
	var c float64
	for i, v := range w {
		c += v
		out[i] = c
	}
	return out
}

// Pick draws an index with the weights whose running sums are cum (see
// Cumulative).
func Pick(r *rand.Rand, cum []float64) int {
	return min(sort.SearchFloat64s(cum, r.Float64()*cum[len(cum)-1]), len(cum)-1)
}

// Models returns the model names, most popular first.
func (g *Generator) Models() []string {
	out := make([]string, len(g.models))
	for i, m := range g.models {
		out[i] = m.name
	}
	return out
}

// arrival is the start time of the next request: the n-th of total records
// along the cumulative daily cycle.
func (g *Generator) arrival() time.Time {
	last := g.cumMin[len(g.cumMin)-1]
	pos := (float64(g.n) + g.rng.Float64()) / float64(g.total) * last
	extra := 0.0
	if pos > last { // past End: continue at the average rate
		extra = (pos - last) / last * float64(len(g.cumMin))
		pos = last
	}
	mi := min(sort.SearchFloat64s(g.cumMin, pos), len(g.cumMin)-1)
	prev := 0.0
	if mi > 0 {
		prev = g.cumMin[mi-1]
	}
	frac := (pos - prev) / (g.cumMin[mi] - prev)
	return g.start.Add(time.Duration((float64(mi) + frac + extra) * float64(time.Minute))).Truncate(time.Millisecond)
}

// Next returns the next record.
func (g *Generator) Next() cpasim.Record {
	if len(g.pending) == 0 {
		g.pending = g.request(g.arrival())
	}
	rec := g.pending[0]
	g.pending = g.pending[1:]
	g.n++
	return rec
}

// NextAt returns the next record with its timestamp set to t (the live
// benchmark publishes records as they happen).
func (g *Generator) NextAt(t time.Time) cpasim.Record {
	rec := g.Next()
	rec.Timestamp = t
	return rec
}

// NextJSON returns the next record encoded as CPA publishes it.
func (g *Generator) NextJSON() ([]byte, error) {
	rec := g.Next()
	return json.Marshal(&rec)
}

// request makes the attempts of one client request starting at ts.
func (g *Generator) request(ts time.Time) []cpasim.Record {
	r := g.rng
	key := &g.keys[Pick(r, g.keyCum)]
	ki := Pick(r, key.cum)
	m := g.models[key.models[ki]]
	p := providers[m.prov]
	reqID := fmt.Sprintf("%08x", r.Uint32())
	effort := ""
	switch r.IntN(6) {
	case 0, 1:
		effort = "high"
	case 2:
		effort = "medium"
	}
	stream := r.IntN(4) != 0
	ctx := int64(math.Exp(9.5 + 1.0*r.NormFloat64())) // agentic coding: big cached contexts
	var out []cpasim.Record
	used := map[int]bool{}
	for attempt := 0; attempt < MaxAttempts; attempt++ {
		ci := r.IntN(len(g.creds[m.prov]))
		for used[ci] && len(used) < len(g.creds[m.prov]) {
			ci = (ci + 1) % len(g.creds[m.prov])
		}
		used[ci] = true
		c := g.creds[m.prov][ci]
		rec := cpasim.Record{
			Timestamp:         ts,
			LatencyMs:         int64(math.Exp(8+0.9*r.NormFloat64())) + 50, // median ~3 s
			Source:            c.source,
			AuthIndex:         c.authIndex,
			ClientIP:          key.ip,
			UserAgent:         key.ua,
			Generate:          true,
			AccountingVersion: cpasim.AccountingVersion,
			Provider:          p.name,
			ExecutorType:      p.executor,
			Model:             m.name,
			Alias:             key.alias[ki],
			Endpoint:          p.endpoint,
			AuthType:          p.authType,
			APIKey:            key.secret,
			RequestID:         reqID,
			ReasoningEffort:   effort,
			ServiceTier:       key.tier,
		}
		if p.authType == "oauth" {
			rec.AccessTokenSHA256 = fmt.Sprintf("%016x%016x%016x%016x", c.token, uint64(ts.Unix()/3600), c.token^0xff, uint64(ci))
		}
		if stream {
			rec.TTFTMs = 1 + int64(math.Exp(6.5+0.7*r.NormFloat64()))
		}
		if r.IntN(50) == 0 {
			rec.XForwardedFor = fmt.Sprintf("203.0.113.%d, %s", r.IntN(250)+1, key.ip)
		}
		if key.tier == "priority" && r.IntN(2) == 0 {
			rec.ResponseServiceTier = "default"
		}

		pf := 0.022
		if f, ok := g.bad[c.authIndex]; ok {
			pf = f
		}
		if h := ts.Unix() / 3600; h%97 == int64(m.prov*13%97) {
			pf = 0.5 // an outage hour of this provider
		}
		failed := r.Float64() < pf
		if failed {
			status := statuses[Pick(r, statusCum)]
			rec.Failed = true
			rec.Fail = cpasim.Fail{StatusCode: status, Body: failBodies[status]}
			rec.Tokens = cpasim.Tokens{CacheReadTokensPresent: true}
			rec.LatencyMs = rec.LatencyMs/20 + 30
			rec.TTFTMs = 0
			if status == 429 {
				rec.ResponseHeaders = map[string][]string{"Retry-After": {fmt.Sprint(1 + r.IntN(60))}, "X-Ratelimit-Remaining-Requests": {"0"}}
			}
		} else {
			u := cpasim.Usage{
				PromptTokens:     ctx + ctx/10 + r.Int64N(2000),
				CachedTokens:     ctx,
				CompletionTokens: int64(math.Exp(6 + r.NormFloat64())),
			}
			if effort != "" {
				u.ReasoningTokens = min(int64(math.Exp(6+r.NormFloat64())), u.CompletionTokens)
			}
			u.TotalTokens = u.PromptTokens + u.CompletionTokens
			fam := cpasim.ProviderFamily(p.name)
			rec.Tokens = u.TokensFor(fam)
			if fam == cpasim.FamilyIndependent && r.IntN(25) == 0 {
				rec.Tokens.CacheCreationTokens = ctx / 5
				rec.Tokens.TotalTokens += ctx / 5
			}
			rec.Fail = cpasim.Fail{StatusCode: 200}
			if r.IntN(10) == 0 {
				rec.ResponseHeaders = map[string][]string{"X-Ratelimit-Remaining-Requests": {fmt.Sprint(r.IntN(1000))}}
			}
		}
		rec.TokenBreakdown = cpasim.BuildBreakdown(cpasim.ProviderFamily(p.name), rec.Tokens)
		out = append(out, rec)
		// Failover: a retryable failure usually moves on to another
		// credential of the provider; the request ends on success, on a
		// client error, or when no credential is left.
		if !failed || rec.Fail.StatusCode == 400 || len(used) == len(g.creds[m.prov]) || r.IntN(10) >= 7 {
			break
		}
		ts = ts.Add(time.Duration(rec.LatencyMs+int64(5+r.IntN(40))) * time.Millisecond)
	}
	return out
}
