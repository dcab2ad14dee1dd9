package cpasim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestUsageQueueHTTP(t *testing.T) {
	s := newTestServer(t, nil)
	for _, c := range []string{"0", "-1", "abc", "1.5"} {
		expectHTTP(t, mgmtGet(t, s, "/usage-queue?count="+c, nil), 400, `{"error":"count must be a positive integer"}`)
	}
	expectHTTP(t, mgmtGet(t, s, "/usage-queue", nil), 200, `[]`)

	var ids []string
	for range 3 {
		if res := chat(t, s, chatBody, nil); res.status != 200 {
			t.Fatalf("chat: %d %s", res.status, res.body)
		}
		syncServer(t, s)
	}
	// count defaults to 1 and pops the oldest.
	res := mgmtGet(t, s, "/usage-queue", nil)
	var one []Record
	if err := json.Unmarshal([]byte(res.body), &one); err != nil || len(one) != 1 {
		t.Fatalf("default count: %v %s", err, res.body)
	}
	ids = append(ids, one[0].RequestID)
	res = mgmtGet(t, s, "/usage-queue?count=10", nil)
	var rest []Record
	if err := json.Unmarshal([]byte(res.body), &rest); err != nil || len(rest) != 2 {
		t.Fatalf("count=10: %v %s", err, res.body)
	}
	for _, r := range rest {
		ids = append(ids, r.RequestID)
	}
	if ids[0] == ids[1] || ids[1] == ids[2] {
		t.Fatalf("request ids %v", ids)
	}
	if !strings.HasPrefix(res.body, "[{") || strings.Contains(res.body, "\n") {
		t.Fatalf("body shape %q", res.body)
	}
	expectHTTP(t, mgmtGet(t, s, "/usage-queue?count=10", nil), 200, `[]`)

	// FIFO across producers: Produce with known ids.
	for i := range 5 {
		s.Produce(Record{RequestID: fmt.Sprintf("0000000%d", i)})
	}
	syncServer(t, s)
	var got []Record
	_ = json.Unmarshal([]byte(mgmtGet(t, s, "/usage-queue?count=3", nil).body), &got)
	_ = json.Unmarshal([]byte(mgmtGet(t, s, "/usage-queue?count=3", nil).body), &rest)
	got = append(got, rest...)
	for i, r := range got {
		if r.RequestID != fmt.Sprintf("0000000%d", i) {
			t.Fatalf("FIFO broken at %d: %v", i, got)
		}
	}
}

func TestRetention(t *testing.T) {
	clock := newFakeClock()
	s := newTestServer(t, func(o *Options) { o.Now = clock.Now })
	if _, err := s.Emit(t.Context(), 2); err != nil {
		t.Fatal(err)
	}
	syncServer(t, s)
	clock.Advance(60 * time.Second)
	s.Produce(Record{RequestID: "0000000a"})
	syncServer(t, s)
	if s.QueueLen() != 3 {
		t.Fatalf("items at exactly the retention age are kept: %d", s.QueueLen())
	}
	clock.Advance(time.Second)
	s.Produce(Record{RequestID: "0000000b"}) // enqueue prunes the two old ones
	syncServer(t, s)
	if s.QueueLen() != 2 {
		t.Fatalf("enqueue did not prune: %d", s.QueueLen())
	}
	clock.Advance(60 * time.Second) // 0000000a is now 61 s old
	recs := popAll(t, s)
	if len(recs) != 1 || recs[0]["request_id"] != "0000000b" {
		t.Fatalf("pop did not prune: %v", recs)
	}
	clock.Advance(61 * time.Second)
	rc := dialRESP(t, s)
	rc.auth()
	s.Produce(Record{RequestID: "0000000c"})
	syncServer(t, s)
	clock.Advance(61 * time.Second)
	rc.do("$-1\r\n", "LPOP", "usage")
}

