package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestSettings(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if _, ok, err := s.Setting(ctx, "retention"); ok || err != nil {
		t.Fatalf("unset setting: %v %v", ok, err)
	}
	if err := s.PutSetting(ctx, "retention", "90d"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSetting(ctx, "retention", "30d"); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := s.Setting(ctx, "retention"); v != "30d" || !ok || err != nil {
		t.Fatalf("%q %v %v", v, ok, err)
	}
	all, err := s.Settings(ctx)
	if err != nil || len(all) != 1 {
		t.Fatalf("%v %v", all, err)
	}
	if err := s.DeleteSetting(ctx, "retention"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Setting(ctx, "retention"); ok {
		t.Fatal("deleted setting still there")
	}
}

func TestSessions(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	id := []byte{1, 2, 3}
	ss := Session{IDHash: id, Created: t0, Expires: t0.Add(time.Hour), LastSeen: t0, Data: []byte(`{"u":"admin"}`)}
	if err := s.PutSession(ctx, ss); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Session(ctx, id, t0.Add(time.Minute))
	if err != nil || !ok || !got.Expires.Equal(ss.Expires) || !bytes.Equal(got.Data, ss.Data) {
		t.Fatalf("%+v %v %v", got, ok, err)
	}
	if _, ok, _ := s.Session(ctx, id, t0.Add(2*time.Hour)); ok {
		t.Fatal("expired session returned")
	}
	if err := s.TouchSession(ctx, id, t0.Add(30*time.Minute), t0.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, ok, _ = s.Session(ctx, id, t0.Add(2*time.Hour))
	if !ok || !got.LastSeen.Equal(t0.Add(30*time.Minute)) {
		t.Fatalf("touched session: %+v %v", got, ok)
	}
	if err := s.PutSession(ctx, Session{IDHash: []byte{9}, Created: t0, Expires: t0, LastSeen: t0}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteExpiredSessions(ctx, t0.Add(time.Minute)); n != 1 || err != nil {
		t.Fatalf("expired: %d %v", n, err)
	}
	if err := s.DeleteSession(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Session(ctx, id, t0); ok {
		t.Fatal("deleted session returned")
	}
}

func TestModelPrices(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	p := ModelPrice{Model: "gpt-5", Input: 1.25, Output: 10, CacheRead: 0.125, CacheWrite: 0,
		Tiers: json.RawMessage(`{"above_200k":{"input":2.5}}`), Updated: t0}
	if err := s.PutModelPrice(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := s.PutModelPrice(ctx, ModelPrice{Model: "a-model", Input: 1, Output: 2, Updated: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutModelPrice(ctx, ModelPrice{Model: "bad", Tiers: json.RawMessage("{")}); err == nil {
		t.Fatal("invalid tiers accepted")
	}
	all, err := s.ModelPrices(ctx)
	if err != nil || len(all) != 2 || all[0].Model != "a-model" || all[0].Tiers != nil {
		t.Fatalf("%+v %v", all, err)
	}
	g := all[1]
	if g.Input != 1.25 || g.CacheRead != 0.125 || string(g.Tiers) != string(p.Tiers) || !g.Updated.Equal(t0) {
		t.Fatalf("%+v", g)
	}
	if err := s.DeleteModelPrice(ctx, "a-model"); err != nil {
		t.Fatal(err)
	}
	if all, _ := s.ModelPrices(ctx); len(all) != 1 {
		t.Fatalf("after delete: %+v", all)
	}
}

func TestAPIKeyAliases(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if err := s.PutAPIKeyAlias(ctx, "h1", "ci"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutAPIKeyAlias(ctx, "h2", "alice"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutAPIKeyAlias(ctx, "h1", "ci-bot"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutAPIKeyAlias(ctx, "h2", ""); err != nil {
		t.Fatal(err)
	}
	m, err := s.APIKeyAliases(ctx)
	if err != nil || len(m) != 1 || m["h1"] != "ci-bot" {
		t.Fatalf("%v %v", m, err)
	}
}

func TestModelPriceSourceAndRaw(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	raw := json.RawMessage(`{"id":"gpt-5","cost":{"input":1.25}}`)
	if err := s.PutModelPrice(ctx, ModelPrice{Model: "gpt-5", Input: 1.25, Output: 10, Updated: t0, Source: "models.dev", Raw: raw}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutModelPrice(ctx, ModelPrice{Model: "mine", Input: 1, Output: 2, Updated: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutModelPrice(ctx, ModelPrice{Model: "bad", Raw: json.RawMessage("{")}); err == nil {
		t.Fatal("invalid raw accepted")
	}
	all, err := s.ModelPrices(ctx)
	if err != nil || len(all) != 2 {
		t.Fatalf("%+v %v", all, err)
	}
	if g := all[0]; g.Model != "gpt-5" || g.Source != "models.dev" || string(g.Raw) != string(raw) {
		t.Fatalf("synced: %+v", g)
	}
	if g := all[1]; g.Model != "mine" || g.Source != PriceSourceManual || g.Raw != nil {
		t.Fatalf("manual: %+v", g)
	}
}

func TestReplaceModelPrices(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	for _, p := range []ModelPrice{
		{Model: "manual-a", Input: 1, Output: 1, Updated: t0},
		{Model: "manual-b", Input: 2, Output: 2, Updated: t0},
		{Model: "synced", Input: 3, Output: 3, Updated: t0, Source: "litellm"},
	} {
		if err := s.PutModelPrice(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	t1 := t0.Add(time.Hour)
	kept, err := s.ReplaceModelPrices(ctx, []ModelPrice{
		{Model: "manual-a", Input: 9, Output: 9, Updated: t1, Source: "models.dev"}, // never replaces manual
		{Model: "synced", Input: 4, Output: 4, Updated: t1, Source: "models.dev"},
		{Model: "new", Input: 5, Output: 5, Updated: t1, Source: "openrouter", Raw: json.RawMessage(`{"id":"x/new"}`)},
		{Model: "manual-b", Input: 6, Output: 6, Updated: t1}, // manual replaces manual
	}, []string{"gone", "manual-b"})
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != 1 || kept[0] != "manual-a" {
		t.Fatalf("kept %v", kept)
	}
	got := map[string]ModelPrice{}
	all, err := s.ModelPrices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range all {
		got[p.Model] = p
	}
	if len(got) != 4 || got["manual-a"].Input != 1 || got["manual-a"].Source != PriceSourceManual ||
		got["synced"].Input != 4 || got["synced"].Source != "models.dev" || !got["synced"].Updated.Equal(t1) ||
		got["new"].Source != "openrouter" || got["manual-b"].Input != 6 || got["manual-b"].Source != PriceSourceManual {
		t.Fatalf("after replace: %+v", got)
	}

	// Invalid input changes nothing.
	if _, err := s.ReplaceModelPrices(ctx, []ModelPrice{{Model: "x", Input: 1}, {Model: ""}}, []string{"synced"}); err == nil {
		t.Fatal("empty model accepted")
	}
	// A failure inside the transaction rolls all of it back.
	fail := func(stage string) error {
		if stage == "request" {
			return errors.New("injected")
		}
		return nil
	}
	s.setHook(fail)
	if _, err := s.ReplaceModelPrices(ctx, []ModelPrice{{Model: "y", Input: 1}}, []string{"synced", "new"}); err == nil {
		t.Fatal("injected failure not reported")
	}
	s.setHook(nil)
	if n := countRows(t, s, "model_prices"); n != 4 {
		t.Fatalf("a failed replace left %d rows, want 4", n)
	}

	n, err := s.DeleteModelPrices(ctx, "new", "absent", "synced")
	if err != nil || n != 2 {
		t.Fatalf("deleted %d, %v", n, err)
	}
}

func TestAPIKeyAliasList(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	defer func(f func() time.Time) { aliasNow = f }(aliasNow)
	now := t0
	aliasNow = func() time.Time { return now }
	if err := s.PutAPIKeyAliases(ctx, []APIKeyAlias{{KeyHash: "h1", Alias: "bob"}, {KeyHash: "h2", Alias: "Alice"}}); err != nil {
		t.Fatal(err)
	}
	now = t0.Add(time.Minute)
	// Same alias again keeps its time; a change moves it.
	if err := s.PutAPIKeyAliases(ctx, []APIKeyAlias{{KeyHash: "h1", Alias: "bob"}, {KeyHash: "h2", Alias: "alice"}}); err != nil {
		t.Fatal(err)
	}
	list, err := s.APIKeyAliasList(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("%+v %v", list, err)
	}
	if list[0] != (APIKeyAlias{KeyHash: "h2", Alias: "alice", Updated: now}) || list[1] != (APIKeyAlias{KeyHash: "h1", Alias: "bob", Updated: t0}) {
		t.Fatalf("%+v", list)
	}

	// An alias of another key, in any case, is refused and nothing of the
	// request is applied.
	err = s.PutAPIKeyAliases(ctx, []APIKeyAlias{{KeyHash: "h3", Alias: "carol"}, {KeyHash: "h4", Alias: "BOB"}})
	var conflict *AliasConflictError
	if !errors.As(err, &conflict) || conflict.Alias != "BOB" || conflict.KeyHash != "h4" || conflict.OtherKeyHash != "h1" {
		t.Fatalf("conflict: %v", err)
	}
	if n := countRows(t, s, "api_key_aliases"); n != 2 {
		t.Fatalf("%d aliases after a refused request", n)
	}
	// Two keys of one request clash too; swapping aliases in one request
	// works.
	if err := s.PutAPIKeyAliases(ctx, []APIKeyAlias{{KeyHash: "h3", Alias: "x"}, {KeyHash: "h4", Alias: "X"}}); err == nil {
		t.Fatal("clash inside one request accepted")
	}
	if err := s.PutAPIKeyAliases(ctx, []APIKeyAlias{{KeyHash: "h1", Alias: "alice"}, {KeyHash: "h2", Alias: "bob"}}); err != nil {
		t.Fatalf("swap: %v", err)
	}
	if ok, err := s.DeleteAPIKeyAlias(ctx, "h1"); !ok || err != nil {
		t.Fatalf("delete: %v %v", ok, err)
	}
	if ok, err := s.DeleteAPIKeyAlias(ctx, "h1"); ok || err != nil {
		t.Fatalf("delete again: %v %v", ok, err)
	}
	if m, err := s.APIKeyAliases(ctx); err != nil || len(m) != 1 || m["h2"] != "bob" {
		t.Fatalf("%v %v", m, err)
	}
}

func TestCredentialHealth(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	h := CredentialHealth{Upstream: "u1", AuthIndex: "a1", Updated: t0, Status: "error", StatusMessage: "quota",
		Unavailable: true, NextRetryAfter: t0.Add(time.Minute), QuotaExceeded: true, QuotaReason: "daily",
		NextRecoverAt: t0.Add(time.Hour), BackoffLevel: 3, LastStatusCode: 429, LastError: "too many"}
	if err := s.PutCredentialHealth(ctx, h); err != nil {
		t.Fatal(err)
	}
	if err := s.PutCredentialHealth(ctx, CredentialHealth{Upstream: "u2", AuthIndex: "b", Updated: t0, Disabled: true}); err != nil {
		t.Fatal(err)
	}
	h.BackoffLevel = 4
	if err := s.PutCredentialHealth(ctx, h); err != nil {
		t.Fatal(err)
	}
	got, err := s.CredentialHealths(ctx, "u1")
	if err != nil || len(got) != 1 {
		t.Fatalf("%+v %v", got, err)
	}
	g := got[0]
	if g.Upstream != h.Upstream || g.BackoffLevel != 4 || !g.NextRecoverAt.Equal(h.NextRecoverAt) || !g.QuotaExceeded || g.Disabled || g.LastError != "too many" {
		t.Fatalf("%+v", g)
	}
	all, err := s.CredentialHealths(ctx, "")
	if err != nil || len(all) != 2 || !all[1].Disabled || !all[1].NextRetryAfter.IsZero() {
		t.Fatalf("%+v %v", all, err)
	}
}
