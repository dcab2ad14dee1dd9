// Package cpasim is a protocol-faithful stand-in for CLIProxyAPI (CPA)
// v7.2 for tests. One TCP listener serves HTTP and RESP (first-byte
// sniffing, optional TLS). The transport side lives here: management key
// authentication with CPA's failed-attempt IP ban (shared by HTTP and
// RESP), the usage queue with its HTTP and RESP pops, the usage and errors
// Pub/Sub channels, the simulated /v1 proxy routes that produce one usage
// record per upstream attempt (with failover, error logs and request logs),
// the OAuth redirect routes, fault injection and a traffic generator.
//
// Everything else under /v0/management (configuration, credentials, auth
// files, counters, logs, api-call, OAuth flows) is served by package mgmt;
// Server.State returns the simulator's mgmt.State.
//
// Start a simulator with New and Start (or Serve); it listens on
// 127.0.0.1 with a random port unless Options.Addr says otherwise.
package cpasim

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cpam-caddy/cpam/cpasim/mgmt"
)

// Defaults of a release build of the reference version.
const (
	DefaultVersion      = "v7.2.140"
	DefaultCommit       = "a7e3596b7"
	DefaultBuildDate    = "2026-08-22T00:00:00Z"
	DefaultAuthDelay    = 70 * time.Millisecond
	DefaultSniffTimeout = 10 * time.Second
	// OldVersion is the version an "old CPA" simulator reports: the last
	// release before token_breakdown and the client fields.
	OldVersion = "v7.2.96"
	// RegressionVersion is the release whose RESP listener refused every
	// connection; see Options.RESPRegression.
	RegressionVersion = "v7.1.17"
)

// Options configures a Server.
type Options struct {
	// Addr is the listen address; "" means 127.0.0.1:0.
	Addr string
	// Listener, when set, is used instead of listening on Addr.
	Listener net.Listener
	// ManagementKey is the plaintext management secret. When it is "" and
	// the configuration names no secret either, management is disabled
	// (bare 404s, RESP refused) and no usage records are produced.
	ManagementKey string
	// AllowRemote mirrors remote-management.allow-remote.
	AllowRemote bool
	// AuthDelay models the bcrypt cost of each key verification. Zero
	// means DefaultAuthDelay; a negative value disables the delay.
	AuthDelay time.Duration
	// Version, Commit and BuildDate fill the X-CPA-* headers.
	Version, Commit, BuildDate string
	// NoPluginSupport reports X-CPA-SUPPORT-PLUGIN: 0 instead of 1.
	NoPluginSupport bool
	// TLSConfig enables TLS on the listener. When ALPN selects h2 or
	// http/1.1 the connection is HTTP; otherwise the decrypted stream is
	// sniffed.
	TLSConfig *tls.Config
	// Home simulates Home control-plane mode: management answers bare 404s
	// and RESP connections are refused.
	Home bool
	// RESPRegression simulates CPA v7.1.17, which answered every RESP
	// connection with "-ERR RESP AUTH disabled; use mTLS" and closed it.
	// The simulator reports RegressionVersion unless Version is set; the
	// record shape is still governed by OldCPA.
	RESPRegression bool
	// OldCPA writes records as CPA did before v7.2.97 (no
	// accounting_version, token_breakdown, client_ip, x_forwarded_for,
	// user_agent) and reports OldVersion unless Version is set.
	OldCPA bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// SniffTimeout is how long a new connection may stay silent; zero
	// means DefaultSniffTimeout.
	SniffTimeout time.Duration
	// Management is the base configuration of the management plane
	// (initial config document, auth files, reload delay, ...).
	// ManagementKey, AllowRemote and Now above take precedence when set.
	Management mgmt.Options
	// ErrorLog receives transport errors; nil discards them.
	ErrorLog *log.Logger
	// PanelFile, when set, is served at /management.html (read on every
	// request), as CPA serves its bundled panel. Empty means
	// disable-control-panel: the path answers 404.
	PanelFile string
}

// Server is a running CPA simulator.
type Server struct {
	opts  Options
	state *mgmt.State

	ln     net.Listener
	httpLn *connListener
	http   *http.Server

	guard  *guard
	queue  *usageQueue
	hub    *hub
	disp   *dispatcher
	faults faults

	// popMu makes a queue pop and the write of its reply one step for the
	// faults that close connections (read-locked by pops, write-locked by
	// DropConnections and Restart). CPA's pops are destructive, so a reply
	// cut off in flight loses records no consumer could have saved; the
	// simulated faults model failures between replies, so tests can demand
	// that a collector loses nothing it could have kept.
	popMu sync.RWMutex

	// Delivery counters (see DeliveryStats).
	produced, published, lost, discarded atomic.Int64
	conns                                connSet
	up                                   upstream

	// Seams for tests; default to the State's accessors.
	seamMu    sync.RWMutex
	credsSeam func(model string) []mgmt.Credential
	retrySeam func() int

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	handlersMu sync.Mutex
	handlersCv *sync.Cond
	handlers   int
	closing    bool

	startOnce sync.Once
	closeOnce sync.Once
	closeErr  error
}

