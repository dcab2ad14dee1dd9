package cpasim

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestRESPTranscript reproduces the verified v7.2.140 session byte for byte.
func TestRESPTranscript(t *testing.T) {
	s := newTestServer(t, nil)
	rc := dialRESP(t, s)
	rc.do("-NOAUTH Authentication required.\r\n", "PING")
	rc.do("-ERR invalid management key\r\n", "AUTH", "wrong")
	rc.do("+OK\r\n", "AUTH", "default", testKey)
	rc.do("-ERR unknown command 'ping'\r\n", "PING")
	rc.do("$-1\r\n", "LPOP", "usage")
	rc.do("*0\r\n", "RPOP", "usage", "5")
	rc.do("-ERR unsupported channel 'errors'\r\n", "LPOP", "errors")
	rc.do("*3\r\n$9\r\nsubscribe\r\n$5\r\nusage\r\n:1\r\n", "SUBSCRIBE", "usage")
	rc.expect("*3\r\n$7\r\nmessage\r\n$5\r\nusage\r\n$24\r\n{\"support_refresh\":true}\r\n")

	if res := chat(t, s, chatBody, nil); res.status != 200 {
		t.Fatalf("chat: %d %s", res.status, res.body)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(rc.message("usage")), &rec); err != nil {
		t.Fatalf("record: %v", err)
	}
	if rec["endpoint"] != "POST /v1/chat/completions" || rec["model"] != "mock-gpt" {
		t.Fatalf("unexpected record %v", rec)
	}
	rc.do("*2\r\n$4\r\npong\r\n$5\r\nhello\r\n", "PING", "hello")
	rc.do("*3\r\n$11\r\nunsubscribe\r\n$5\r\nusage\r\n:0\r\n", "UNSUBSCRIBE")
	rc.expectClosed()
	waitFor(t, "subscriber removal", func() bool { return s.Subscribers(ChannelUsage) == 0 })
}

func TestRESPCommandErrors(t *testing.T) {
	s := newTestServer(t, nil)
	rc := dialRESP(t, s)
	rc.do("-ERR wrong number of arguments for 'auth' command\r\n", "AUTH")
	rc.do("-ERR wrong number of arguments for 'auth' command\r\n", "AUTH", "a", "b", "c")
	rc.do("-ERR empty command\r\n")
	rc.auth()
	rc.do("-ERR wrong number of arguments for 'lpop' command\r\n", "LPOP")
	rc.do("-ERR wrong number of arguments for 'rpop' command\r\n", "rpop", "usage", "1", "2")
	for _, n := range []string{"0", "-3", "abc", ""} {
		rc.do("-ERR value is not an integer or out of range\r\n", "LPOP", "usage", n)
	}
	rc.do("-ERR unsupported channel 'queue'\r\n", "RPOP", "queue")
	rc.do("-ERR wrong number of arguments for 'subscribe' command\r\n", "SUBSCRIBE")
	rc.do("-ERR wrong number of arguments for 'subscribe' command\r\n", "SUBSCRIBE", "usage", "errors")
	rc.do("-ERR unsupported channel 'news'\r\n", "SUBSCRIBE", "news")
	rc.do("-ERR unknown command 'get'\r\n", "GET", "usage")
	rc.do("-ERR unknown command 'quit'\r\n", "QUIT")
	rc.do("-ERR empty command\r\n")

	// LPOP/RPOP pop oldest first, singly and in batches.
	if n, err := s.Emit(t.Context(), 3); err != nil || n != 3 {
		t.Fatalf("Emit: %d %v", n, err)
	}
	syncServer(t, s)
	rc.send("RPOP", "usage")
	first := rc.bulk()
	rc.send("LPOP", "usage", "10")
	rc.expect("*2\r\n")
	second, third := rc.bulk(), rc.bulk()
	ids := []string{}
	for _, raw := range []string{first, second, third} {
		var r Record
		if err := json.Unmarshal([]byte(raw), &r); err != nil {
			t.Fatalf("decode %q: %v", raw, err)
		}
		ids = append(ids, r.RequestID)
	}
	if ids[0] == ids[1] || ids[1] == ids[2] {
		t.Fatalf("records not distinct: %v", ids)
	}
	rc.do("*0\r\n", "LPOP", "usage", "2")

	// A malformed frame ends the connection.
	rc.raw("*1\r\n+PING\r\n")
	rc.expect("-ERR protocol error\r\n")
	rc.expectClosed()
}

func TestRESPFrameLimits(t *testing.T) {
	s := newTestServer(t, nil)
	for _, frame := range []string{
		"*99999999\r\n",
		"*1\r\n$999999999\r\n",
		"*1\r\n$3\r\nabcde\r\n",
		"*x\r\n",
		"*1\r\n$-1\r\n",
		"*-1\r\n",
		"\r\n",
		"*1\n",
		"*1\r\n$" + strings.Repeat("9", 40) + "\r\n",
	} {
		rc := dialRESP(t, s)
		if !strings.HasPrefix(frame, "*") {
			rc.raw("*0\r\n")
			rc.expect("-ERR empty command\r\n")
		}
		rc.raw(frame)
		rc.expect("-ERR protocol error\r\n")
		rc.expectClosed()
	}
}

