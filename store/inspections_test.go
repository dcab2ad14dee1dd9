package store

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// sampleInspection is a run with one result per action but error.
func sampleInspection(upstream string) Inspection {
	return Inspection{
		InspectionSummary: InspectionSummary{Provider: "codex", Upstream: upstream,
			StartedAt: t0, FinishedAt: t0.Add(90 * time.Second)},
		Settings: json.RawMessage(`{"concurrency":4,"disableAt":100}`),
		Results: []InspectionResult{
			{AuthIndex: "a1", Name: "codex-a.json", Email: "a@example.com", Plan: "plus", StatusCode: 200, Action: "keep",
				Windows: []InspectionWindow{{ID: "primary", UsedPercent: 23.5, WindowSeconds: 18000, ResetAt: "2026-11-27T05:00:00Z"},
					{ID: "secondary", UsedPercent: 41, WindowSeconds: 604800}}},
			{AuthIndex: "a2", Name: "codex-b.json", StatusCode: 200, Action: "disable", Reason: "weekly window used up"},
			{AuthIndex: "a3", Name: "codex-c.json", StatusCode: 401, Action: "reauth", Reason: "token expired"},
			{AuthIndex: "a4", Name: "codex-d.json", StatusCode: 402, Action: "delete", Reason: "deactivated_workspace"},
			{AuthIndex: "a5", Name: "codex-e.json", StatusCode: 200, Action: "enable", Disabled: true},
		},
	}
}

func TestInspectionRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	in := sampleInspection("cpa-main")
	id, err := s.AddInspection(ctx, in)
	if err != nil || id <= 0 {
		t.Fatalf("add: %d %v", id, err)
	}
	got, err := s.Inspection(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	wantCounts := map[string]int{"keep": 1, "enable": 1, "disable": 1, "reauth": 1, "delete": 1, "error": 0}
	if got.ID != id || got.Provider != "codex" || got.Upstream != "cpa-main" || !got.StartedAt.Equal(t0) ||
		!got.FinishedAt.Equal(t0.Add(90*time.Second)) || got.Total != 5 || got.Applied != 0 ||
		!reflect.DeepEqual(got.Counts, wantCounts) || string(got.Settings) != `{"concurrency":4,"disableAt":100}` {
		t.Fatalf("summary: %+v", got.InspectionSummary)
	}
	if !reflect.DeepEqual(got.Results, in.Results) {
		t.Fatalf("results:\n got %+v\nwant %+v", got.Results, in.Results)
	}
	list, err := s.Inspections(ctx, 20)
	if err != nil || len(list) != 1 || !reflect.DeepEqual(list[0], got.InspectionSummary) {
		t.Fatalf("list: %+v %v", list, err)
	}
	if _, err := s.Inspection(ctx, id+1); !errors.Is(err, ErrInspectionNotFound) {
		t.Fatalf("unknown id: %v", err)
	}

	// Outcomes: matched by auth_index, unknown ones reported, repeated
	// application overwrites.
	at := t0.Add(time.Hour)
	n, unmatched, err := s.ApplyInspectionOutcomes(ctx, id, []InspectionOutcomeIn{
		{AuthIndex: "a2", Action: "disable", OK: true},
		{AuthIndex: "a4", Action: "delete", OK: false, Error: "file busy"},
		{AuthIndex: "zz", Action: "keep", OK: true},
	}, at)
	if err != nil || n != 2 || !reflect.DeepEqual(unmatched, []string{"zz"}) {
		t.Fatalf("apply: %d %v %v", n, unmatched, err)
	}
	got, _ = s.Inspection(ctx, id)
	if got.Applied != 2 || got.Results[0].Applied != nil ||
		!reflect.DeepEqual(got.Results[1].Applied, &InspectionOutcome{Action: "disable", OK: true, At: at}) ||
		!reflect.DeepEqual(got.Results[3].Applied, &InspectionOutcome{Action: "delete", Error: "file busy", At: at}) {
		t.Fatalf("after apply: applied=%d %+v", got.Applied, got.Results)
	}
	at2 := at.Add(time.Minute)
	if n, unmatched, err := s.ApplyInspectionOutcomes(ctx, id, []InspectionOutcomeIn{{AuthIndex: "a4", Action: "delete", OK: true}}, at2); err != nil || n != 1 || len(unmatched) != 0 {
		t.Fatalf("re-apply: %d %v %v", n, unmatched, err)
	}
	got, _ = s.Inspection(ctx, id)
	if got.Applied != 2 || !reflect.DeepEqual(got.Results[3].Applied, &InspectionOutcome{Action: "delete", OK: true, At: at2}) {
		t.Fatalf("after re-apply: applied=%d %+v", got.Applied, got.Results[3].Applied)
	}
	if list, _ := s.Inspections(ctx, 0); list[0].Applied != 2 {
		t.Fatalf("list after apply: %+v", list[0])
	}
	if _, _, err := s.ApplyInspectionOutcomes(ctx, id+1, []InspectionOutcomeIn{{AuthIndex: "a1"}}, at); !errors.Is(err, ErrInspectionNotFound) {
		t.Fatalf("apply to unknown id: %v", err)
	}

	// A run without settings or results.
	id2, err := s.AddInspection(ctx, Inspection{InspectionSummary: InspectionSummary{Provider: "xai", StartedAt: t0, FinishedAt: t0}})
	if err != nil {
		t.Fatal(err)
	}
	empty, err := s.Inspection(ctx, id2)
	if err != nil || empty.Settings != nil || empty.Results == nil || len(empty.Results) != 0 || empty.Total != 0 || empty.Counts["keep"] != 0 {
		t.Fatalf("empty run: %+v %v", empty, err)
	}
	if _, err := s.AddInspection(ctx, Inspection{Settings: json.RawMessage(`{`)}); err == nil {
		t.Fatal("a run without provider was stored")
	}
	if _, err := s.AddInspection(ctx, Inspection{InspectionSummary: InspectionSummary{Provider: "codex"}, Settings: json.RawMessage(`{`)}); err == nil {
		t.Fatal("invalid settings were stored")
	}
}

