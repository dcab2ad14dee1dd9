package store

import (
	"bytes"
	"context"
	"encoding/json"
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
