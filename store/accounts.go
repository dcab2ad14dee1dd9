package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cpam-caddy/cpam/usage"
)

// accountScanWindow bounds how many of the newest events LatestAccounts
// looks through for a credential it has not seen since the store opened,
// so a credential unused for a long time costs a bounded scan instead of a
// pass over the whole table.
const accountScanWindow = 200000

// accountRecheck is how long LatestAccounts trusts that a credential has
// no attribution before scanning again.
const accountRecheck = 10 * time.Minute

// accountCache remembers the newest attribution per auth_index: commits
// fill it, and LatestAccounts scans the events only for credentials it
// does not hold.
type accountCache struct {
	mu sync.Mutex
	m  map[string]accountEntry
}

type accountEntry struct {
	acc     usage.Account
	found   bool
	checked time.Time // when a scan found nothing
}

// remember records the attribution of committed events (later ones win).
func (c *accountCache) remember(evs []usage.Event) {
	var latest map[string]usage.Account
	for i := range evs {
		e := &evs[i]
		if e.AuthIndex == "" || e.Account == (usage.Account{}) {
			continue
		}
		if latest == nil {
			latest = make(map[string]usage.Account)
		}
		latest[e.AuthIndex] = e.Account
	}
	if latest == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]accountEntry)
	}
	for k, a := range latest {
		c.m[k] = accountEntry{acc: a, found: true}
	}
}

// lookup answers from the cache: the account, and whether the cache knows
// the answer (a recent scan that found nothing counts as known).
func (c *accountCache) lookup(authIndex string, now time.Time) (usage.Account, bool, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[authIndex]
	switch {
	case !ok:
		return usage.Account{}, false, false
	case e.found:
		return e.acc, true, true
	}
	return usage.Account{}, false, now.Sub(e.checked) < accountRecheck
}

// store records the result of a scan, unless a commit got there first.
func (c *accountCache) store(authIndex string, a usage.Account, found bool, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]accountEntry)
	}
	if e, ok := c.m[authIndex]; ok && e.found {
		return
	}
	c.m[authIndex] = accountEntry{acc: a, found: found, checked: now}
}

// LatestAccounts returns, for each auth_index, the credential attribution
// frozen onto its newest stored event. Credentials without one are left
// out. Attributions committed since the store opened are answered from
// memory; others are looked up among the newest accountScanWindow events.
func (s *Store) LatestAccounts(ctx context.Context, authIndexes []string) (map[string]usage.Account, error) {
	out := make(map[string]usage.Account)
	now := time.Now()
	var scan []string
	for _, ai := range authIndexes {
		a, found, known := s.accounts.lookup(ai, now)
		switch {
		case found:
			out[ai] = a
		case !known:
			scan = append(scan, ai)
		}
	}
	if len(scan) == 0 {
		return out, nil
	}
	var maxID int64
	if err := s.rdb.QueryRowContext(ctx, "SELECT coalesce(max(id), 0) FROM events").Scan(&maxID); err != nil {
		return nil, fmt.Errorf("store: reading accounts: %w", err)
	}
	floor := maxID - accountScanWindow
	for _, ai := range scan {
		a, found, err := s.scanAccount(ctx, ai, floor)
		if err != nil {
			return nil, err
		}
		s.accounts.store(ai, a, found, now)
		if found {
			out[ai] = a
		}
	}
	return out, nil
}

// scanAccount reads the attribution on the newest event of authIndex whose
// row id is above floor.
func (s *Store) scanAccount(ctx context.Context, authIndex string, floor int64) (usage.Account, bool, error) {
	ids, err := s.lookupIDs(ctx, kAuthIndex, []string{authIndex})
	if err != nil {
		return usage.Account{}, false, err
	}
	if len(ids) != 1 || ids[0] == 0 {
		return usage.Account{}, false, nil
	}
	var accID int64
	err = s.rdb.QueryRowContext(ctx, "SELECT account FROM events WHERE id > ? AND auth_index = ? AND account != 0 ORDER BY id DESC LIMIT 1",
		floor, ids[0]).Scan(&accID)
	if errors.Is(err, sql.ErrNoRows) {
		return usage.Account{}, false, nil
	}
	if err != nil {
		return usage.Account{}, false, fmt.Errorf("store: reading the account of %s: %w", authIndex, err)
	}
	names, err := s.resolve(ctx, map[int64]struct{}{accID: {}})
	if err != nil {
		return usage.Account{}, false, err
	}
	var a accountJSON
	if err := json.Unmarshal([]byte(names[accID].value), &a); err != nil {
		return usage.Account{}, false, fmt.Errorf("store: decoding account of %s: %w", authIndex, err)
	}
	return usage.Account(a), true, nil
}
