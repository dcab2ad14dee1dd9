package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Caddy's ports during the benchmark: the admin endpoint and a plain-HTTP
// loopback site (no TLS in the numbers).
const (
	adminPort = 2299
	httpPort  = 9880
)

// caddyProc is a running Caddy.
type caddyProc struct {
	cmd  *exec.Cmd
	base string // http://127.0.0.1:9880
	key  string // admin key
	log  string
	done chan struct{}
}

// caddyBinary returns a Caddy with the plugin: cfg.caddy when it exists
// and is newer than every Go source of the module, else a fresh build in
// the work directory (bin/ is left alone).
func (b *bench) caddyBinary(ctx context.Context) (string, error) {
	bin := b.cfg.caddy
	if fi, err := os.Stat(bin); err == nil {
		newest, src := newestSource(".")
		if !newest.After(fi.ModTime()) {
			return bin, nil
		}
		logf("%s is older than %s: building a fresh Caddy into the work directory", bin, src)
	} else {
		logf("%s not found: building Caddy into the work directory (run make build to reuse it)", bin)
	}
	out := filepath.Join(b.dir, "caddy")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/caddy")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building Caddy: %w", err)
	}
	b.rep.notes = append(b.rep.notes, "Caddy was built by the harness (bin/caddy was missing or older than the sources).")
	return out, nil
}

// newestSource is the newest non-test Go file of the module's packages
// that Caddy is built from (go list -deps ./cmd/caddy), or the embedded
// panel.
func newestSource(root string) (time.Time, string) {
	var newest time.Time
	var name string
	check := func(p string) {
		if fi, err := os.Stat(p); err == nil && fi.ModTime().After(newest) {
			newest, name = fi.ModTime(), p
		}
	}
	check(filepath.Join(root, "web", "dist", "management.html"))
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if .Module}}{{if .Module.Main}}{{.Dir}}{{end}}{{end}}", "./cmd/caddy").Output()
	if err != nil {
		return time.Now(), "the module (go list failed: " + err.Error() + ")"
	}
	for _, dir := range strings.Fields(string(out)) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if n := e.Name(); strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
				check(filepath.Join(dir, n))
			}
		}
	}
	return newest, name
}

// freeLoopbackPort returns a port nobody listens on now (the cpa upstream
// of the bench Caddy: the collector just retries it).
func freeLoopbackPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startCaddy runs Caddy with the cpam app on dbPath.
func (b *bench) startCaddy(ctx context.Context, dbPath, name string) (*caddyProc, error) {
	bin, err := b.caddyBinary(ctx)
	if err != nil {
		return nil, err
	}
	b.cfg.caddy = bin
	cpaPort, err := freeLoopbackPort()
	if err != nil {
		return nil, err
	}
	home := filepath.Join(b.dir, "caddy-home-"+name)
	for _, d := range []string{"data", "config"} {
		if err := os.MkdirAll(filepath.Join(home, d), 0o700); err != nil {
			return nil, err
		}
	}
	caddyfile := fmt.Sprintf(`{
	admin 127.0.0.1:%d
	http_port %d
	auto_https off
	persist_config off
	cpam {
		cpa http://127.0.0.1:%d {
			management_key {env.CPAM_BENCH_CPA_KEY}
		}
		admin_key {env.CPAM_BENCH_ADMIN_KEY}
		database %s
		max_import_size 1GiB
	}
}

http://127.0.0.1:%d {
	cpam_api
}
`, adminPort, httpPort, cpaPort, dbPath, httpPort)
	cf := filepath.Join(home, "Caddyfile")
	if err := os.WriteFile(cf, []byte(caddyfile), 0o600); err != nil {
		return nil, err
	}
	var kb [16]byte
	_, _ = rand.Read(kb[:])
	key := "bench-" + hex.EncodeToString(kb[:])
	logPath := filepath.Join(home, "caddy.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "run", "--config", cf, "--adapter", "caddyfile")
	cmd.Env = append(os.Environ(), "CPAM_BENCH_ADMIN_KEY="+key, "CPAM_BENCH_CPA_KEY=bench-unused-cpa-key",
		"XDG_DATA_HOME="+filepath.Join(home, "data"), "XDG_CONFIG_HOME="+filepath.Join(home, "config"), "HOME="+home)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	p := &caddyProc{cmd: cmd, base: fmt.Sprintf("http://127.0.0.1:%d", httpPort), key: key, log: logPath, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logFile.Close(); close(p.done) }()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		select {
		case <-p.done:
			return nil, fmt.Errorf("caddy exited at start; see %s:\n%s", logPath, tail(logPath, 2000))
		default:
		}
		if code, _, err := p.get(ctx, "/cpam/health"); err == nil && code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			p.stop()
			return nil, fmt.Errorf("caddy did not answer /cpam/health; see %s", logPath)
		}
		time.Sleep(100 * time.Millisecond)
	}
	logf("caddy pid %d serving %s on %s (log %s)", cmd.Process.Pid, dbPath, p.base, logPath)
	return p, nil
}

