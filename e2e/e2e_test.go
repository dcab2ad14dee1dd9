// Package e2e runs the built binaries (Caddy with caddy-cpam, and the CPA
// simulator) as real processes, for what only a process can show: a
// kill -9 in the middle of ingesting.
package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/cpam-caddy/cpam/collector"
	"github.com/cpam-caddy/cpam/cpasim"
)

var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cpam-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	for _, pkg := range []string{"caddy", "cpa-sim"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, pkg), "github.com/cpam-caddy/cpam/cmd/"+pkg)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "building %s: %v\n", pkg, err)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// process is a started binary whose output goes to a log file.
type process struct {
	cmd *exec.Cmd
	log string
}

func start(t *testing.T, dir, name string, env []string, args ...string) *process {
	t.Helper()
	logPath := filepath.Join(dir, name+fmt.Sprint(time.Now().UnixNano())+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(binDir, name), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	p := &process{cmd: cmd, log: logPath}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("%s log:\n%s", name, tail(string(b), 4000))
		}
	})
	return p
}

func (p *process) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func get(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func delivery(t *testing.T, simURL string) cpasim.DeliveryStats {
	t.Helper()
	code, body := get(simURL + cpasim.SimStatsPath)
	var st cpasim.DeliveryStats
	if code != http.StatusOK || json.Unmarshal([]byte(body), &st) != nil {
		t.Fatalf("simulator stats: %d %s", code, body)
	}
	return st
}

// chat sends n chat completions through the simulator.
func chat(t *testing.T, simURL string, n int) {
	t.Helper()
	for i := range n {
		req, _ := http.NewRequest(http.MethodPost, simURL+"/v1/chat/completions",
			strings.NewReader(fmt.Sprintf(`{"model":"mock-gpt","messages":[{"role":"user","content":"hello %d"}]}`, i)))
		req.Header.Set("Authorization", "Bearer sk-cpa-test-1")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("chat %d: status %d", i, resp.StatusCode)
		}
	}
}

// collectorStatus reads the single collector's status from /cpam/status.
func collectorStatus(t *testing.T, port int, adminKey string) collector.Status {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/cpam/status", port), nil)
	req.Header.Set("Authorization", "Bearer "+adminKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Collectors []collector.Status `json:"collectors"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&body) != nil || len(body.Collectors) != 1 {
		t.Fatalf("/cpam/status: %d", resp.StatusCode)
	}
	return body.Collectors[0]
}

func countEvents(t *testing.T, path string) int64 {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	if err := db.QueryRow("SELECT count(*) FROM events").Scan(&n); err != nil {
		return -1 // not created yet
	}
	return n
}

// TestKilledWhileTheDatabaseIsLocked kills Caddy with -9 while records it
// received sit in its spool because the database refuses writes, then
// starts it again: the spool is replayed and every record CPA delivered is
// stored exactly once, plus what CPA queued while Caddy was down.
func TestKilledWhileTheDatabaseIsLocked(t *testing.T) {
	dir := t.TempDir()
	const key = "e2e-management-key"
	simPort, sitePort := freePort(t), freePort(t)
	simURL := fmt.Sprintf("http://127.0.0.1:%d", simPort)
	start(t, dir, "cpa-sim", nil, "-addr", fmt.Sprintf("127.0.0.1:%d", simPort), "-management-key", key,
		"-auth-delay", "0", "-reload-delay", "0")
	waitFor(t, "the simulator", func() bool { code, _ := get(simURL + "/healthz"); return code == http.StatusOK })

	db := filepath.Join(dir, "cpam.db")
	caddyfile := filepath.Join(dir, "Caddyfile")
	cfg := fmt.Sprintf(`{
	admin off
	persist_config off
	storage file_system %s
	cpam {
		cpa %s {
			management_key {env.E2E_MANAGEMENT_KEY}
		}
		admin_key {env.E2E_ADMIN_KEY}
		database %s
	}
}

http://127.0.0.1:%d {
	cpam_api
}
`, filepath.Join(dir, "storage"), simURL, db, sitePort)
	if err := os.WriteFile(caddyfile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	const adminKey = "e2e-admin-key-0123456789"
	env := []string{"E2E_MANAGEMENT_KEY=" + key, "E2E_ADMIN_KEY=" + adminKey, "XDG_DATA_HOME=" + filepath.Join(dir, "data"), "XDG_CONFIG_HOME=" + filepath.Join(dir, "config")}
	runCaddy := func() *process {
		p := start(t, dir, "caddy", env, "run", "--config", caddyfile, "--adapter", "caddyfile")
		health := fmt.Sprintf("http://127.0.0.1:%d/cpam/health", sitePort)
		waitFor(t, "Caddy", func() bool { code, _ := get(health); return code == http.StatusOK })
		return p
	}

	caddy := runCaddy()
	waitFor(t, "the collector's subscription", func() bool { return delivery(t, simURL).Subscriptions == 1 })
	chat(t, simURL, 100)
	waitFor(t, "the first 100 records", func() bool { return countEvents(t, db) == 100 })

	// Hold the database's write lock: Caddy's commits now fail and retry,
	// and what it receives stays in its spool.
	lock, err := sql.Open("sqlite", "file:"+db)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	ctx := context.Background()
	conn, err := lock.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	chat(t, simURL, 150)
	waitFor(t, "CPA to hand every record to the subscriber", func() bool {
		st := delivery(t, simURL)
		return st.Published == st.Produced && st.Queued == 0
	})
	// Records CPA wrote to the socket are only safe once Caddy has read them
	// into its spool; a kill before that loses them in the kernel's buffer.
	waitFor(t, "the records in Caddy's spool", func() bool {
		st := collectorStatus(t, sitePort, adminKey)
		return st.Received == 250 && st.SpoolDepth == 150
	})
	if n := countEvents(t, db); n != 100 {
		t.Fatalf("%d events stored while the database was locked", n)
	}

	caddy.kill(t)
	// Until CPA notices the dead subscriber it still writes to it (the
	// kernel accepts the bytes), and those records are lost by CPA itself.
	waitFor(t, "CPA to drop the dead subscriber", func() bool { return delivery(t, simURL).Subscribers == 0 })
	chat(t, simURL, 40) // queued by CPA while nobody is subscribed
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	conn.Close()

	runCaddy()
	deadline := time.Now().Add(60 * time.Second)
	for {
		st := delivery(t, simURL)
		n := countEvents(t, db)
		if st.Subscriptions == 2 && n == st.Deliverable() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the restart: stored %d, CPA could deliver %d (%+v)", n, st.Deliverable(), st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	st := delivery(t, simURL)
	if got := countEvents(t, db); got != 290 || st.Deliverable() != 290 {
		t.Errorf("stored %d, CPA could deliver %d (%+v); want 290 of each", got, st.Deliverable(), st)
	}
}
