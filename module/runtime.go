package module

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/cpam-caddy/cpam/store"
)

// Runtime is the long-lived part of caddy-cpam: the open database and the
// background work that runs against it. One Runtime exists per database file
// and process; it survives config reloads (each new config swaps in its
// settings) and is destroyed when the last config using it is cleaned up.
type Runtime struct {
	store      *store.Store
	instanceID string
	startedAt  time.Time

	settings   atomic.Pointer[Settings]
	generation atomic.Int64
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
	rt := &Runtime{store: st, instanceID: hex.EncodeToString(id), startedAt: time.Now().UTC()}
	runtimesOpened.Add(1)
	return rt, nil
}

// runtimesOpened counts Runtimes created by this process, for tests that
// prove a reload reuses the running one.
var runtimesOpened atomic.Int64

// Store returns the database.
func (rt *Runtime) Store() *store.Store { return rt.store }

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

// apply swaps in the settings of a configuration that is starting.
func (rt *Runtime) apply(s *Settings) {
	rt.settings.Store(s)
	rt.generation.Add(1)
}

// Destruct closes the database. The usage pool calls it when the last
// configuration referring to this database is gone.
func (rt *Runtime) Destruct() error {
	return rt.store.Close()
}
