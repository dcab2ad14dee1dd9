package handlers

import (
	"time"

	"github.com/cpam-caddy/cpam/usage"
)

// Account names a CPA credential for the API's account breakdown.
func (b backend) Account(authIndex string) (usage.Account, bool) {
	return b.app.Runtime().Account(authIndex)
}

// Retention is how long raw events are kept, for the API's /status.
func (b backend) Retention() time.Duration { return b.app.Settings().Retention }
