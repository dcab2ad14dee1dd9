package store

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"
)

// Schema version 3 adds the source and catalogue entry of model prices and
// the update time of API key aliases; rows of version 2 keep their values
// and become manual prices and aliases of unknown age.
func TestUpgradeFromV2(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v2.db")
	s := openAtVersion(t, path, 2)
	// Rows as version 2 wrote them (the current functions write the new
	// columns, which version 2 does not have).
	err := s.do(ctx, func(w *writer) error {
		if _, err := w.exec(`INSERT INTO model_prices(model, input, output, cache_read, cache_write, tiers, updated)
			VALUES('gpt-5', 1.25, 10, 0.125, 1.25, '[{"aboveInputTokens":200000,"input":2.5}]', ?), ('plain', 1, 2, 0, 0, NULL, ?)`,
			t0.UnixMilli(), t0.UnixMilli()); err != nil {
			return err
		}
		_, err := w.exec("INSERT INTO api_key_aliases(key_hash, alias) VALUES('h1', 'ci'), ('h2', 'alice')")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	evs := newGen(7, t0, time.Hour).events(50)
	mustCommit(t, s, Batch{Events: evs})
	s = reopenUpgraded(t, s, path)
	if SchemaVersion < 3 {
		t.Fatalf("schema version %d has no migration 3", SchemaVersion)
	}
	prices, err := s.ModelPrices(ctx)
	if err != nil || len(prices) != 2 {
		t.Fatalf("prices after upgrade: %+v %v", prices, err)
	}
	g := prices[0]
	if g.Model != "gpt-5" || g.Input != 1.25 || g.Output != 10 || g.CacheRead != 0.125 || g.CacheWrite != 1.25 ||
		string(g.Tiers) != `[{"aboveInputTokens":200000,"input":2.5}]` || !g.Updated.Equal(t0) ||
		g.Source != PriceSourceManual || g.Raw != nil {
		t.Fatalf("gpt-5 after upgrade: %+v", g)
	}
	if p := prices[1]; p.Model != "plain" || p.Tiers != nil || p.Source != PriceSourceManual {
		t.Fatalf("plain after upgrade: %+v", p)
	}
	aliases, err := s.APIKeyAliasList(ctx)
	if err != nil || len(aliases) != 2 ||
		aliases[0] != (APIKeyAlias{KeyHash: "h2", Alias: "alice"}) || aliases[1] != (APIKeyAlias{KeyHash: "h1", Alias: "ci"}) {
		t.Fatalf("aliases after upgrade: %+v %v", aliases, err)
	}
	if sum, err := s.Summary(ctx, Filter{}); err != nil || sum.Attempts != 50 {
		t.Fatalf("events after upgrade: %+v %v", sum, err)
	}

	// The new columns work.
	if _, err := s.ReplaceModelPrices(ctx, []ModelPrice{{Model: "gpt-5", Input: 2, Output: 3, Source: "litellm",
		Raw: json.RawMessage(`{"input_cost_per_token":2e-6}`)}}, nil); err != nil {
		t.Fatal(err)
	}
	if prices, _ := s.ModelPrices(ctx); prices[0].Input != 1.25 {
		t.Fatalf("a synced price replaced a manual one of version 2: %+v", prices[0])
	}
	if err := s.PutAPIKeyAlias(ctx, "h1", "ci-bot"); err != nil {
		t.Fatal(err)
	}
	if aliases, _ := s.APIKeyAliasList(ctx); aliases[1].Alias != "ci-bot" || aliases[1].Updated.IsZero() {
		t.Fatalf("alias after update: %+v", aliases)
	}
}
