package cpasim

import (
	"context"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestDropConnections(t *testing.T) {
	s := newTestServer(t, nil)
	sub := dialRESP(t, s)
	sub.auth()
	sub.subscribe(ChannelUsage)
	sub.message("usage")

	// An idle HTTP keep-alive connection.
	hc := dialRESP(t, s)
	hc.raw("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	if l := hc.line(); l != "HTTP/1.1 200 OK" {
		t.Fatalf("status line %q", l)
	}
	waitFor(t, "two connections", func() bool { return s.OpenConnections() == 2 })
	if n := s.DropConnections(); n != 2 {
		t.Fatalf("dropped %d", n)
	}
	for _, c := range []*respClient{sub, hc} {
		_ = c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadAll(c.br); err != nil {
			var ne net.Error
			if ok := asNetErr(err, &ne); ok && ne.Timeout() {
				t.Fatalf("connection not dropped")
			}
		}
	}
	waitFor(t, "subscriber cleanup", func() bool { return s.Subscribers(ChannelUsage) == 0 })
	// The listener keeps serving.
	rc := dialRESP(t, s)
	rc.auth()
	expectHTTP(t, doHTTP(t, http.MethodGet, s.URL()+"/healthz", nil, ""), 200, `{"status":"ok"}`)
}

func asNetErr(err error, ne *net.Error) bool {
	e, ok := err.(net.Error)
	if ok {
		*ne = e
	}
	return ok
}

func TestRestart(t *testing.T) {
	s := newTestServer(t, nil)
	if _, err := s.Emit(t.Context(), 4); err != nil {
		t.Fatal(err)
	}
	syncServer(t, s)
	sub := dialRESP(t, s)
	sub.auth()
	sub.subscribe(ChannelUsage)
	sub.message("usage")
	for range 5 {
		doHTTP(t, http.MethodGet, s.URL()+"/v0/management/usage-queue", nil, "")
	}
	if res := mgmtGet(t, s, "/usage-queue", nil); res.status != 403 {
		t.Fatalf("not banned: %d", res.status)
	}

	s.Restart()
	sub.expectClosed()
	waitFor(t, "subscriber cleanup", func() bool { return s.Subscribers(ChannelUsage) == 0 })
	expectHTTP(t, mgmtGet(t, s, "/usage-queue?count=100", nil), 200, `[]`)
	rc := dialRESP(t, s)
	rc.auth()
	rc.do("$-1\r\n", "LPOP", "usage")
}

func TestForceStatusAndLatency(t *testing.T) {
	s := newTestServer(t, nil)
	s.ForceStatus(503, 1)
	expectHTTP(t, chat(t, s, chatBody, nil), 503, bodyBusy)
	if res := chat(t, s, chatBody, nil); res.status != 200 {
		t.Fatalf("after forced failure: %d", res.status)
	}
	s.ForceStatus(429, -1)
	for range 2 {
		expectHTTP(t, chat(t, s, chatBody, nil), 429, bodyRateLimited)
	}
	s.ForceStatus(0, 0)
	recs := popAll(t, s)
	if len(recs) != 4 {
		t.Fatalf("records %d", len(recs))
	}
	for i, want := range []bool{true, false, true, true} {
		if recs[i]["failed"] != want {
			t.Fatalf("record %d failed=%v", i, recs[i]["failed"])
		}
	}

	s.SetLatency(40 * time.Millisecond)
	chat(t, s, chatBody, nil)
	recs = popAll(t, s)
	if lat := recs[0]["latency_ms"].(float64); lat < 40 || recs[0]["ttft_ms"].(float64) < 40 {
		t.Fatalf("latency %v ttft %v", lat, recs[0]["ttft_ms"])
	}
}

func TestCloseStopsEverything(t *testing.T) {
	before := runtime.NumGoroutine()
	s, err := New(Options{ManagementKey: testKey, AuthDelay: -1})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	rc := dialRESP(t, s)
	rc.auth()
	rc.subscribe(ChannelUsage)
	rc.message("usage")
	s.StallSubscribers(true)
	client := &http.Client{}
	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/healthz", nil)
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
	}
	slow := make(chan error, 1)
	s.SetLatency(time.Hour)
	go func() {
		resp, err := client.Post(s.URL()+"/v1/chat/completions?key=sk-cpa-test-1", "application/json", strings.NewReader(chatBody))
		if err == nil {
			resp.Body.Close()
		}
		slow <- err
	}()
	waitFor(t, "slow request in flight", func() bool {
		s.handlersMu.Lock()
		defer s.handlersMu.Unlock()
		return s.handlers > 0
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	<-slow
	client.CloseIdleConnections()
	_ = rc.c.Close()
	waitFor(t, "goroutines to exit", func() bool { return runtime.NumGoroutine() <= before })

	ctx, cancel := context.WithCancel(context.Background())
	s2, err := New(Options{ManagementKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s2.Serve(ctx) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}
