package cpam_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cpam-caddy/cpam/cpasim/simtest"
)

const (
	testTeamKey = "it-team-management-key"
	testRawKey  = "it-raw-upstream-key"
)

// rawUpstream stands in for a CPA-like service behind the management
// proxy that speaks an upgraded protocol: it echoes every byte after a 101
// and records the headers it was sent.
type rawUpstream struct {
	srv *httptest.Server

	mu      sync.Mutex
	headers []http.Header
}

func startRawUpstream(t *testing.T) *rawUpstream {
	t.Helper()
	u := &rawUpstream{}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testRawKey {
			http.Error(w, `{"error":"invalid management key"}`, http.StatusUnauthorized)
			return
		}
		if strings.HasSuffix(r.URL.Path, "/usage-queue") {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, "[]")
			return
		}
		u.mu.Lock()
		u.headers = append(u.headers, r.Header.Clone())
		u.mu.Unlock()
		if r.URL.Path != "/v0/management/echo" || !strings.EqualFold(r.Header.Get("Upgrade"), "cpam-echo") {
			http.NotFound(w, r)
			return
		}
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: cpam-echo\r\n\r\n")
		_ = rw.Flush()
		_, _ = io.Copy(conn, rw)
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *rawUpstream) lastHeaders() http.Header {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.headers) == 0 {
		return nil
	}
	return u.headers[len(u.headers)-1]
}

// multiConfig is a site in front of three CPA upstreams, with the
// management proxy's default matchers.
func multiConfig(dir, mainURL, teamURL, rawURL string) string {
	return fmt.Sprintf(`{
%s	cpam {
		cpa main %s {
			management_key {env.CPAM_IT_MANAGEMENT_KEY}
		}
		cpa team %s {
			management_key {env.CPAM_IT_TEAM_KEY}
		}
		cpa raw %s {
			management_key {env.CPAM_IT_RAW_KEY}
			collector http
			poll_interval 30m
		}
		admin_key {env.CPAM_IT_ADMIN_KEY}
		database %s
	}
}

localhost {
	cpam_api
	cpam_management
	respond "not a cpam route" 404
}
`, testGlobals(dir), mainURL, teamURL, rawURL, filepath.Join(dir, "cpam.db"))
}

