package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/cpam-caddy/cpam/usage"
)

// openTest opens a fresh store in a temporary directory.
func openTest(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "cpam.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// hashOf makes a deterministic event hash.
func hashOf(parts ...any) [16]byte {
	h := sha256.Sum256([]byte(fmt.Sprint(parts...)))
	var out [16]byte
	copy(out[:], h[:16])
	return out
}

// gen produces realistic events: many models, keys and credentials, some
// failures with bodies, some response headers.
type gen struct {
	rng  *rand.Rand
	zipf *rand.Zipf
	base time.Time
	span time.Duration
	n    uint64
	// seq, when set, makes times increase like live ingest: event n starts
	// at base + n*seq plus a little jitter (span is then ignored).
	seq time.Duration
}

func newGen(seed uint64, base time.Time, span time.Duration) *gen {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return &gen{rng: r, zipf: rand.NewZipf(r, 1.3, 2, 59), base: base, span: span}
}

var (
	genModels    = []string{"gpt-5", "gpt-5-mini", "gpt-5-codex", "claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5", "gemini-2.5-pro", "gemini-2.5-flash", "gemini-3-pro-preview", "grok-4", "kimi-k2", "qwen3-coder", "deepseek-v3.1", "o3", "o4-mini", "gpt-4.1", "glm-4.6", "mistral-large", "llama-4-maverick", "mock-gpt"}
	genProviders = []string{"codex", "claude", "gemini", "vertex", "antigravity", "xai", "kimi", "openai-compatible-mock"}
	genEndpoints = []string{"POST /v1/chat/completions", "POST /v1/messages", "POST /v1/responses"}
	genTiers     = []string{"auto", "default", "priority", "flex"}
)

func (g *gen) event() usage.Event {
	g.n++
	r := g.rng
	mi := int(g.zipf.Uint64()) % len(genModels)
	// Credentials belong to a provider: 5 per provider.
	ai := (mi%len(genProviders))*5 + r.IntN(5)
	failed := r.IntN(20) == 0
	e := usage.Event{
		Upstream:     []string{"cpa-main", "cpa-backup"}[r.IntN(2)],
		Time:         g.base.Add(time.Duration(r.Int64N(int64(max(g.span, 1))))).Truncate(time.Millisecond).UTC(),
		RequestID:    fmt.Sprintf("%08x", r.Uint32()),
		AuthIndex:    fmt.Sprintf("%016x", uint64(ai)*0x9e3779b97f4a7c15),
		AuthType:     []string{"apikey", "oauth"}[ai%2],
		Provider:     genProviders[mi%len(genProviders)],
		ExecutorType: "Exec" + genProviders[mi%len(genProviders)],
		Model:        genModels[mi],
		Alias:        genModels[mi],
		Endpoint:     genEndpoints[r.IntN(len(genEndpoints))],
		ClientIP:     fmt.Sprintf("10.0.%d.%d", r.IntN(4), r.IntN(10)),
		UserAgent:    []string{"curl/8.5.0", "codex-cli/0.46", "claude-cli/2.0.14", "OpenAI/Python 1.99", "Cline/3.2"}[r.IntN(5)],
		StatusCode:   200,
		LatencyMS:    int64(r.ExpFloat64() * 3000),
		Generate:     r.IntN(50) != 0,
		ServiceTier:  genTiers[r.IntN(len(genTiers))*boolN(r.IntN(10) == 0)],
		Tokens: usage.Tokens{
			Uncached:  r.Int64N(5000),
			CacheRead: r.Int64N(20000),
			Output:    r.Int64N(2000),
			Reasoning: r.Int64N(500),
			Quality:   usage.QualityComplete,
		},
	}
	if g.seq > 0 {
		e.Time = g.base.Add(time.Duration(g.n)*g.seq + time.Duration(r.Int64N(int64(5*g.seq)))).Truncate(time.Millisecond).UTC()
	}
	if r.IntN(3) == 0 {
		e.Alias = "alias-" + e.Model
	}
	if r.IntN(2) == 0 {
		e.TTFTMS = 1 + int64(r.ExpFloat64()*800)
	}
	k := int(g.zipf.Uint64())
	if k > 0 {
		e.APIKey = usage.Secret{Hash: fmt.Sprintf("%032x", uint64(k)*0x2545F4914F6CDD1D), Mask: fmt.Sprintf("sk-c…%04d", k)}
	}
	if ai%2 == 0 {
		e.Source = usage.Source{Kind: usage.SourceAPIKey, Key: usage.Secret{Hash: fmt.Sprintf("%032x", ai), Mask: fmt.Sprintf("sk-u…%02d", ai)}}
		e.Account = usage.Account{Label: fmt.Sprintf("key-%d", ai), Provider: e.Provider}
	} else {
		e.Source = usage.Source{Kind: usage.SourceEmail, Value: fmt.Sprintf("user%d@example.com", ai)}
		e.Account = usage.Account{Email: fmt.Sprintf("user%d@example.com", ai), Provider: e.Provider, FileName: fmt.Sprintf("auth-%d.json", ai)}
		e.AccessTokenSHA256 = fmt.Sprintf("%064x", ai*7+r.IntN(2))
	}
	if r.IntN(4) == 0 {
		e.ReasoningEffort = "high"
	}
	if failed {
		e.Failed = true
		e.StatusCode = []int{429, 500, 503, 401}[r.IntN(4)]
		e.FailBody = `{"error":{"message":"rate limited, retry later","type":"rate_limit_error"}}`
		e.Tokens = usage.Tokens{Quality: usage.QualityComplete}
	}
	if r.IntN(10) == 0 {
		e.Headers = map[string]string{"X-Ratelimit-Remaining-Requests": fmt.Sprint(r.IntN(1000)), "Retry-After": "3"}
	}
	if r.IntN(10) != 0 {
		e.Cost = usage.Cost{MicroUSD: e.Tokens.Uncached*3 + e.Tokens.Output*15, Priced: true}
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], g.n)
	e.Hash = hashOf("gen", b, e.Time.UnixNano(), r.Uint64())
	return e
}

func (g *gen) events(n int) []usage.Event {
	out := make([]usage.Event, n)
	for i := range out {
		out[i] = g.event()
	}
	return out
}

// mustCommit commits b and fails the test on error.
func mustCommit(t testing.TB, s *Store, b Batch) CommitResult {
	t.Helper()
	res, err := s.Commit(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// countRows counts rows of a table through the read pool.
func countRows(t testing.TB, s *Store, table string) int {
	t.Helper()
	var n int
	if err := s.rdb.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// boolN is 1 for true and 0 for false.
func boolN(b bool) int {
	if b {
		return 1
	}
	return 0
}

// openAtVersion creates a database at path that stops at schema version v,
// as an older caddy-cpam left it.
func openAtVersion(t testing.TB, path string, v int) *Store {
	t.Helper()
	s, err := OpenOptions(context.Background(), path, Options{schemaLimit: v})
	if err != nil {
		t.Fatal(err)
	}
	if got := userVersion(t, s); got != v {
		t.Fatalf("the v%d database has user_version %d", v, got)
	}
	return s
}

// reopenUpgraded closes s and opens path again with every migration,
// checking that it reached SchemaVersion; the test closes it at the end.
func reopenUpgraded(t testing.TB, s *Store, path string) *Store {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	up, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = up.Close() })
	if got := userVersion(t, up); got != SchemaVersion {
		t.Fatalf("upgraded user_version %d, want %d", got, SchemaVersion)
	}
	return up
}

// userVersion reads the database's schema version.
func userVersion(t testing.TB, s *Store) int {
	t.Helper()
	var v int
	if err := s.rdb.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}
