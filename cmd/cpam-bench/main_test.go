package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestSmoke runs the Caddy-free measurements (ingest, raw insert, size) on
// 10,000 events in-process and checks that the report has every section
// with positive numbers. It asserts no wall-clock figure.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and ingests 10,000 events")
	}
	dir := t.TempDir()
	cfg, err := parseFlags([]string{"-events", "10000", "-runs", "1", "-only", "ingest,raw,size", "-dir", filepath.Join(dir, "work")})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.errors) > 0 {
		t.Fatalf("errors: %v", rep.errors)
	}
	if len(rep.ingest.v) != 1 || len(rep.raw.v) != 1 {
		t.Fatalf("runs: ingest %v, raw %v", rep.ingest.v, rep.raw.v)
	}
	for _, v := range append(append([]float64{}, rep.ingest.v...), rep.raw.v...) {
		if !(v > 0) {
			t.Errorf("rate %v", v)
		}
	}
	if rep.size == nil || rep.size.events != 10000 || rep.size.perEvent <= 0 || rep.size.rollupRows <= 0 {
		t.Fatalf("size = %+v", rep.size)
	}

	md := rep.markdown()
	for _, section := range []string{"# Benchmarks", "## Targets", "## 1. Ingest", "## 2. Raw insert", "## 3. Live path",
		"## 4. Database size", "## 5. HTTP latency", "## 6. Export and import", "## 7. Caddy's memory", "## What limits it", "## The 10M run"} {
		if !strings.Contains(md, section) {
			t.Errorf("report lacks %q", section)
		}
	}
	// The measured rows carry positive numbers.
	for _, re := range []string{
		`\| ingest, events/s \| ([0-9,]+) \|`,
		`\| raw insert, events/s \| ([0-9,]+) \|`,
		`\| ingest as % of raw \(medians\) \| ([0-9]+)% \|`,
		`\*\*([0-9.]+) bytes/event\*\*`,
	} {
		m := regexp.MustCompile(re).FindStringSubmatch(md)
		if m == nil {
			t.Errorf("report lacks %s:\n%s", re, md)
			continue
		}
		if v, err := strconv.ParseFloat(strings.ReplaceAll(m[1], ",", ""), 64); err != nil || v <= 0 {
			t.Errorf("%s: %q", re, m[1])
		}
	}
	// What was not selected says so instead of showing numbers.
	if !strings.Contains(md, "| export ≥ 100,000 events/s | not measured |") {
		t.Error("the export target is not marked as not measured")
	}
	// -out keeps a hand-written part of an existing file.
	out := filepath.Join(dir, "bench.md")
	if err := os.WriteFile(out, []byte("old\n"+handWritten+"\nmy notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := withKept(md, out); !strings.HasPrefix(got, md) || !strings.HasSuffix(got, handWritten+"\nmy notes\n") {
		t.Errorf("hand-written part not kept: %q", got[len(got)-100:])
	}
}

func TestStats(t *testing.T) {
	s := newStats([]float64{5, 1, 4, 2, 3})
	if s.median() != 3 || s.min() != 1 || s.max() != 5 || s.percentile(95) != 5 || s.percentile(50) != 3 {
		t.Errorf("stats of 1..5: median %v min %v max %v p95 %v", s.median(), s.min(), s.max(), s.percentile(95))
	}
	if m := newStats([]float64{1, 2, 3, 4}).median(); m != 2.5 {
		t.Errorf("median of 1..4 = %v", m)
	}
	if got := num(1234567); got != "1,234,567" {
		t.Errorf("num = %q", got)
	}
}

func TestParseFlags(t *testing.T) {
	if _, err := parseFlags([]string{"-only", "ingest,bogus"}); err == nil {
		t.Error("unknown measurement accepted")
	}
	c, err := parseFlags([]string{"-only", "raw", "-live-rates", "100,200"})
	if err != nil {
		t.Fatal(err)
	}
	if !c.want("raw") || c.want("ingest") || len(c.liveRates) != 2 || c.events != 1_000_000 {
		t.Errorf("config %+v", c)
	}
}