// TestManagementProxyUpstreamsAndStreams covers choosing among several CPA
// instances, CPA's removed usage routes answered from the store, an
// upgraded connection and a large upload through the proxy.
func TestManagementProxyUpstreamsAndStreams(t *testing.T) {
	mainSim := startSimulator(t)
	teamSim := simtest.Start(t, testTeamKey, nil) // each upstream gets its own key injected
	raw := startRawUpstream(t)
	t.Setenv("CPAM_IT_MANAGEMENT_KEY", testManagementKey)
	t.Setenv("CPAM_IT_TEAM_KEY", testTeamKey)
	t.Setenv("CPAM_IT_RAW_KEY", testRawKey)
	t.Setenv("CPAM_IT_ADMIN_KEY", testAdminKey)
	dir := t.TempDir()

	tester := newTester(t)
	tester.InitServer(multiConfig(dir, mainSim.URL(), teamSim.URL(), raw.srv.URL), "caddyfile")
	waitForTLS(t, tester)
	client := jarless(tester)
	admin := http.Header{"Authorization": {"Bearer " + testAdminKey}, "Content-Type": {"application/json"}}
	with := func(extra ...string) http.Header {
		h := admin.Clone()
		for i := 0; i+1 < len(extra); i += 2 {
			h.Set(extra[i], extra[i+1])
		}
		return h
	}
	debugOf := func(path string, h http.Header) bool {
		t.Helper()
		status, _, body := send(t, client, http.MethodGet, path, h, "")
		var v struct {
			Debug bool `json:"debug"`
		}
		if status != http.StatusOK || json.Unmarshal([]byte(body), &v) != nil {
			t.Fatalf("GET %s: %d %s", path, status, body)
		}
		return v.Debug
	}

	t.Run("choosing the upstream", func(t *testing.T) {
		status, _, body := send(t, client, http.MethodPut, "/cpa/team/v0/management/debug", admin, `{"value":true}`)
		if status != http.StatusOK {
			t.Fatalf("PUT debug on team: %d %s", status, body)
		}
		if !debugOf("/cpa/team/v0/management/debug", admin) {
			t.Error("team: debug not set through the path selector")
		}
		if !debugOf("/v0/management/debug", with("X-CPAM-Upstream", "team")) {
			t.Error("team: the header selector reached another CPA")
		}
		if debugOf("/v0/management/debug", admin) || debugOf("/cpa/main/v0/management/debug", admin) {
			t.Error("main (the default) changed with team")
		}
		status, _, body = send(t, client, http.MethodGet, "/cpa/nope/v0/management/debug", admin, "")
		if status != http.StatusNotFound || !strings.Contains(body, "main, team, raw") {
			t.Errorf("unknown upstream: %d %s", status, body)
		}
		status, _, _ = send(t, client, http.MethodGet, "/cpa/main/v0/management/debug", with("X-CPAM-Upstream", "team"), "")
		if status != http.StatusBadRequest {
			t.Errorf("path and header disagree: %d, want 400", status)
		}
		status, _, _ = send(t, client, http.MethodGet, "/cpa/team/v0/management/usage-queue?count=5", admin, "")
		if status != http.StatusForbidden {
			t.Errorf("usage-queue through the path selector: %d, want 403", status)
		}
		// Selection happens after authentication: nothing reaches a CPA without the admin key.
		status, _, _ = send(t, client, http.MethodGet, "/cpa/team/v0/management/debug", nil, "")
		if status != http.StatusUnauthorized {
			t.Errorf("no credentials: %d, want 401", status)
		}
	})

	t.Run("removed usage routes come from the store", func(t *testing.T) {
		record := fmt.Sprintf(`{"timestamp":%q,"latency_ms":900,"source":"ops@example.com","auth_index":"0123456789abcdef",`+
			`"tokens":{"input_tokens":120,"output_tokens":30,"total_tokens":150},"failed":false,"provider":"codex",`+
			`"model":"gpt-5","endpoint":"POST /v1/responses","request_id":"0a1b2c3d","api_key":"sk-team-client-key-1"}`,
			time.Now().UTC().Add(-time.Minute).Format(time.RFC3339Nano))
		status, _, body := send(t, client, http.MethodPost, "/cpa/team/v0/management/usage/import",
			with("Content-Type", "application/x-ndjson"), record+"\n")
		if status != http.StatusOK || !strings.Contains(body, `"added":1`) {
			t.Fatalf("import through the proxy: %d %s", status, body)
		}
		total := func(path string, h http.Header) int {
			t.Helper()
			status, hdr, body := send(t, client, http.MethodGet, path, h, "")
			var v struct {
				Usage struct {
					TotalRequests int `json:"total_requests"`
				} `json:"usage"`
			}
			if status != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") || json.Unmarshal([]byte(body), &v) != nil {
				t.Fatalf("GET %s: %d %s", path, status, body)
			}
			return v.Usage.TotalRequests
		}
		// The record belongs to the upstream it was imported through.
		if n := total("/cpa/team/v0/management/usage", admin); n != 1 {
			t.Errorf("team usage: %d requests, want 1", n)
		}
		if n := total("/v0/management/usage", with("X-CPAM-Upstream", "team")); n != 1 {
			t.Errorf("team usage by header: %d requests, want 1", n)
		}
		if n := total("/v0/management/usage", admin); n != 0 {
			t.Errorf("main usage: %d requests, want 0", n)
		}
		// The chosen CPA decides: a query naming another upstream does not widen it.
		if n := total("/cpa/main/v0/management/usage?upstream=team", admin); n != 0 {
			t.Errorf("main usage asked for team's: %d requests, want 0", n)
		}
		status, _, body = send(t, client, http.MethodGet, "/cpa/team/v0/management/usage/export", admin, "")
		if status != http.StatusOK || strings.Count(body, "\n") != 1 || !strings.Contains(body, `"requestId":"0a1b2c3d"`) ||
			strings.Contains(body, "sk-team-client-key-1") {
			t.Errorf("team export: %d %s", status, body)
		}
	})

	t.Run("upgraded connection", func(t *testing.T) {
		conn, err := tls.Dial("tcp", fmt.Sprintf("localhost:%d", httpsPort), &tls.Config{
			InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}, //nolint:gosec // Caddy's internal test CA
		})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(conn, "GET /cpa/raw/v0/management/echo HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\n"+
			"Connection: Upgrade\r\nUpgrade: cpam-echo\r\nCookie: cpam_session=x\r\nX-Forwarded-For: 10.1.2.3\r\n"+
			"X-CPAM-Upstream: raw\r\n\r\n", testAdminKey)
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("upgrade: status %d", resp.StatusCode)
		}
		for _, msg := range []string{"hello over the proxy\n", strings.Repeat("x", 64<<10) + "\n"} {
			if _, err := io.WriteString(conn, msg); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, len(msg))
			if _, err := io.ReadFull(br, got); err != nil || string(got) != msg {
				t.Fatalf("echo of %d bytes: %v", len(msg), err)
			}
		}
		h := raw.lastHeaders()
		if h == nil || h.Get("Authorization") != "Bearer "+testRawKey {
			t.Fatalf("the upstream did not record the upgrade request with its own key: %v", h)
		}
		for _, name := range []string{"Cookie", "X-Forwarded-For", "X-Cpam-Upstream"} {
			if h.Get(name) != "" {
				t.Errorf("%s reached the upstream: %q", name, h.Get(name))
			}
		}
	})

	t.Run("large auth file upload and download", func(t *testing.T) {
		var file bytes.Buffer
		file.WriteString(`{"type":"codex","email":"big@example.com","padding":"`)
		file.WriteString(strings.Repeat("0123456789abcdef", 12<<16)) // 12 MiB
		file.WriteString(`"}`)
		var form bytes.Buffer
		mw := multipart.NewWriter(&form)
		fw, err := mw.CreateFormFile("file", "big.json")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fw.Write(file.Bytes())
		_ = mw.Close()
		req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("https://localhost:%d/v0/management/auth-files", httpsPort), &form)
		req.Header.Set("Authorization", "Bearer "+testAdminKey)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("X-CPAM-Request", "1")
		big := &http.Client{Transport: tester.Client.Transport, Timeout: 60 * time.Second}
		resp, err := big.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("upload: %d %s", resp.StatusCode, body)
		}
		req, _ = http.NewRequest(http.MethodGet, fmt.Sprintf("https://localhost:%d/v0/management/auth-files/download?name=big.json", httpsPort), nil)
		req.Header.Set("Authorization", "Bearer "+testAdminKey)
		resp, err = big.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		h := sha256.New()
		n, err := io.Copy(h, resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("download: %d %v", resp.StatusCode, err)
		}
		want := sha256.Sum256(file.Bytes())
		if !bytes.Equal(h.Sum(nil), want[:]) {
			t.Errorf("downloaded %d bytes that differ from the %d uploaded", n, file.Len())
		}
	})
}
