package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cpam-caddy/cpam/usage"
)

// accountScanWindow bounds how many of the newest events LatestAccounts
// looks through per credential, so a credential unused for a long time
// costs a bounded scan instead of a pass over the whole table.
const accountScanWindow = 200000

// LatestAccounts returns, for each auth_index, the credential attribution
// frozen onto its newest stored event (among the newest
// accountScanWindow events). Credentials without one are left out.
func (s *Store) LatestAccounts(ctx context.Context, authIndexes []string) (map[string]usage.Account, error) {
	out := make(map[string]usage.Account)
	if len(authIndexes) == 0 {
		return out, nil
	}
	var maxID int64
	if err := s.rdb.QueryRowContext(ctx, "SELECT coalesce(max(id), 0) FROM events").Scan(&maxID); err != nil {
		return nil, fmt.Errorf("store: reading accounts: %w", err)
	}
	floor := maxID - accountScanWindow
	for _, ai := range authIndexes {
		ids, err := s.lookupIDs(ctx, kAuthIndex, []string{ai})
		if err != nil {
			return nil, err
		}
		if len(ids) != 1 || ids[0] == 0 {
			continue
		}
		var accID int64
		err = s.rdb.QueryRowContext(ctx, "SELECT account FROM events WHERE id > ? AND auth_index = ? AND account != 0 ORDER BY id DESC LIMIT 1",
			floor, ids[0]).Scan(&accID)
		if errors.Is(err, sql.ErrNoRows) {
			continue // no snapshot in the window
		}
		if err != nil {
			return nil, fmt.Errorf("store: reading the account of %s: %w", ai, err)
		}
		names, err := s.resolve(ctx, map[int64]struct{}{accID: {}})
		if err != nil {
			return nil, err
		}
		var a accountJSON
		if err := json.Unmarshal([]byte(names[accID].value), &a); err != nil {
			return nil, fmt.Errorf("store: decoding account of %s: %w", ai, err)
		}
		out[ai] = usage.Account(a)
	}
	return out, nil
}
