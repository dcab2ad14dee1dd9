package module

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/cpam-caddy/cpam/api"
	"github.com/cpam-caddy/cpam/collector"
	"github.com/cpam-caddy/cpam/store"
	"github.com/cpam-caddy/cpam/usage"
)

// Runtime is the long-lived part of caddy-cpam: the open database and the
// background work that runs against it. One Runtime exists per database file
// and process; it survives config reloads (each new config swaps in its
// settings) and is destroyed when the last config using it is cleaned up.
type Runtime struct {
	store      *store.Store
	auth       *api.Auth
	instanceID string
	startedAt  time.Time

	settings   atomic.Pointer[Settings]
	generation atomic.Int64

	// metrics outlive configurations; see metrics.go.
	metrics *runtimeMetrics

	mu         sync.Mutex
	collection *collection
}

// newRuntime opens the database at path. It starts nothing.
func newRuntime(ctx context.Context, path string) (*Runtime, error) {
	st, err := store.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	id := make([]byte, 8)
	if _, err := rand.Read(id); err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("generating instance id: %w", err)
	}
	rt := &Runtime{store: st, instanceID: hex.EncodeToString(id), startedAt: time.Now().UTC(), metrics: newRuntimeMetrics()}
	rt.auth = api.NewAuth(api.AuthOptions{Store: st, Logger: caddy.Log().Named("cpam.auth")})
	runtimesOpened.Add(1)
	return rt, nil
}

// runtimesOpened counts Runtimes created by this process, for tests that
// prove a reload reuses the running one.
var runtimesOpened atomic.Int64

// Store returns the database.
func (rt *Runtime) Store() *store.Store { return rt.store }

// Auth authenticates the API and the management proxy. It is shared by all
// handlers and configurations, so failed-attempt counts survive reloads.
func (rt *Runtime) Auth() *api.Auth { return rt.auth }

// InstanceID identifies this Runtime; it stays the same across reloads.
func (rt *Runtime) InstanceID() string { return rt.instanceID }

// StartedAt is when this Runtime was created.
func (rt *Runtime) StartedAt() time.Time { return rt.startedAt }

// Generation counts the configurations applied to this Runtime: 1 after the
// first start, one more after every reload.
func (rt *Runtime) Generation() int64 { return rt.generation.Load() }

// Settings returns the settings of the configuration currently in force, or
// nil before the first configuration has started.
func (rt *Runtime) Settings() *Settings { return rt.settings.Load() }

// apply swaps in the settings of a configuration that is starting and
// brings usage collection in line with them: the first start opens the
// spool and starts the ingester; collectors whose upstream settings did not
// change keep running.
func (rt *Runtime) apply(s *Settings) error {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	logger := caddy.Log().Named("cpam")
	if err := ensureAdminKey(context.Background(), rt.store, s, logger); err != nil {
		return err
	}
	rt.auth.SetConfig(authConfig(s))
	if rt.collection == nil {
		col, err := startCollection(rt.store, logger.Named("ingest"), nil)
		if err != nil {
			return fmt.Errorf("starting usage collection: %w", err)
		}
		rt.collection = col
	}
	rt.collection.setRetention(s.Retention)
	rt.collection.apply(s.Upstreams, logger.Named("collector"))
	rt.settings.Store(s)
	rt.generation.Add(1)
	return nil
}

// CollectorStatus returns the status of every CPA upstream's collector.
func (rt *Runtime) CollectorStatus() []collector.Status {
	rt.mu.Lock()
	col := rt.collection
	rt.mu.Unlock()
	if col == nil {
		return nil
	}
	return col.statuses()
}

// Normalizer returns the normaliser the collector uses (it hashes client
// API keys under this database's secret and costs events), or nil before
// usage collection has started.
func (rt *Runtime) Normalizer() *usage.Normalizer {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.collection == nil {
		return nil
	}
	return rt.collection.norm
}

// PricesChanged rebuilds the price book from the built-in prices and those
// stored in the database, so new events are costed with them.
func (rt *Runtime) PricesChanged(ctx context.Context) error {
	norm := rt.Normalizer()
	if norm == nil {
		return nil // the next start reads the stored prices
	}
	book, err := priceBook(ctx, rt.store)
	if err != nil {
		return err
	}
	norm.SetPrices(book)
	return nil
}

// Account returns what CPA last said about the credential with this
// auth_index, looking through every configured upstream.
func (rt *Runtime) Account(authIndex string) (usage.Account, bool) {
	rt.mu.Lock()
	col := rt.collection
	rt.mu.Unlock()
	s := rt.settings.Load()
	if col == nil || s == nil {
		return usage.Account{}, false
	}
	for _, up := range s.Upstreams {
		if a, ok := col.attr.Lookup(up.Name, authIndex); ok {
			return a, true
		}
	}
	return usage.Account{}, false
}

// Destruct stops usage collection and closes the database. The usage pool
// calls it when the last configuration referring to this database is gone.
func (rt *Runtime) Destruct() error {
	rt.mu.Lock()
	col := rt.collection
	rt.collection = nil
	rt.mu.Unlock()
	var err error
	if col != nil {
		err = col.stop()
	}
	if cerr := rt.store.Close(); err == nil {
		err = cerr
	}
	return err
}
