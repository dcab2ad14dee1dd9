package cpasim

import (
	"context"
	"testing"
	"time"
)

func TestTrafficGenerator(t *testing.T) {
	s := newTestServer(t, nil)
	tr := &Traffic{
		URL:          s.URL(),
		Count:        24,
		Concurrency:  3,
		Models:       []string{"mock-gpt"},
		Keys:         []string{"sk-cpa-test-1", "sk-cpa-test-2"},
		StreamRatio:  0.5,
		FailureRatio: 0.25,
		Seed:         7,
	}
	st, err := tr.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.Sent != 24 || st.OK+st.Failed != 24 || st.Errors != 0 || st.Failed == 0 || st.OK == 0 {
		t.Fatalf("stats %+v", st)
	}
	recs := popAll(t, s)
	if len(recs) != 24 {
		t.Fatalf("records %d", len(recs))
	}
	failed, keys, prompts := 0, map[any]bool{}, map[any]bool{}
	for _, r := range recs {
		if r["failed"] == true {
			failed++
			if r["model"] != ModelMockFail {
				t.Fatalf("unexpected failure %v", r)
			}
		}
		keys[r["api_key"]] = true
		prompts[r["tokens"].(map[string]any)["input_tokens"]] = true
	}
	if failed != st.Failed || len(keys) != 2 || len(prompts) < 2 {
		t.Fatalf("failed %d/%d keys %v prompts %v", failed, st.Failed, keys, prompts)
	}

	// Bounded by duration and by ctx.
	tr = &Traffic{URL: s.URL(), Rate: 200, Duration: 50 * time.Millisecond}
	if _, err := tr.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if st, err := (&Traffic{URL: s.URL()}).Run(ctx); err != nil || st.Sent != 0 {
		t.Fatalf("cancelled run: %+v %v", st, err)
	}
}