func TestSniffing(t *testing.T) {
	s := newTestServer(t, func(o *Options) { o.SniffTimeout = 300 * time.Millisecond })
	for _, prefix := range []string{"$3\r\nfoo\r\n", "+OK\r\n", "-ERR x\r\n", ":1\r\n"} {
		rc := dialRESP(t, s)
		rc.raw(prefix)
		rc.expect("-ERR protocol error\r\n")
		rc.expectClosed()
	}

	// Inline commands go to HTTP.
	rc := dialRESP(t, s)
	rc.raw("PING\r\n\r\n")
	_ = rc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, _ := io.ReadAll(rc.br)
	if !strings.HasPrefix(string(b), "HTTP/1.1 400 Bad Request") {
		t.Fatalf("inline PING answered %q", b)
	}

	// Plain HTTP on the same port.
	rc = dialRESP(t, s)
	rc.raw("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	b, _ = io.ReadAll(rc.br)
	if !strings.HasPrefix(string(b), "HTTP/1.1 200 OK") || !strings.HasSuffix(string(b), `{"status":"ok"}`) {
		t.Fatalf("healthz over raw conn: %q", b)
	}

	// A silent connection is closed after the sniff deadline.
	rc = dialRESP(t, s)
	rc.expectClosed()
}

func TestRESPSubscriptionCommands(t *testing.T) {
	s := newTestServer(t, nil)
	rc := dialRESP(t, s)
	rc.auth()
	rc.subscribe(ChannelUsage)
	if got := rc.message("usage"); got != `{"support_refresh":true}` {
		t.Fatalf("first message %q", got)
	}
	rc.do("*2\r\n$4\r\npong\r\n$-1\r\n", "PING")
	rc.do("*2\r\n$4\r\npong\r\n$2\r\nhi\r\n", "ping", "hi")
	rc.do("-ERR unknown command 'lpop'\r\n", "LPOP", "usage")
	rc.do("-ERR unknown command 'subscribe'\r\n", "SUBSCRIBE", "errors")
	rc.do("-ERR empty command\r\n")
	rc.do("+OK\r\n", "QUIT")
	rc.expectClosed()

	// The errors channel gets no capability message and no refresh.
	rc = dialRESP(t, s)
	rc.auth()
	rc.subscribe(ChannelErrors)
	s.handleReload()
	syncServer(t, s)
	rc.do("*2\r\n$4\r\npong\r\n$-1\r\n", "PING")
	rc.do("*3\r\n$11\r\nunsubscribe\r\n$6\r\nerrors\r\n:0\r\n", "UNSUBSCRIBE", "ignored")
	rc.expectClosed()
}

func TestRESPManagementUnavailable(t *testing.T) {
	s := newTestServer(t, func(o *Options) { o.ManagementKey = "" })
	rc := dialRESP(t, s)
	rc.send("AUTH", "anything")
	rc.expectClosed()

	home := newTestServer(t, func(o *Options) { o.Home = true })
	rc = dialRESP(t, home)
	rc.send("AUTH", testKey)
	rc.expect("-ERR redis usage output disabled in home mode\r\n")
	rc.expectClosed()
}

// TestRESPRegressionMode simulates v7.1.17 (§7.3, §10 optional modes).
func TestRESPRegressionMode(t *testing.T) {
	s := newTestServer(t, func(o *Options) { o.RESPRegression = true })
	rc := dialRESP(t, s)
	rc.send("AUTH", testKey)
	rc.expect("-ERR RESP AUTH disabled; use mTLS\r\n")
	rc.expectClosed()
	// HTTP keeps working and reports the regressed release.
	res := mgmtGet(t, s, "/usage-queue", nil)
	expectHTTP(t, res, 200, `[]`)
	if v := res.header.Get("X-CPA-VERSION"); v != RegressionVersion {
		t.Fatalf("version %q", v)
	}
}

// TestRESPRemoteCaller: RESP takes the caller's IP from the TCP peer, so a
// non-local peer is refused while allow-remote is false (§4.4, §7.3).
func TestRESPRemoteCaller(t *testing.T) {
	for _, tc := range []struct {
		allow bool
		want  string
	}{
		{false, "-ERR remote management disabled\r\n"},
		{true, "+OK\r\n"},
	} {
		s := newTestServer(t, func(o *Options) { o.AllowRemote = tc.allow })
		client, server := net.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.serveRESP(server, bufio.NewReader(server), "10.9.8.7")
		}()
		rc := &respClient{t: t, c: client, br: bufio.NewReader(client)}
		rc.do(tc.want, "AUTH", testKey)
		_ = client.Close()
		<-done
	}
}