func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// stop ends Caddy (SIGTERM, then SIGKILL after 20 s).
func (p *caddyProc) stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

var httpClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true}}

func (p *caddyProc) request(ctx context.Context, method, path string, body io.Reader, hdr map[string]string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, p.base+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+p.key)
	req.Header.Set("X-CPAM-Request", "1")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return httpClient.Do(req)
}

// get fetches path and returns the status and the body.
func (p *caddyProc) get(ctx context.Context, path string) (int, []byte, error) {
	resp, err := p.request(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// rss is Caddy's resident memory in bytes (VmRSS).
func (p *caddyProc) rss() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// httpQuery is one query of the latency table.
type httpQuery struct {
	name, path string
	page       bool // an events page (target 20 ms), else analytics (50 ms)
}

// queries lists the requests timed over one period.
func (b *bench) queries(from, to time.Time) []httpQuery {
	period := "from=" + url.QueryEscape(from.UTC().Format(time.RFC3339)) + "&to=" + url.QueryEscape(to.UTC().Format(time.RFC3339))
	qs := []httpQuery{
		{"summary", "/cpam/api/v1/summary?" + period, false},
		{"timeseries 1h, +05:30", "/cpam/api/v1/timeseries?bucket=1h&tz=Asia/Kolkata&" + period, false},
		{"timeseries 1d, +05:30", "/cpam/api/v1/timeseries?bucket=1d&tz=Asia/Kolkata&" + period, false},
	}
	for _, by := range []string{"model", "alias", "provider", "account", "api_key", "endpoint", "upstream", "status"} {
		qs = append(qs, httpQuery{"breakdown by " + by, "/cpam/api/v1/breakdown?by=" + by + "&" + period, false})
	}
	qs = append(qs,
		// Two dimensions at once: what Monitoring asks after a click on a model.
		httpQuery{"breakdown by account, one model", "/cpam/api/v1/breakdown?by=account&model=" + url.QueryEscape(b.topModel) + "&" + period, false},
		httpQuery{"events page (50, model, failed)", "/cpam/api/v1/events?limit=50&failed=true&model=" + url.QueryEscape(b.topModel) + "&" + period, true},
		httpQuery{"failures", "/cpam/api/v1/failures?" + period, false},
	)
	return qs
}

// ensureCaddy starts Caddy on the bench database unless it runs.
func (b *bench) ensureCaddy(ctx context.Context) error {
	if b.caddy != nil {
		return nil
	}
	if err := b.ensureDB(ctx); err != nil {
		return err
	}
	p, err := b.startCaddy(ctx, b.dbPath, "main")
	if err != nil {
		return err
	}
	b.caddy = p
	return nil
}

// measureHTTP times every query over the 30 days and the last 24 hours:
// one warm-up, then cfg.runs timed requests each.
func (b *bench) measureHTTP(ctx context.Context) error {
	if err := b.ensureCaddy(ctx); err != nil {
		return err
	}
	to := b.end.Add(time.Minute).Truncate(time.Minute)
	for _, period := range []struct {
		name     string
		from, to time.Time
	}{
		{"30 days", to.Add(-30 * 24 * time.Hour), to},
		{"last 24 h", to.Add(-24 * time.Hour), to},
	} {
		for _, q := range b.queries(period.from, period.to) {
			var ms []float64
			for i := 0; i <= b.cfg.runs; i++ {
				start := time.Now()
				code, body, err := b.caddy.get(ctx, q.path)
				el := time.Since(start)
				if err != nil {
					return fmt.Errorf("%s: %w", q.name, err)
				}
				if code != http.StatusOK {
					return fmt.Errorf("%s (%s): HTTP %d: %.300s", q.name, q.path, code, body)
				}
				if i > 0 { // the first is the warm-up
					ms = append(ms, float64(el.Microseconds())/1000)
				}
			}
			row := httpRow{query: q.name, period: period.name, page: q.page, ms: newStats(ms)}
			logf("  %-34s %-9s p50 %7.1f ms  p95 %7.1f ms", q.name, period.name, row.ms.percentile(50), row.ms.percentile(95))
			b.rep.http = append(b.rep.http, row)
		}
	}
	return nil
}

// measureMemory reads Caddy's resident memory.
func (b *bench) measureMemory(ctx context.Context) error {
	if err := b.ensureCaddy(ctx); err != nil {
		return err
	}
	rss, err := b.caddy.rss()
	if err != nil {
		return err
	}
	what := "after the HTTP runs"
	if !b.cfg.want("http") {
		what = "idle, after opening the database"
	}
	b.rep.memory = append(b.rep.memory, memRow{when: what, bytes: rss})
	logf("caddy VmRSS %s: %.1f MB", what, float64(rss)/(1<<20))
	return nil
}

// exportOnce streams the export of everything and returns lines/s; the
// first keep lines are written to save (when not empty).
func (b *bench) exportOnce(ctx context.Context, save string, keep int) (float64, int, error) {
	start := time.Now()
	resp, err := b.caddy.request(ctx, http.MethodGet, "/cpam/v0/management/usage/export", nil, nil)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 500))
		return 0, 0, fmt.Errorf("export: HTTP %d: %s", resp.StatusCode, body)
	}
	var w *bufio.Writer
	if save != "" {
		f, err := os.Create(save)
		if err != nil {
			return 0, 0, err
		}
		defer f.Close()
		w = bufio.NewWriterSize(f, 1<<20)
		defer w.Flush()
	}
	r := bufio.NewReaderSize(resp.Body, 1<<20)
	lines := 0
	for {
		line, err := r.ReadSlice('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			if w != nil && lines < keep {
				w.Write(line)
			}
			lines++
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: consume the rest of it.
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = r.ReadSlice('\n')
			}
			lines++
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, 0, err
		}
	}
	return float64(lines) / time.Since(start).Seconds(), lines, nil
}