func TestInspectionPruning(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	var ids []int64
	for i := 0; i < InspectionsKept+5; i++ {
		id, err := s.AddInspection(ctx, sampleInspection("u"))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if n := countRows(t, s, "inspections"); n != InspectionsKept {
		t.Fatalf("%d runs kept, want %d", n, InspectionsKept)
	}
	for _, id := range ids[:5] {
		if _, err := s.Inspection(ctx, id); !errors.Is(err, ErrInspectionNotFound) {
			t.Errorf("old run %d survived: %v", id, err)
		}
	}
	list, err := s.Inspections(ctx, 3)
	if err != nil || len(list) != 3 || list[0].ID != ids[len(ids)-1] || list[2].ID != ids[len(ids)-3] {
		t.Fatalf("newest first: %+v %v", list, err)
	}
	if list, _ := s.Inspections(ctx, 1000); len(list) != InspectionsKept || list[len(list)-1].ID != ids[5] {
		t.Fatalf("all: %d runs, oldest %d", len(list), list[len(list)-1].ID)
	}
}

// Schema version 4 adds the inspections table to a version 3 database with
// data, which stays readable.
func TestUpgradeFromV3(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v3.db")
	s := openAtVersion(t, path, 3)
	if _, err := s.AddInspection(ctx, sampleInspection("u")); err == nil {
		t.Fatal("a v3 database stored an inspection")
	}
	mustCommit(t, s, Batch{Events: newGen(3, t0, time.Hour).events(40)})
	if err := s.PutAPIKeyAlias(ctx, "h1", "ci"); err != nil {
		t.Fatal(err)
	}
	s = reopenUpgraded(t, s, path)
	if SchemaVersion < 4 {
		t.Fatalf("schema version %d has no migration 4", SchemaVersion)
	}
	if sum, err := s.Summary(ctx, Filter{}); err != nil || sum.Attempts != 40 {
		t.Fatalf("events after upgrade: %+v %v", sum, err)
	}
	if m, err := s.APIKeyAliases(ctx); err != nil || m["h1"] != "ci" {
		t.Fatalf("aliases after upgrade: %v %v", m, err)
	}
	id, err := s.AddInspection(ctx, sampleInspection("u"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Inspection(ctx, id); err != nil || got.Total != 5 {
		t.Fatalf("inspection after upgrade: %+v %v", got.InspectionSummary, err)
	}
}
