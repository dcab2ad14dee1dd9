package store

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/cpam-caddy/cpam/internal/benchgen"
	"github.com/cpam-caddy/cpam/usage"
)

// eventSource produces benchmark events in arrival order.
type eventSource interface {
	events(n int) []usage.Event
}

// realProvider is one provider of the realistic generator: its models
// (most popular first), its credentials and the route its clients call.
type realProvider struct {
	name, executor, authType, endpoint string
	models                             []string
	creds                              int
}

// realProviders is the operator modelled by realGen: OAuth subscriptions
// for Codex, Claude and Gemini, and two API-key providers.
var realProviders = []realProvider{
	{"claude", "ClaudeExecutor", "oauth", "POST /v1/messages", []string{"claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5"}, 8},
	{"codex", "CodexExecutor", "oauth", "POST /v1/responses", []string{"gpt-5-codex", "gpt-5", "gpt-5-mini"}, 6},
	{"gemini-cli", "GeminiCLIExecutor", "oauth", "POST /v1/chat/completions", []string{"gemini-2.5-pro", "gemini-2.5-flash", "gemini-3-pro-preview"}, 4},
	{"openai-compatible", "OpenAICompatExecutor", "apikey", "POST /v1/chat/completions", []string{"kimi-k2", "glm-4.6", "deepseek-v3.1", "qwen3-coder"}, 3},
	{"xai", "XAIExecutor", "apikey", "POST /v1/chat/completions", []string{"grok-code-fast-1", "grok-4"}, 2},
}

// realModel is a model with its provider and global popularity rank.
type realModel struct {
	name string
	prov int
}

// realKey is one client API key: its models with their share of its
// traffic, and the client it belongs to.
type realKey struct {
	secret usage.Secret
	models []int     // indexes into realGen.models
	cum    []float64 // cumulative share of models
	alias  []string  // alias the client asks for, per model
	ip, ua string
	tier   string
}

// realGen produces events shaped like one real CPA operator's traffic:
//
//   - 40 client keys, Zipf-like popularity (the top few keys carry most
//     of the traffic); each key sticks to 1–3 models, one dominant;
//   - models drawn by a Zipf-like global popularity; every model belongs to
//     one provider, and each credential serves one provider (CPA picks a
//     credential of the provider round-robin);
//   - a daily cycle (busy in working hours, quieter at night and on
//     weekends) over the whole span, events in arrival order;
//   - about 3% failures, clustered on two bad credentials and on short
//     outage windows;
//   - one main upstream (95%) and a small backup one.
//
// The older gen draws every dimension independently and uniformly and
// remains the worst case for the rollups.
type realGen struct {
	rng    *rand.Rand
	base   time.Time
	n, tot int
	models []realModel
	keys   []realKey
	keyCum []float64
	// cumMin is the cumulative traffic weight per minute of the span.
	cumMin []float64
	creds  [][]string // per provider: auth indexes
	bad    map[string]float64
}