// New creates a simulator and starts listening; call Start or Serve to
// accept connections.
func New(opts Options) (*Server, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	switch {
	case opts.AuthDelay == 0:
		opts.AuthDelay = DefaultAuthDelay
	case opts.AuthDelay < 0:
		opts.AuthDelay = 0
	}
	if opts.Version == "" {
		switch {
		case opts.RESPRegression:
			opts.Version = RegressionVersion
		case opts.OldCPA:
			opts.Version = OldVersion
		default:
			opts.Version = DefaultVersion
		}
	}
	if opts.Commit == "" {
		opts.Commit = DefaultCommit
	}
	if opts.BuildDate == "" {
		opts.BuildDate = DefaultBuildDate
	}
	if opts.SniffTimeout <= 0 {
		opts.SniffTimeout = DefaultSniffTimeout
	}
	if opts.ErrorLog == nil {
		opts.ErrorLog = log.New(io.Discard, "", 0)
	}
	if opts.TLSConfig != nil {
		opts.TLSConfig = opts.TLSConfig.Clone()
		if len(opts.TLSConfig.NextProtos) == 0 {
			opts.TLSConfig.NextProtos = []string{"h2", "http/1.1"}
		}
	}
	mo := opts.Management
	if opts.ManagementKey != "" {
		mo.SecretKey = opts.ManagementKey
	}
	mo.AllowRemote = mo.AllowRemote || opts.AllowRemote
	if mo.Now == nil {
		mo.Now = opts.Now
	}
	state, err := mgmt.LoadState(mo)
	if err != nil {
		return nil, fmt.Errorf("cpasim: management state: %w", err)
	}

	ln := opts.Listener
	if ln == nil {
		ln, err = net.Listen("tcp", opts.Addr)
		if err != nil {
			state.Close()
			return nil, fmt.Errorf("cpasim: listen on %s: %w", opts.Addr, err)
		}
	}

	s := &Server{opts: opts, state: state, ln: ln}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.handlersCv = sync.NewCond(&s.handlersMu)
	s.credsSeam = s.state.Credentials
	s.retrySeam = s.state.RequestRetry
	s.guard = newGuard(opts.Now, opts.AuthDelay, s.state.Secret, s.state.AllowRemote)
	s.queue = newUsageQueue(opts.Now, func() time.Duration {
		return time.Duration(s.state.RetentionSeconds()) * time.Second
	})
	s.hub = newHub()
	s.disp = newDispatcher(s.deliver)
	s.faults.init()
	s.up.init()
	s.conns.init()
	s.httpLn = newConnListener(ln.Addr())
	s.http = &http.Server{
		Handler:           s.topHandler(),
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          opts.ErrorLog,
		BaseContext:       func(net.Listener) context.Context { return s.ctx },
	}
	s.state.OnReload(s.handleReload)
	return s, nil
}

// State returns the management plane of the simulator.
func (s *Server) State() *mgmt.State { return s.state }

// Addr returns the listen address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// URL returns the base URL of the simulator, e.g. http://127.0.0.1:8317.
func (s *Server) URL() string {
	scheme := "http"
	if s.opts.TLSConfig != nil {
		scheme = "https"
	}
	return scheme + "://" + s.ln.Addr().String()
}

// Start begins accepting connections in the background. It is a no-op
// after the first call.
func (s *Server) Start() {
	s.startOnce.Do(func() {
		s.wg.Add(3)
		go func() {
			defer s.wg.Done()
			s.acceptLoop()
		}()
		go func() {
			defer s.wg.Done()
			if err := s.http.Serve(s.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.opts.ErrorLog.Printf("cpasim: http serve: %v", err)
			}
		}()
		go func() {
			defer s.wg.Done()
			s.disp.run(s.ctx)
		}()
	})
}

// Serve starts the simulator and blocks until ctx is done or Close is
// called, then shuts it down.
func (s *Server) Serve(ctx context.Context) error {
	s.Start()
	select {
	case <-ctx.Done():
	case <-s.ctx.Done():
	}
	return s.Close()
}

// Close stops the listener, closes every connection and subscriber, and
// waits for every goroutine the server started.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		s.state.Close()
		if err := s.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			s.closeErr = fmt.Errorf("cpasim: close listener: %w", err)
		}
		s.faults.release()
		s.hub.close()
		_ = s.http.Close()
		s.httpLn.Close()
		s.conns.closeAll()
		s.wg.Wait()
		s.handlersMu.Lock()
		s.closing = true
		for s.handlers > 0 {
			s.handlersCv.Wait()
		}
		s.handlersMu.Unlock()
	})
	return s.closeErr
}

// enterHandler registers a running HTTP handler so Close can wait for it.
func (s *Server) enterHandler() bool {
	s.handlersMu.Lock()
	defer s.handlersMu.Unlock()
	if s.closing || s.ctx.Err() != nil {
		return false
	}
	s.handlers++
	return true
}

