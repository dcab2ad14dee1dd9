// Command cpam-bench measures caddy-cpam on generated traffic (issue 7):
// ingest through the production path, the raw SQLite insert limit, the
// database size per event, HTTP latency through a real Caddy, export and
// import throughput, Caddy's memory and the live RESP path.
//
//	go run ./cmd/cpam-bench -events 1000000 -out docs/benchmarks.md
//	go run ./cmd/cpam-bench -events 10000 -only ingest,raw,size -runs 1
//
// Progress goes to stderr; the report (Markdown) to stdout, or to -out.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"time"
)

// measurements in the order they run. live runs last: it is the longest
// and the most likely to be cut when time runs out.
var allMeasurements = []string{"ingest", "raw", "size", "http", "memory", "export", "live"}

// config is the command line.
type config struct {
	events       int
	runs         int
	ingestRuns   int
	seed         uint64
	out          string
	only         map[string]bool
	caddy        string
	liveDuration time.Duration
	liveRates    []int
	importLines  int
	keepDir      bool
	cpuProfile   string
	workDir      string
	command      string
}

func (c *config) want(m string) bool { return c.only == nil || c.only[m] }

func parseFlags(args []string) (*config, error) {
	fs := flag.NewFlagSet("cpam-bench", flag.ContinueOnError)
	c := &config{}
	var only, rates string
	fs.IntVar(&c.events, "events", 1_000_000, "events to generate (1M default; 10M for the full run)")
	fs.IntVar(&c.runs, "runs", 5, "measured runs of each measurement, after a warm-up where it has one")
	fs.IntVar(&c.ingestRuns, "ingest-runs", 0, "runs of the ingest and raw-insert measurements, which take minutes each at 10M events (default: -runs)")
	fs.Uint64Var(&c.seed, "seed", 20261127, "generator seed")
	fs.StringVar(&c.out, "out", "", "write the Markdown report to this file (e.g. docs/benchmarks.md) as well as stdout")
	fs.StringVar(&only, "only", "", "comma-separated subset of "+strings.Join(allMeasurements, ","))
	fs.StringVar(&c.caddy, "caddy", "bin/caddy", "Caddy binary with the plugin; built into the work dir when missing or older than the sources")
	fs.DurationVar(&c.liveDuration, "live-duration", 10*time.Second, "how long each live rate is held (the issue's figure is 60s)")
	fs.StringVar(&rates, "live-rates", "1000,2000,5000,10000,20000", "live publish rates, events/s, rising")
	fs.IntVar(&c.importLines, "import-lines", 100_000, "exported lines posted to the import")
	fs.BoolVar(&c.keepDir, "keep", false, "keep the work directory (databases, Caddy logs)")
	fs.StringVar(&c.workDir, "dir", "", "work directory (default: a new temporary directory, removed at the end unless -keep); when ingest is not selected, the database an earlier run with the same -events and -seed left there is measured again")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the harness process (ingest, raw, live) to this file")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if c.events <= 0 || c.runs <= 0 || c.ingestRuns < 0 {
		return nil, fmt.Errorf("-events and -runs must be positive, -ingest-runs positive or 0")
	}
	if c.ingestRuns == 0 {
		c.ingestRuns = c.runs
	}
	if only != "" {
		c.only = map[string]bool{}
		for _, m := range strings.Split(only, ",") {
			m = strings.TrimSpace(m)
			known := false
			for _, a := range allMeasurements {
				known = known || a == m
			}
			if !known {
				return nil, fmt.Errorf("-only: unknown measurement %q (known: %s)", m, strings.Join(allMeasurements, ","))
			}
			c.only[m] = true
		}
	}
	for _, r := range strings.Split(rates, ",") {
		var n int
		if _, err := fmt.Sscan(strings.TrimSpace(r), &n); err != nil || n <= 0 {
			return nil, fmt.Errorf("-live-rates: %q is not a positive rate", r)
		}
		c.liveRates = append(c.liveRates, n)
	}
	c.command = "go run ./cmd/cpam-bench " + strings.Join(args, " ")
	return c, nil
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "cpam-bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "cpam-bench:", err)
			os.Exit(2)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "cpam-bench:", err)
			os.Exit(2)
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	rep, err := run(ctx, cfg)
	if rep != nil {
		md := rep.markdown()
		fmt.Print(md)
		if cfg.out != "" {
			if werr := os.WriteFile(cfg.out, []byte(withKept(md, cfg.out)), 0o644); werr != nil {
				fmt.Fprintln(os.Stderr, "cpam-bench:", werr)
				os.Exit(1)
			}
			logf("report written to %s", cfg.out)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cpam-bench:", err)
		os.Exit(1)
	}
}

// logf prints progress to stderr.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// run performs the selected measurements. It returns the report of what
// was measured even when a later measurement fails.
func run(ctx context.Context, cfg *config) (*report, error) {
	dir := cfg.workDir
	if dir == "" {
		d, err := os.MkdirTemp("", "cpam-bench-")
		if err != nil {
			return nil, err
		}
		dir = d
		if !cfg.keepDir {
			defer os.RemoveAll(dir)
		}
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	rep := newReport(cfg)
	b := &bench{cfg: cfg, dir: dir, rep: rep}
	defer b.cleanup()
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"ingest", b.measureIngest},
		{"raw", b.measureRaw},
		{"size", b.measureSize},
		{"http", b.measureHTTP},
		{"memory", b.measureMemory},
		{"export", b.measureExportImport},
		{"live", b.measureLive},
	}
	for _, s := range steps {
		if !cfg.want(s.name) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		start := time.Now()
		logf("== %s", s.name)
		if err := s.fn(ctx); err != nil {
			rep.errors = append(rep.errors, fmt.Sprintf("%s: %v", s.name, err))
			logf("%s failed: %v", s.name, err)
			continue
		}
		logf("== %s done in %s", s.name, time.Since(start).Round(time.Second))
	}
	rep.finished = time.Now()
	return rep, nil
}
