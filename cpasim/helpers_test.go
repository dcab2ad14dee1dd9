package cpasim

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const testKey = "test-mgmt-key"

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 27, 1, 7, 8, 613320096, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newTestServer starts a simulator with the test management key, no auth
// delay and synchronous config reloads.
func newTestServer(t *testing.T, mut func(*Options)) *Server {
	t.Helper()
	opts := Options{
		ManagementKey: testKey,
		AuthDelay:     -1,
		SniffTimeout:  2 * time.Second,
	}
	if mut != nil {
		mut(&opts)
	}
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	s.Start()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func syncServer(t *testing.T, s *Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Sync(ctx); err != nil {
		t.Fatalf("Sync: %v", err)
	}
}

// httpResult is a finished HTTP exchange.
type httpResult struct {
	status int
	header http.Header
	body   string
}

var testClient = &http.Client{Timeout: 10 * time.Second}

func doHTTP(t *testing.T, method, url string, hdr map[string]string, body string) httpResult {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return httpResult{resp.StatusCode, resp.Header, string(b)}
}

func mgmtGet(t *testing.T, s *Server, path string, hdr map[string]string) httpResult {
	t.Helper()
	h := map[string]string{"Authorization": "Bearer " + testKey}
	for k, v := range hdr {
		h[k] = v
	}
	return doHTTP(t, http.MethodGet, s.URL()+"/v0/management"+path, h, "")
}

func expectHTTP(t *testing.T, got httpResult, status int, body string) {
	t.Helper()
	if got.status != status || got.body != body {
		t.Fatalf("got %d %q, want %d %q", got.status, got.body, status, body)
	}
}

const chatBody = `{"model":"mock-gpt","messages":[{"role":"user","content":"hi"}]}`

func chat(t *testing.T, s *Server, body string, hdr map[string]string) httpResult {
	t.Helper()
	h := map[string]string{"Authorization": "Bearer sk-cpa-test-1", "Content-Type": "application/json"}
	for k, v := range hdr {
		h[k] = v
	}
	return doHTTP(t, http.MethodPost, s.URL()+"/v1/chat/completions", h, body)
}

// popAll drains the usage queue over HTTP.
func popAll(t *testing.T, s *Server) []map[string]any {
	t.Helper()
	syncServer(t, s)
	res := mgmtGet(t, s, "/usage-queue?count=1000", nil)
	if res.status != http.StatusOK {
		t.Fatalf("usage-queue: %d %s", res.status, res.body)
	}
	var out []map[string]any
	if err := json.Unmarshal([]byte(res.body), &out); err != nil {
		t.Fatalf("decode usage-queue %q: %v", res.body, err)
	}
	return out
}

// respClient is a raw RESP connection.
type respClient struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialRESP(t *testing.T, s *Server) *respClient {
	t.Helper()
	c, err := net.DialTimeout("tcp", s.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &respClient{t: t, c: c, br: bufio.NewReader(c)}
}

func encodeCommand(args ...string) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&sb, "$%d\r\n%s\r\n", len(a), a)
	}
	return sb.String()
}

func (rc *respClient) raw(s string) {
	rc.t.Helper()
	if _, err := rc.c.Write([]byte(s)); err != nil {
		rc.t.Fatalf("write: %v", err)
	}
}

func (rc *respClient) send(args ...string) { rc.t.Helper(); rc.raw(encodeCommand(args...)) }

// expect reads exactly len(want) bytes.
func (rc *respClient) expect(want string) {
	rc.t.Helper()
	_ = rc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, len(want))
	n, err := io.ReadFull(rc.br, buf)
	if err != nil || string(buf) != want {
		rc.t.Fatalf("read %q (err %v), want %q", buf[:n], err, want)
	}
}

// do sends a command and expects an exact reply.
func (rc *respClient) do(want string, args ...string) {
	rc.t.Helper()
	rc.send(args...)
	rc.expect(want)
}

// expectClosed expects the server to close without sending anything more.
func (rc *respClient) expectClosed() {
	rc.t.Helper()
	_ = rc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(rc.br)
	if len(b) != 0 {
		rc.t.Fatalf("unexpected bytes before close: %q", b)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		rc.t.Fatalf("connection not closed")
	}
}

func (rc *respClient) line() string {
	rc.t.Helper()
	_ = rc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	l, err := rc.br.ReadString('\n')
	if err != nil {
		rc.t.Fatalf("read line: %v (got %q)", err, l)
	}
	return strings.TrimSuffix(l, "\r\n")
}

func (rc *respClient) bulk() string {
	rc.t.Helper()
	l := rc.line()
	if !strings.HasPrefix(l, "$") {
		rc.t.Fatalf("want bulk, got %q", l)
	}
	n, err := strconv.Atoi(l[1:])
	if err != nil || n < 0 {
		rc.t.Fatalf("bad bulk header %q", l)
	}
	buf := make([]byte, n+2)
	if _, err := io.ReadFull(rc.br, buf); err != nil {
		rc.t.Fatalf("read bulk: %v", err)
	}
	return string(buf[:n])
}

// message reads one pushed *3 message and returns its payload.
func (rc *respClient) message(channel string) string {
	rc.t.Helper()
	rc.expect("*3\r\n$7\r\nmessage\r\n" + fmt.Sprintf("$%d\r\n%s\r\n", len(channel), channel))
	return rc.bulk()
}

func (rc *respClient) auth() { rc.t.Helper(); rc.do("+OK\r\n", "AUTH", testKey) }

func (rc *respClient) subscribe(ch string) {
	rc.t.Helper()
	rc.do(fmt.Sprintf("*3\r\n$9\r\nsubscribe\r\n$%d\r\n%s\r\n:1\r\n", len(ch), ch), "SUBSCRIBE", ch)
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
