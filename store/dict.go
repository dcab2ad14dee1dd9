package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// dictKind separates the namespaces of the dict table. The values are part
// of the on-disk format.
type dictKind uint8

const (
	kUpstream        dictKind = 1
	kModel           dictKind = 2 // model and alias
	kProvider        dictKind = 3
	kExecutor        dictKind = 4
	kEndpoint        dictKind = 5
	kAuthIndex       dictKind = 6
	kAuthType        dictKind = 7
	kAPIKey          dictKind = 8  // value: key hash; mask: displayable form
	kSource          dictKind = 9  // value: "<kind>:<hash or value>"; mask for hashed keys
	kUserAgent       dictKind = 10 // downstream User-Agent
	kClientIP        dictKind = 11
	kServiceTier     dictKind = 12 // requested and response tiers
	kReasoningEffort dictKind = 13
	kAccount         dictKind = 14 // JSON of usage.Account
	kAccessToken     dictKind = 15 // access_token_sha256
	kRequestID       dictKind = 16 // request ids that are not 8 lowercase hex
)

// dictKey identifies a dictionary entry.
type dictKey struct {
	kind  dictKind
	value string
}

// dictEntry is a decoded dictionary row.
type dictEntry struct {
	kind  dictKind
	value string
	mask  string
}

// dictCache is the writer's value -> id cache. It is touched only by the
// writer goroutine. Entries added by a transaction are logged so that a
// rolled-back savepoint or transaction removes them again.
type dictCache struct {
	ids [dictKinds]map[string]int64 // by kind, then value (faster than one map keyed by both)
	log []dictKey
}

// dictKinds bounds the dictKind values (kRequestID is the largest).
const dictKinds = 256

// get returns the cached id of a value.
func (c *dictCache) get(k dictKey) (int64, bool) {
	id, ok := c.ids[k.kind][k.value]
	return id, ok
}

// put caches the id of a value.
func (c *dictCache) put(k dictKey, id int64) {
	m := c.ids[k.kind]
	if m == nil {
		m = make(map[string]int64)
		c.ids[k.kind] = m
	}
	m[k.value] = id
}

// load fills the cache with the whole dict table.
func (c *dictCache) load(ctx context.Context, q queryer) error {
	c.ids = [dictKinds]map[string]int64{}
	rows, err := q.QueryContext(ctx, "SELECT id, kind, value FROM dict")
	if err != nil {
		return fmt.Errorf("store: loading dictionary: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var k dictKey
		if err := rows.Scan(&id, &k.kind, &k.value); err != nil {
			return fmt.Errorf("store: loading dictionary: %w", err)
		}
		c.put(k, id)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: loading dictionary: %w", err)
	}
	return nil
}

// mark returns a position to roll back to.
func (c *dictCache) mark() int { return len(c.log) }

// rollback forgets the entries added since mark.
func (c *dictCache) rollback(mark int) {
	for _, k := range c.log[mark:] {
		delete(c.ids[k.kind], k.value)
	}
	c.log = c.log[:mark]
}

// committed makes the logged entries permanent.
func (c *dictCache) committed() { c.log = c.log[:0] }

// nameCache is the read side's id -> entry cache. Dictionary rows are never
// changed or deleted, so entries never go stale.
type nameCache struct {
	mu sync.RWMutex
	m  map[int64]dictEntry
}

// resolve returns the entries of ids, reading unknown ones from the read pool.
func (s *Store) resolve(ctx context.Context, ids map[int64]struct{}) (map[int64]dictEntry, error) {
	out := make(map[int64]dictEntry, len(ids))
	var missing []any
	s.names.mu.RLock()
	for id := range ids {
		if id <= 0 {
			continue
		}
		if e, ok := s.names.m[id]; ok {
			out[id] = e
		} else {
			missing = append(missing, id)
		}
	}
	s.names.mu.RUnlock()
	for len(missing) > 0 {
		chunk := missing
		if len(chunk) > 500 {
			chunk = chunk[:500]
		}
		missing = missing[len(chunk):]
		rows, err := s.rdb.QueryContext(ctx,
			"SELECT id, kind, value, mask FROM dict WHERE id IN ("+placeholders(len(chunk))+")", chunk...)
		if err != nil {
			return nil, fmt.Errorf("store: reading dictionary: %w", err)
		}
		var got []struct {
			id int64
			e  dictEntry
		}
		for rows.Next() {
			var id int64
			var e dictEntry
			if err := rows.Scan(&id, &e.kind, &e.value, &e.mask); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: reading dictionary: %w", err)
			}
			out[id] = e
			got = append(got, struct {
				id int64
				e  dictEntry
			}{id, e})
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("store: reading dictionary: %w", err)
		}
		s.names.mu.Lock()
		if s.names.m == nil {
			s.names.m = make(map[int64]dictEntry)
		}
		for _, g := range got {
			s.names.m[g.id] = g.e
		}
		s.names.mu.Unlock()
	}
	return out, nil
}

// lookupIDs returns the dict ids of values of a kind; "" maps to 0. Unknown
// values are left out.
func (s *Store) lookupIDs(ctx context.Context, kind dictKind, values []string) ([]int64, error) {
	var ids []int64
	var args []any
	for _, v := range values {
		if v == "" {
			ids = append(ids, 0)
			continue
		}
		args = append(args, v)
	}
	if len(args) == 0 {
		return ids, nil
	}
	rows, err := s.rdb.QueryContext(ctx,
		"SELECT id FROM dict WHERE kind = ? AND value IN ("+placeholders(len(args))+")",
		append([]any{kind}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("store: looking up filter values: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: looking up filter values: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: looking up filter values: %w", err)
	}
	return ids, nil
}

// placeholders returns "?,?,...,?" with n marks.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?,", n-1) + "?"
}
