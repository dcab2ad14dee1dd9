// Package simtest starts CPA simulators for the tests of other packages:
// on a loopback port, with the given management key, no artificial key
// check delay, and closed when the test ends.
package simtest

import (
	"testing"

	"github.com/cpam-caddy/cpam/cpasim"
)

// Start runs a simulator for t. mut, when not nil, adjusts the options.
func Start(t testing.TB, managementKey string, mut func(*cpasim.Options)) *cpasim.Server {
	t.Helper()
	opts := cpasim.Options{ManagementKey: managementKey, AuthDelay: -1}
	if mut != nil {
		mut(&opts)
	}
	sim, err := cpasim.New(opts)
	if err != nil {
		t.Fatalf("starting the CPA simulator: %v", err)
	}
	sim.Start()
	t.Cleanup(func() { _ = sim.Close() })
	return sim
}
