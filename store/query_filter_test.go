package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cpam-caddy/cpam/usage"
)

func TestEventFilters(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	mk := func(i int, reqID, model, alias, auth string, acc usage.Account, lat int64) usage.Event {
		return usage.Event{Hash: hashOf("ef", i), Upstream: "u", Time: t0.Add(time.Duration(i) * time.Minute),
			RequestID: reqID, AuthIndex: auth, Model: model, Alias: alias, Endpoint: "POST /v1/messages",
			StatusCode: 200, LatencyMS: lat, Account: acc, Generate: true}
	}
	mustCommit(t, s, Batch{Events: []usage.Event{
		mk(1, "0a1b2c3d", "claude-sonnet", "sonnet", "aaaa000000000001", usage.Account{Email: "alice@example.com"}, 50),
		mk(2, "ffff0000", "gpt-5", "gpt-5", "bbbb000000000002", usage.Account{Label: "Team Key", Provider: "codex"}, 500),
		mk(3, "req-Custom-42", "gpt-5", "fast", "cccc000000000003", usage.Account{ProjectID: "proj-x"}, 1500),
		mk(4, "", "gemini", "gemini", "dddd000000000004", usage.Account{}, 5000),
	}})
	ids := func(f Filter) string {
		evs, _, err := s.Events(ctx, f, Page{})
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		var out []string
		for _, e := range evs {
			out = append(out, e.Model+"/"+e.Alias)
		}
		return fmt.Sprint(out)
	}
	for _, c := range []struct {
		name string
		f    Filter
		want string
	}{
		{"latency", Filter{MinLatencyMS: 500}, "[gemini/gemini gpt-5/fast gpt-5/gpt-5]"},
		{"alias", Filter{Aliases: []string{"fast", "sonnet"}}, "[gpt-5/fast claude-sonnet/sonnet]"},
		{"q model", Filter{Query: "GPT"}, "[gpt-5/fast gpt-5/gpt-5]"},
		{"q alias", Filter{Query: "fas"}, "[gpt-5/fast]"},
		{"q hex request id part", Filter{Query: "1B2C"}, "[claude-sonnet/sonnet]"},
		{"q full request id", Filter{Query: "ffff0000"}, "[gpt-5/gpt-5]"},
		{"q text request id", Filter{Query: "custom-4"}, "[gpt-5/fast]"},
		{"q email", Filter{Query: "alice@"}, "[claude-sonnet/sonnet]"},
		{"q label", Filter{Query: "team key"}, "[gpt-5/gpt-5]"},
		{"q project", Filter{Query: "proj-x"}, "[gpt-5/fast]"},
		{"q auth index", Filter{Query: "dddd"}, "[gemini/gemini]"},
		{"q json key is not text", Filter{Query: `"e"`}, "[]"},
		{"q like wildcard is literal", Filter{Query: "%"}, "[]"},
		{"q and latency", Filter{Query: "gpt", MinLatencyMS: 1000}, "[gpt-5/fast]"},
		{"q blank", Filter{Query: "  "}, "[gemini/gemini gpt-5/fast gpt-5/gpt-5 claude-sonnet/sonnet]"},
	} {
		if got := ids(c.f); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
	sum, err := s.Summary(ctx, Filter{Aliases: []string{"gpt-5", "gemini"}})
	if err != nil || sum.Attempts != 2 {
		t.Fatalf("summary by alias: %d %v", sum.Attempts, err)
	}
	if _, err := s.Summary(ctx, Filter{MinLatencyMS: 1}); err == nil {
		t.Fatal("rollup query accepted a latency filter")
	}
	if _, err := s.Breakdown(ctx, Filter{Query: "x"}, "model", 0, ByAttempts); err == nil {
		t.Fatal("rollup query accepted a text search")
	}
}