// newRealGen makes a generator of total events over span from base.
func newRealGen(seed uint64, base time.Time, span time.Duration, total int) *realGen {
	r := rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d))
	g := &realGen{rng: r, base: base, tot: total, bad: map[string]float64{}}
	for pi, p := range realProviders {
		for _, m := range p.models {
			g.models = append(g.models, realModel{m, pi})
		}
		var cs []string
		for c := 0; c < p.creds; c++ {
			cs = append(cs, fmt.Sprintf("%016x", uint64(pi*100+c+1)*0x9e3779b97f4a7c15))
		}
		g.creds = append(g.creds, cs)
	}
	// Global model popularity: interleave providers so that the top models
	// come from different providers, then weight by 1/rank^1.1.
	sort.SliceStable(g.models, func(i, j int) bool { return g.rankOf(g.models[i]) < g.rankOf(g.models[j]) })
	modelW := make([]float64, len(g.models))
	for i := range modelW {
		modelW[i] = 1 / math.Pow(float64(i+1), 1.1)
	}
	// Two credentials fail a lot (quota, revoked token), the others rarely.
	g.bad[g.creds[0][3]] = 0.30
	g.bad[g.creds[1][1]] = 0.20

	const nKeys = 40
	uas := []string{"claude-cli/2.0.14", "codex-cli/0.46", "OpenAI/Python 1.99", "Cline/3.2", "curl/8.5.0", "opencode/0.9"}
	var cum float64
	for k := 0; k < nKeys; k++ {
		key := realKey{
			secret: usage.Secret{Hash: fmt.Sprintf("%032x", uint64(k+1)*0x2545F4914F6CDD1D), Mask: fmt.Sprintf("sk-c…%04d", k)},
			ip:     fmt.Sprintf("10.1.%d.%d", k/8, k%8+10),
			ua:     uas[r.IntN(len(uas))],
		}
		nm := 1 + r.IntN(3)
		seen := map[int]bool{}
		for len(key.models) < nm {
			mi := benchgen.Pick(r, benchgen.Cumulative(modelW))
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
		shares := []float64{0.75, 0.18, 0.07}[:nm]
		key.cum = benchgen.Cumulative(shares)
		if r.IntN(10) == 0 {
			key.tier = "priority"
		}
		g.keys = append(g.keys, key)
		cum += 1 / math.Pow(float64(k+1), 1.2)
		g.keyCum = append(g.keyCum, cum)
	}

	// Daily cycle, in UTC: a working-day bump around 14:00, a floor at
	// night, weekends at 40%.
	mins := int(span / time.Minute)
	g.cumMin = make([]float64, mins)
	var c float64
	for i := 0; i < mins; i++ {
		t := base.Add(time.Duration(i) * time.Minute)
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

// rankOf orders models for popularity: a provider's i-th model comes
// after every provider's (i-1)-th, claude and codex first.
func (g *realGen) rankOf(m realModel) int {
	for i, name := range realProviders[m.prov].models {
		if name == m.name {
			return i*len(realProviders) + m.prov
		}
	}
	return math.MaxInt
}

// event makes the next event.
func (g *realGen) event() usage.Event {
	r := g.rng
	g.n++
	// Arrival time: the n-th of tot events along the cumulative daily
	// cycle, so times increase like live ingest.
	pos := (float64(g.n-1) + r.Float64()) / float64(g.tot) * g.cumMin[len(g.cumMin)-1]
	mi := sort.SearchFloat64s(g.cumMin, pos)
	mi = min(mi, len(g.cumMin)-1)
	prev := 0.0
	if mi > 0 {
		prev = g.cumMin[mi-1]
	}
	frac := (pos - prev) / (g.cumMin[mi] - prev)
	ts := g.base.Add(time.Duration((float64(mi) + frac) * float64(time.Minute))).Truncate(time.Millisecond).UTC()

	key := &g.keys[benchgen.Pick(r, g.keyCum)]
	ki := benchgen.Pick(r, key.cum)
	m := g.models[key.models[ki]]
	p := realProviders[m.prov]
	cred := g.creds[m.prov][r.IntN(len(g.creds[m.prov]))]
	upstream := "cpa-main"
	if r.IntN(20) == 0 {
		upstream = "cpa-backup"
	}

	e := usage.Event{
		Upstream:     upstream,
		Time:         ts,
		RequestID:    fmt.Sprintf("%08x", r.Uint32()),
		AuthIndex:    cred,
		AuthType:     p.authType,
		Provider:     p.name,
		ExecutorType: p.executor,
		Model:        m.name,
		Alias:        key.alias[ki],
		Endpoint:     p.endpoint,
		APIKey:       key.secret,
		ClientIP:     key.ip,
		UserAgent:    key.ua,
		StatusCode:   200,
		LatencyMS:    int64(math.Exp(8 + 0.9*r.NormFloat64())), // median ~3 s
		Generate:     true,
		ServiceTier:  key.tier,
	}
	if p.name == "claude" || p.name == "codex" {
		e.TTFTMS = 1 + int64(math.Exp(6.5+0.7*r.NormFloat64()))
	}
	if p.authType == "apikey" {
		e.Source = usage.Source{Kind: usage.SourceAPIKey, Key: usage.Secret{Hash: "pk-" + cred, Mask: "sk-u…" + cred[:4]}}
		e.Account = usage.Account{Label: p.name + "-" + cred[:4], Provider: p.name}
	} else {
		email := "acct-" + cred[:6] + "@example.com"
		e.Source = usage.Source{Kind: usage.SourceEmail, Value: email}
		e.Account = usage.Account{Email: email, Provider: p.name, FileName: p.name + "-" + cred[:6] + ".json"}
		e.AccessTokenSHA256 = fmt.Sprintf("%064x", uint64(ts.Unix()/3600)^uint64(len(cred))) // rotates hourly
	}
	if r.IntN(3) == 0 {
		e.ReasoningEffort = "high"
	}
	// Agentic coding: big cached contexts, modest outputs.
	ctx := int64(math.Exp(9.5 + 1.0*r.NormFloat64()))
	e.Tokens = usage.Tokens{
		Uncached:  ctx/10 + r.Int64N(2000),
		CacheRead: ctx,
		Output:    int64(math.Exp(6 + r.NormFloat64())),
		Quality:   usage.QualityComplete,
	}
	if e.ReasoningEffort != "" {
		e.Tokens.Reasoning = int64(math.Exp(6 + r.NormFloat64()))
	}
	if r.IntN(25) == 0 {
		e.Tokens.CacheWrite = ctx / 5
	}

	// Failures: bad credentials, hourly outage windows of one provider, and
	// a small background rate.
	pf := 0.005
	if f, ok := g.bad[cred]; ok {
		pf = f
	}
	if h := ts.Unix() / 3600; h%97 == int64(m.prov*13%97) {
		pf = 0.5
	}
	if r.Float64() < pf {
		e.Failed = true
		e.StatusCode = []int{429, 429, 500, 401}[r.IntN(4)]
		e.FailBody = `{"error":{"message":"rate limited, retry later","type":"rate_limit_error"}}`
		e.Tokens = usage.Tokens{Quality: usage.QualityComplete}
		e.LatencyMS /= 10
		e.TTFTMS = 0
	}
	if r.IntN(10) == 0 {
		e.Headers = map[string]string{"X-Ratelimit-Remaining-Requests": fmt.Sprint(r.IntN(1000)), "Retry-After": "3"}
	}
	e.Cost, _ = realBook.Cost(e.Model, e.Alias, e.Tokens)
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(g.n))
	e.Hash = hashOf("real", b, e.Time.UnixNano(), r.Uint64())
	return e
}

// realBook prices realGen's events.
var realBook = usage.DefaultPriceBook()

func (g *realGen) events(n int) []usage.Event {
	out := make([]usage.Event, n)
	for i := range out {
		out[i] = g.event()
	}
	return out
}