func (s *Server) leaveHandler() {
	s.handlersMu.Lock()
	s.handlers--
	if s.handlers == 0 {
		s.handlersCv.Broadcast()
	}
	s.handlersMu.Unlock()
}

// credentials returns the credentials to try for model, in order.
func (s *Server) credentials(model string) []mgmt.Credential {
	s.seamMu.RLock()
	f := s.credsSeam
	s.seamMu.RUnlock()
	return f(model)
}

// requestRetry returns how many further credentials a request may try.
func (s *Server) requestRetry() int {
	s.seamMu.RLock()
	f := s.retrySeam
	s.seamMu.RUnlock()
	return f()
}

// setUpstreamSeams replaces the credential source and retry setting;
// nil keeps the current one.
func (s *Server) setUpstreamSeams(creds func(string) []mgmt.Credential, retry func() int) {
	s.seamMu.Lock()
	defer s.seamMu.Unlock()
	if creds != nil {
		s.credsSeam = creds
	}
	if retry != nil {
		s.retrySeam = retry
	}
}

// managementAvailable is CPA's availability gate.
func (s *Server) managementAvailable() bool {
	return !s.opts.Home && s.state.Secret() != ""
}

// usageEnabled reports whether usage records are produced at all.
func (s *Server) usageEnabled() bool {
	return !s.opts.Home && s.state.Secret() != "" && s.state.UsageStatisticsEnabled()
}

// handleReload runs after every configuration change of the State.
func (s *Server) handleReload() {
	if s.state.Secret() == "" {
		s.queue.clear()
		s.hub.dropAll()
		return
	}
	s.disp.submit(item{channel: ChannelUsage, data: msgRefresh, publishOnly: true})
}

// deliver hands one dispatched item to subscribers or the queue.
func (s *Server) deliver(it item) {
	if !s.managementAvailable() {
		return
	}
	had, delivered := s.hub.publish(it.channel, it.data)
	if it.channel == ChannelUsage && !it.publishOnly {
		s.produced.Add(1)
		switch {
		case delivered > 0:
			s.published.Add(1)
		case had:
			s.lost.Add(1)
		}
	}
	if had || it.publishOnly {
		return
	}
	s.queue.enqueue(it.data)
}

// discard counts a usage record a subscriber will never receive.
func (s *Server) discard(sub *subscriber, msg []byte) {
	if sub.channel == ChannelUsage && !bytes.Equal(msg, msgSupportRefresh) && !bytes.Equal(msg, msgRefresh) {
		s.discarded.Add(1)
	}
}

// DeliveryStats counts what happened to the usage records the simulator
// produced, so a test can tell the records CPA itself lost (expired in the
// queue, cleared by a restart, overflowing the only subscriber) from those
// a consumer lost.
type DeliveryStats struct {
	// Produced counts usage records handed to subscribers or the queue.
	Produced int64 `json:"produced"`
	// Published counts records at least one subscriber took.
	Published int64 `json:"published"`
	// Lost counts records that overflowed every subscriber they met.
	Lost int64 `json:"lost"`
	// Discarded counts records a subscriber had buffered but never received
	// because its connection ended first (per subscriber).
	Discarded int64 `json:"discarded"`
	// Queued, Popped, Expired and Cleared follow the usage queue.
	Queued  int64 `json:"queued"`
	Popped  int64 `json:"popped"`
	Expired int64 `json:"expired"`
	Cleared int64 `json:"cleared"`
	// Subscriptions counts SUBSCRIBE usage commands accepted.
	Subscriptions int64 `json:"subscriptions"`
	// Subscribers is the number of usage subscribers attached now.
	Subscribers int64 `json:"subscribers"`
}

// Deliverable is what a consumer could have received: every record
// produced except those CPA itself lost.
func (d DeliveryStats) Deliverable() int64 {
	return d.Produced - d.Lost - d.Discarded - d.Expired - d.Cleared
}

// DeliveryStats returns the delivery counters since the server started.
func (s *Server) DeliveryStats() DeliveryStats {
	s.hub.mu.Lock()
	subs := s.hub.usageSubscriptions
	attached := int64(len(s.hub.subs[ChannelUsage]))
	s.hub.mu.Unlock()
	s.queue.mu.Lock()
	defer s.queue.mu.Unlock()
	return DeliveryStats{
		Subscriptions: subs,
		Subscribers:   attached,
		Produced:      s.produced.Load(), Published: s.published.Load(), Lost: s.lost.Load(), Discarded: s.discarded.Load(),
		Queued: s.queue.queued, Popped: s.queue.popped, Expired: s.queue.expired, Cleared: s.queue.cleared,
	}
}

// Sync waits until every record and event submitted before the call has
// been published or queued.
func (s *Server) Sync(ctx context.Context) error {
	return s.disp.sync(ctx)
}

// QueueLen returns the number of records waiting in the usage queue.
func (s *Server) QueueLen() int { return s.queue.len() }

// Subscribers returns the number of subscribers of a channel.
func (s *Server) Subscribers(channel string) int { return s.hub.count(channel) }
