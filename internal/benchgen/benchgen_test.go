package benchgen

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/cpam-caddy/cpam/cpasim"
)

var testEnd = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func generate(t *testing.T, cfg Config, n int) [][]byte {
	t.Helper()
	g := New(cfg)
	out := make([][]byte, n)
	for i := range out {
		b, err := g.NextJSON()
		if err != nil {
			t.Fatal(err)
		}
		out[i] = b
	}
	return out
}

func TestSameSeedSameBytes(t *testing.T) {
	cfg := Config{Seed: 42, Events: 5000, End: testEnd}
	a, b := generate(t, cfg, 5000), generate(t, cfg, 5000)
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			t.Fatalf("record %d differs:\n%s\n%s", i, a[i], b[i])
		}
	}
	c := generate(t, Config{Seed: 43, Events: 5000, End: testEnd}, 5000)
	same := 0
	for i := range a {
		if bytes.Equal(a[i], c[i]) {
			same++
		}
	}
	if same > 0 {
		t.Errorf("another seed gave %d identical records", same)
	}
}

func TestTrafficModel(t *testing.T) {
	const n = 50_000
	g := New(Config{Seed: 7, Events: n, End: testEnd})
	models, accounts, keys, providers := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	statuses := map[int]int{}
	byReq := map[string][]cpasim.Record{}
	modelCount := map[string]int{}
	failed := 0
	var first, last time.Time
	prev := time.Time{}
	outOfOrder := 0
	for i := 0; i < n; i++ {
		rec := g.Next()
		// Every record is valid v7.2 JSON with a consistent breakdown.
		if rec.AccountingVersion != cpasim.AccountingVersion || rec.TokenBreakdown.Quality != cpasim.QualityComplete {
			t.Fatalf("record %d: accounting %d, quality %q", i, rec.AccountingVersion, rec.TokenBreakdown.Quality)
		}
		models[rec.Model] = true
		modelCount[rec.Model]++
		accounts[rec.AuthIndex] = true
		keys[rec.APIKey] = true
		providers[rec.Provider] = true
		if rec.Failed {
			failed++
			statuses[rec.Fail.StatusCode]++
			if rec.Fail.StatusCode < 400 || rec.TokenBreakdown.TotalTokens != 0 {
				t.Fatalf("failed record %d: status %d, tokens %d", i, rec.Fail.StatusCode, rec.TokenBreakdown.TotalTokens)
			}
		} else if rec.Fail.StatusCode != 200 || rec.TokenBreakdown.TotalTokens <= 0 {
			t.Fatalf("ok record %d: status %d, tokens %d", i, rec.Fail.StatusCode, rec.TokenBreakdown.TotalTokens)
		}
		byReq[rec.RequestID] = append(byReq[rec.RequestID], rec)
		if i == 0 {
			first = rec.Timestamp
		}
		last = rec.Timestamp
		if rec.Timestamp.Before(prev.Add(-time.Minute)) {
			outOfOrder++
		}
		prev = rec.Timestamp
	}
	share := float64(failed) / n
	if share < 0.03 || share > 0.05 {
		t.Errorf("failure share %.2f%%, want about 4%%", share*100)
	}
	if statuses[429] <= statuses[500] || len(statuses) < 5 {
		t.Errorf("statuses %v: want 429 the most common and at least 5 kinds", statuses)
	}
	if len(models) < 20 || len(accounts) < 40 || len(keys) < 25 || len(providers) < 5 {
		t.Errorf("distinct models %d, accounts %d, client keys %d, providers %d", len(models), len(accounts), len(keys), len(providers))
	}
	// Popularity skew: the top model carries far more than the average.
	top := 0
	for _, c := range modelCount {
		top = max(top, c)
	}
	if avg := n / len(models); top < 4*avg {
		t.Errorf("top model has %d records, average %d: no popularity skew", top, avg)
	}
	// Failover: attempts of one request share its request_id, same model
	// and provider, different credentials, every attempt but the last failed.
	failovers := 0
	for id, atts := range byReq {
		if len(atts) < 2 || len(atts) > MaxAttempts {
			continue // a lone attempt, or a random request_id collision
		}
		if atts[0].Model != atts[1].Model || atts[0].APIKey != atts[1].APIKey {
			continue // collision of two unrelated requests
		}
		failovers++
		for i := 0; i < len(atts)-1; i++ {
			if !atts[i].Failed || atts[i].AuthIndex == atts[i+1].AuthIndex || !atts[i+1].Timestamp.After(atts[i].Timestamp) {
				t.Fatalf("request %s: bad failover chain at attempt %d", id, i)
			}
		}
	}
	if failovers < failed/3 {
		t.Errorf("%d failover chains for %d failures", failovers, failed)
	}
	// Span: 30 days ending at End, in arrival order.
	if first.Before(testEnd.Add(-DefaultSpan)) || first.After(testEnd.Add(-DefaultSpan+time.Hour)) {
		t.Errorf("first record at %v", first)
	}
	if last.Before(testEnd.Add(-time.Hour)) || last.After(testEnd.Add(time.Minute)) {
		t.Errorf("last record at %v, end %v", last, testEnd)
	}
	if outOfOrder > 0 {
		t.Errorf("%d records more than a minute before their predecessor", outOfOrder)
	}
}

func TestDiurnalCycle(t *testing.T) {
	const n = 50_000
	g := New(Config{Seed: 9, Events: n, End: testEnd})
	var hours [24]int
	for i := 0; i < n; i++ {
		hours[g.Next().Timestamp.UTC().Hour()]++
	}
	if hours[14] < 3*hours[3] {
		t.Errorf("14:00 has %d records, 03:00 %d: no daily cycle", hours[14], hours[3])
	}
}

func TestNextJSONIsTheRecord(t *testing.T) {
	g1, g2 := New(Config{Seed: 3, Events: 10, End: testEnd}), New(Config{Seed: 3, Events: 10, End: testEnd})
	for i := 0; i < 10; i++ {
		b, err := g1.NextJSON()
		if err != nil {
			t.Fatal(err)
		}
		var got cpasim.Record
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		want := g2.Next()
		if got.RequestID != want.RequestID || !got.Timestamp.Equal(want.Timestamp) || got.Model != want.Model {
			t.Fatalf("record %d: %+v != %+v", i, got, want)
		}
	}
}