// measureExportImport times the export of the whole database cfg.runs
// times (after a warm-up), then posts the first importLines exported lines
// into a fresh Caddy and database cfg.runs times.
func (b *bench) measureExportImport(ctx context.Context) error {
	if err := b.ensureCaddy(ctx); err != nil {
		return err
	}
	save := filepath.Join(b.dir, "export-head.ndjson")
	var rates []float64
	lines := 0
	for i := 0; i <= b.cfg.runs; i++ {
		keepTo := ""
		if i == 0 {
			keepTo = save
		}
		rate, n, err := b.exportOnce(ctx, keepTo, b.cfg.importLines)
		if err != nil {
			return err
		}
		if int64(n) != b.stored {
			return fmt.Errorf("export gave %d lines for %d stored events", n, b.stored)
		}
		lines = n
		if i == 0 {
			logf("export warm-up: %.0f events/s", rate)
			continue
		}
		logf("export run %d: %.0f events/s (%d lines)", i, rate, n)
		rates = append(rates, rate)
	}
	b.rep.export = newStats(rates)
	b.rep.exportLines = lines
	if rss, err := b.caddy.rss(); err == nil {
		b.rep.memory = append(b.rep.memory, memRow{when: "after the exports", bytes: rss})
	}

	// Import: a fresh database per run, so that every line is added.
	b.caddy.stop()
	b.caddy = nil
	body, err := os.ReadFile(save)
	if err != nil {
		return err
	}
	n := bytes.Count(body, []byte{'\n'})
	var irates []float64
	for i := 0; i < b.cfg.runs; i++ {
		db := filepath.Join(b.dir, fmt.Sprintf("import-%d", i), "cpam.db")
		p, err := b.startCaddy(ctx, db, fmt.Sprintf("import-%d", i))
		if err != nil {
			return err
		}
		start := time.Now()
		resp, err := p.request(ctx, http.MethodPost, "/cpam/v0/management/usage/import", bytes.NewReader(body),
			map[string]string{"Content-Type": "application/x-ndjson"})
		if err != nil {
			p.stop()
			return err
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		el := time.Since(start)
		p.stop()
		_ = os.RemoveAll(filepath.Dir(db))
		var res struct {
			Added, Skipped, Failed int
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal(out, &res) != nil || res.Added != n {
			return fmt.Errorf("import: HTTP %d, %.300s (want %d added)", resp.StatusCode, out, n)
		}
		rate := float64(n) / el.Seconds()
		logf("import run %d: %.0f events/s (%d added)", i+1, rate, res.Added)
		irates = append(irates, rate)
	}
	b.rep.imp = newStats(irates)
	b.rep.importLines = n
	return nil
}