func TestPublishInsteadOfEnqueue(t *testing.T) {
	s := newTestServer(t, nil)
	rc := dialRESP(t, s)
	rc.auth()
	rc.subscribe(ChannelUsage)
	rc.message("usage")
	rc2 := dialRESP(t, s)
	rc2.auth()
	rc2.subscribe(ChannelUsage)
	rc2.message("usage")

	if res := chat(t, s, chatBody, nil); res.status != 200 {
		t.Fatalf("chat: %d", res.status)
	}
	syncServer(t, s)
	expectHTTP(t, mgmtGet(t, s, "/usage-queue?count=10", nil), 200, `[]`)
	a, b := rc.message("usage"), rc2.message("usage")
	if a != b || !strings.Contains(a, `"request_id"`) {
		t.Fatalf("fan-out mismatch:\n%s\n%s", a, b)
	}

	// Without subscribers records are queued again.
	rc.do("+OK\r\n", "QUIT")
	rc2.do("+OK\r\n", "QUIT")
	waitFor(t, "subscribers gone", func() bool { return s.Subscribers(ChannelUsage) == 0 })
	chat(t, s, chatBody, nil)
	if recs := popAll(t, s); len(recs) != 1 {
		t.Fatalf("queued %d records", len(recs))
	}
}

func TestSubscriberOverflow(t *testing.T) {
	s := newTestServer(t, nil)
	s.StallSubscribers(true)
	rc := dialRESP(t, s)
	rc.auth()
	rc.subscribe(ChannelUsage)
	healthy := dialRESP(t, s)
	healthy.auth()
	healthy.subscribe(ChannelErrors)

	// The buffer holds {"support_refresh":true} plus 255 records; the
	// 256th record overflows it.
	if _, err := s.Emit(t.Context(), 255); err != nil {
		t.Fatal(err)
	}
	syncServer(t, s)
	if s.Subscribers(ChannelUsage) != 1 {
		t.Fatalf("subscriber dropped too early")
	}
	if _, err := s.Emit(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	syncServer(t, s)
	if s.Subscribers(ChannelUsage) != 0 {
		t.Fatalf("stalled subscriber not dropped")
	}
	if s.QueueLen() != 0 {
		t.Fatalf("overflowing record was queued")
	}
	s.Produce(Record{RequestID: "afterdrop"})
	syncServer(t, s)
	if s.QueueLen() != 1 {
		t.Fatalf("records must go back to the queue, got %d", s.QueueLen())
	}

	s.StallSubscribers(false)
	if got := rc.message("usage"); got != `{"support_refresh":true}` {
		t.Fatalf("first message %q", got)
	}
	for i := range 255 {
		if got := rc.message("usage"); !strings.Contains(got, `"request_id"`) {
			t.Fatalf("message %d: %q", i, got)
		}
	}
	rc.expectClosed()
	if s.Subscribers(ChannelErrors) != 1 {
		t.Fatalf("other subscribers must stay")
	}
	healthy.do("*2\r\n$4\r\npong\r\n$-1\r\n", "PING")
}

func TestRefreshOnReload(t *testing.T) {
	s := newTestServer(t, nil)
	rc := dialRESP(t, s)
	rc.auth()
	rc.subscribe(ChannelUsage)
	rc.message("usage")

	// A management write hot-reloads and publishes a refresh.
	res := doHTTP(t, http.MethodPut, s.URL()+"/v0/management/request-retry",
		map[string]string{"Authorization": "Bearer " + testKey, "Content-Type": "application/json"}, `{"value":1}`)
	expectHTTP(t, res, 200, `{"status":"ok"}`)
	if got := rc.message("usage"); got != `{"refresh":true}` {
		t.Fatalf("want refresh, got %q", got)
	}
	// The hook itself, and refreshes are never queued.
	s.handleReload()
	if got := rc.message("usage"); got != `{"refresh":true}` {
		t.Fatalf("want refresh, got %q", got)
	}
	rc.do("+OK\r\n", "QUIT")
	waitFor(t, "unsubscribe", func() bool { return s.Subscribers(ChannelUsage) == 0 })
	s.handleReload()
	syncServer(t, s)
	if s.QueueLen() != 0 {
		t.Fatalf("refresh was queued")
	}
}

func TestManagementSwitchedOff(t *testing.T) {
	s := newTestServer(t, nil)
	if _, err := s.Emit(t.Context(), 2); err != nil {
		t.Fatal(err)
	}
	syncServer(t, s)
	sub := dialRESP(t, s)
	sub.auth()
	sub.subscribe(ChannelUsage)
	sub.message("usage")
	idle := dialRESP(t, s)
	idle.auth()

	// A config without secret-key switches management off.
	res := doHTTP(t, http.MethodPut, s.URL()+"/v0/management/config.yaml",
		map[string]string{"Authorization": "Bearer " + testKey, "Content-Type": "application/yaml"},
		"usage-statistics-enabled: true\napi-keys: [\"sk-cpa-test-1\"]\n")
	if res.status != 200 {
		t.Fatalf("PUT config.yaml: %d %s", res.status, res.body)
	}
	waitFor(t, "management off", func() bool { return s.State().Secret() == "" })
	sub.expectClosed()
	idle.send("LPOP", "usage")
	idle.expectClosed()
	if s.QueueLen() != 0 || s.Subscribers(ChannelUsage) != 0 {
		t.Fatalf("queue %d subscribers %d", s.QueueLen(), s.Subscribers(ChannelUsage))
	}
	expectHTTP(t, mgmtGet(t, s, "/usage-queue", nil), 404, "")
	fresh := dialRESP(t, s)
	fresh.send("AUTH", testKey)
	fresh.expectClosed()
}

// TestDeliveryStats checks the ledger reliability tests rely on: every
// produced record is published, queued or lost, and queued ones end popped,
// expired or cleared.
func TestDeliveryStats(t *testing.T) {
	clock := newFakeClock()
	s := newTestServer(t, func(o *Options) { o.Now = clock.Now })
	ctx := context.Background()
	if _, err := s.Emit(ctx, 5); err != nil {
		t.Fatal(err)
	}
	syncServer(t, s)
	if got := len(popAll(t, s)); got != 5 {
		t.Fatalf("popped %d", got)
	}
	if _, err := s.Emit(ctx, 3); err != nil {
		t.Fatal(err)
	}
	syncServer(t, s)
	clock.Advance(2 * time.Minute) // past the 60 s retention
	if got := len(popAll(t, s)); got != 0 {
		t.Fatalf("expired records were popped: %d", got)
	}
	if _, err := s.Emit(ctx, 2); err != nil {
		t.Fatal(err)
	}
	syncServer(t, s)
	s.Restart()

	rc := dialRESP(t, s)
	rc.auth()
	rc.subscribe("usage")
	if _, err := s.Emit(ctx, 4); err != nil {
		t.Fatal(err)
	}
	syncServer(t, s)

	got := s.DeliveryStats()
	want := DeliveryStats{Produced: 14, Published: 4, Queued: 10, Popped: 5, Expired: 3, Cleared: 2, Subscriptions: 1, Subscribers: 1}
	if got != want {
		t.Errorf("DeliveryStats = %+v, want %+v", got, want)
	}
}

func TestDeliveryStatsRoute(t *testing.T) {
	s := newTestServer(t, nil)
	if _, err := s.Emit(context.Background(), 2); err != nil {
		t.Fatal(err)
	}
	syncServer(t, s)
	res := doHTTP(t, http.MethodGet, s.URL()+SimStatsPath, nil, "")
	var got DeliveryStats
	if res.status != http.StatusOK || json.Unmarshal([]byte(res.body), &got) != nil || got.Produced != 2 || got.Queued != 2 || got.Deliverable() != 2 {
		t.Errorf("%s: %d %s", SimStatsPath, res.status, res.body)
	}
}
