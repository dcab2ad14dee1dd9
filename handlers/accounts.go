package handlers

import "github.com/cpam-caddy/cpam/usage"

// Account names a CPA credential for the API's account breakdown.
func (b backend) Account(authIndex string) (usage.Account, bool) {
	return b.app.Runtime().Account(authIndex)
}
