// Command cpa-sim runs the CPA (CLIProxyAPI v7.2) simulator: one port
// serving the management API, the /v1 proxy routes and the RESP usage
// queue, with optional built-in traffic and fault injection.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/cpam-caddy/cpam/cpasim"
	"github.com/cpam-caddy/cpam/cpasim/mgmt"
)

func main() {
	if err := run(); err != nil {
		log.SetFlags(0)
		log.Fatalf("cpa-sim: %v", err)
	}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func run() error {
	var (
		addr        = flag.String("addr", "127.0.0.1:8317", "listen address")
		mgmtKey     = flag.String("management-key", os.Getenv("CPA_SIM_MANAGEMENT_KEY"), "management secret (default $CPA_SIM_MANAGEMENT_KEY; empty disables management)")
		allowRemote = flag.Bool("allow-remote", false, "allow non-local management callers")
		authDelay   = flag.Duration("auth-delay", cpasim.DefaultAuthDelay, "artificial delay per management key check (models bcrypt); 0 disables")
		configFile  = flag.String("config", "", "initial config.yaml (default: the built-in simulator config)")
		reloadDelay = flag.Duration("reload-delay", 300*time.Millisecond, "simulated hot-reload delay of config writes")
		tlsCert     = flag.String("tls-cert", "", "TLS certificate file (enables TLS with -tls-key)")
		tlsKey      = flag.String("tls-key", "", "TLS key file")
		oldCPA      = flag.Bool("old-cpa", false, "write records as CPA before v7.2.97 (no token_breakdown, client_ip, ...)")
		home        = flag.Bool("home", false, "simulate Home control-plane mode")
		respRegress = flag.Bool("resp-regression", false, "simulate CPA v7.1.17: refuse every RESP connection with -ERR RESP AUTH disabled; use mTLS")
		version     = flag.String("version", "", "X-CPA-VERSION to report (default v7.2.140)")
		deviceOK    = flag.Duration("device-auto-approve", 0, "complete kimi/xai device-flow logins on the first status poll this long after they start (0 = wait for an oauth-callback)")
		latest      = flag.String("latest-version", "", "what /latest-version reports (default: offline, 502 request_failed)")
		panelFile   = flag.String("panel-file", "", "serve this file at /management.html, as CPA serves its panel (default: 404, as with disable-control-panel)")

		trafficRate    = flag.Float64("traffic-rate", 0, "built-in traffic: requests per second (0 = no traffic)")
		trafficModels  = flag.String("traffic-models", "mock-gpt", "built-in traffic: comma-separated models")
		trafficKeys    = flag.String("traffic-keys", cpasim.DefaultClientKey, "built-in traffic: comma-separated client keys")
		trafficStream  = flag.Float64("traffic-stream-ratio", 0.3, "built-in traffic: share of streaming requests")
		trafficFail    = flag.Float64("traffic-failure-ratio", 0.05, "built-in traffic: share of mock-fail requests")
		trafficFor     = flag.Duration("traffic-duration", 0, "built-in traffic: stop after this long (0 = until exit)")
		trafficCount   = flag.Int("traffic-count", 0, "built-in traffic: stop after this many requests (0 = unbounded)")
		latency        = flag.Duration("latency", 0, "fault: added upstream latency per attempt")
		forceStatus    = flag.Int("force-status", 0, "fault: answer /v1 attempts with this upstream status (e.g. 429, 503)")
		forceCount     = flag.Int("force-status-count", -1, "fault: how many attempts -force-status applies to (-1 = all)")
		stall          = flag.Bool("stall-subscribers", false, "fault: never write to RESP subscribers (their buffers overflow)")
		dropEvery      = flag.Duration("drop-every", 0, "fault: close every connection at this interval")
		restartEvery   = flag.Duration("restart-every", 0, "fault: simulate a CPA restart at this interval")
		sniffTimeout   = flag.Duration("sniff-timeout", cpasim.DefaultSniffTimeout, "close connections silent for this long")
		printQueueSize = flag.Duration("status-every", 0, "log queue length and subscribers at this interval")
	)
	flag.Parse()

	opts := cpasim.Options{
		Addr:           *addr,
		ManagementKey:  *mgmtKey,
		AllowRemote:    *allowRemote,
		AuthDelay:      *authDelay,
		Version:        *version,
		Home:           *home,
		RESPRegression: *respRegress,
		OldCPA:         *oldCPA,
		SniffTimeout:   *sniffTimeout,
		ErrorLog:       log.New(os.Stderr, "", log.LstdFlags),
		Management: mgmt.Options{
			ConfigFile:        *configFile,
			ReloadDelay:       *reloadDelay,
			DeviceAutoApprove: *deviceOK,
			LatestVersion:     *latest,
		},
		PanelFile: *panelFile,
	}
	if *authDelay == 0 {
		opts.AuthDelay = -1
	}
	if *tlsCert != "" || *tlsKey != "" {
		cert, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			return fmt.Errorf("load TLS key pair: %w", err)
		}
		opts.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}

	if *trafficRate > 0 && opts.TLSConfig != nil {
		return errors.New("built-in traffic is not supported with TLS")
	}

	srv, err := cpasim.New(opts)
	if err != nil {
		return err
	}
	srv.SetLatency(*latency)
	if *forceStatus != 0 {
		srv.ForceStatus(*forceStatus, *forceCount)
	}
	srv.StallSubscribers(*stall)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	srv.Start()
	fmt.Printf("cpa-sim listening on %s (HTTP and RESP)\n", srv.URL())
	if srv.State().Secret() == "" {
		fmt.Println("cpa-sim: no management key set; management and usage records are disabled")
	}

	done := make(chan error, 4)
	workers := 0
	every := func(d time.Duration, f func()) {
		workers++
		go func() {
			t := time.NewTicker(d)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					done <- nil
					return
				case <-t.C:
					f()
				}
			}
		}()
	}
	if *dropEvery > 0 {
		every(*dropEvery, func() { log.Printf("cpa-sim: dropped %d connections", srv.DropConnections()) })
	}
	if *restartEvery > 0 {
		every(*restartEvery, func() { srv.Restart(); log.Printf("cpa-sim: simulated restart") })
	}
	if *printQueueSize > 0 {
		every(*printQueueSize, func() {
			log.Printf("cpa-sim: queue=%d usage-subscribers=%d errors-subscribers=%d connections=%d",
				srv.QueueLen(), srv.Subscribers(cpasim.ChannelUsage), srv.Subscribers(cpasim.ChannelErrors), srv.OpenConnections())
		})
	}
	if *trafficRate > 0 {
		workers++
		tr := &cpasim.Traffic{
			URL:          srv.URL(),
			Rate:         *trafficRate,
			Models:       splitList(*trafficModels),
			Keys:         splitList(*trafficKeys),
			StreamRatio:  *trafficStream,
			FailureRatio: *trafficFail,
			Duration:     *trafficFor,
			Count:        *trafficCount,
			Seed:         uint64(time.Now().UnixNano()),
		}
		go func() {
			st, err := tr.Run(ctx)
			log.Printf("cpa-sim: traffic done: sent=%d ok=%d failed=%d errors=%d", st.Sent, st.OK, st.Failed, st.Errors)
			done <- err
		}()
	}

	<-ctx.Done()
	fmt.Println("cpa-sim: shutting down")
	err = srv.Close()
	for range workers {
		if werr := <-done; werr != nil && err == nil {
			err = werr
		}
	}
	return err
}
