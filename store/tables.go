package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// msTime converts unix milliseconds to a UTC time; 0 is the zero time.
func msTime(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// timeMS converts a time to unix milliseconds; the zero time is 0.
func timeMS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// boolInt maps a bool to 0/1.
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ---- settings ----

// Setting returns the value of a setting; false when it is not set.
func (s *Store) Setting(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := s.rdb.QueryRowContext(ctx, "SELECT value FROM settings WHERE key = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("store: reading setting %q: %w", key, err)
	}
	return v, true, nil
}

// PutSetting sets a setting.
func (s *Store) PutSetting(ctx context.Context, key, value string) error {
	return s.do(ctx, func(w *writer) error {
		if _, err := w.exec("INSERT INTO settings(key, value) VALUES(?,?) ON CONFLICT(key) DO UPDATE SET value=excluded.value", key, value); err != nil {
			return fmt.Errorf("store: saving setting %q: %w", key, err)
		}
		return nil
	})
}

// DeleteSetting removes a setting.
func (s *Store) DeleteSetting(ctx context.Context, key string) error {
	return s.do(ctx, func(w *writer) error {
		if _, err := w.exec("DELETE FROM settings WHERE key = ?", key); err != nil {
			return fmt.Errorf("store: deleting setting %q: %w", key, err)
		}
		return nil
	})
}

// Settings returns every setting.
func (s *Store) Settings(ctx context.Context) (map[string]string, error) {
	rows, err := s.rdb.QueryContext(ctx, "SELECT key, value FROM settings")
	if err != nil {
		return nil, fmt.Errorf("store: reading settings: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("store: reading settings: %w", err)
		}
		out[k] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: reading settings: %w", err)
	}
	return out, nil
}

// ---- sessions ----

// Session is a login session of the web UI. Only a hash of the session id
// is stored.
type Session struct {
	IDHash   []byte
	Created  time.Time
	Expires  time.Time
	LastSeen time.Time
	// Data is opaque to the store (e.g. the user and a CSRF token).
	Data []byte
}

// PutSession creates or replaces a session.
func (s *Store) PutSession(ctx context.Context, ss Session) error {
	if len(ss.IDHash) == 0 {
		return errors.New("store: session without id hash")
	}
	return s.do(ctx, func(w *writer) error {
		if _, err := w.exec(`INSERT INTO sessions(id_hash, created, expires, last_seen, data) VALUES(?,?,?,?,?)
			ON CONFLICT(id_hash) DO UPDATE SET created=excluded.created, expires=excluded.expires,
			last_seen=excluded.last_seen, data=excluded.data`,
			ss.IDHash, timeMS(ss.Created), timeMS(ss.Expires), timeMS(ss.LastSeen), ss.Data); err != nil {
			return fmt.Errorf("store: saving session: %w", err)
		}
		return nil
	})
}

// Session returns the session with idHash if it exists and has not expired
// at now.
func (s *Store) Session(ctx context.Context, idHash []byte, now time.Time) (Session, bool, error) {
	ss := Session{IDHash: idHash}
	var c, e, l int64
	err := s.rdb.QueryRowContext(ctx, "SELECT created, expires, last_seen, data FROM sessions WHERE id_hash = ? AND expires > ?",
		idHash, now.UnixMilli()).Scan(&c, &e, &l, &ss.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, false, nil
	}
	if err != nil {
		return Session{}, false, fmt.Errorf("store: reading session: %w", err)
	}
	ss.Created, ss.Expires, ss.LastSeen = msTime(c), msTime(e), msTime(l)
	return ss, true, nil
}

// TouchSession records activity on a session and moves its expiry.
func (s *Store) TouchSession(ctx context.Context, idHash []byte, lastSeen, expires time.Time) error {
	return s.do(ctx, func(w *writer) error {
		if _, err := w.exec("UPDATE sessions SET last_seen = ?, expires = ? WHERE id_hash = ?",
			timeMS(lastSeen), timeMS(expires), idHash); err != nil {
			return fmt.Errorf("store: updating session: %w", err)
		}
		return nil
	})
}

// DeleteSession removes a session (logout).
func (s *Store) DeleteSession(ctx context.Context, idHash []byte) error {
	return s.do(ctx, func(w *writer) error {
		if _, err := w.exec("DELETE FROM sessions WHERE id_hash = ?", idHash); err != nil {
			return fmt.Errorf("store: deleting session: %w", err)
		}
		return nil
	})
}

// DeleteExpiredSessions removes the sessions expired at now and returns
// how many.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := s.do(ctx, func(w *writer) error {
		r, err := w.exec("DELETE FROM sessions WHERE expires <= ?", now.UnixMilli())
		if err != nil {
			return fmt.Errorf("store: deleting expired sessions: %w", err)
		}
		n, err = r.RowsAffected()
		if err != nil {
			return fmt.Errorf("store: deleting expired sessions: %w", err)
		}
		return nil
	})
	return int(n), err
}

// ---- model prices ----

// PriceSourceManual is the Source of a price set by a user. The other
// sources are the catalogues a price was synced from ("models.dev",
// "litellm", "openrouter").
const PriceSourceManual = "manual"

// ModelPrice is the price of a model in USD per million tokens.
type ModelPrice struct {
	Model      string
	Input      float64
	Output     float64
	CacheRead  float64
	CacheWrite float64
	// Tiers is optional JSON (e.g. long-context prices), opaque to the store.
	Tiers   json.RawMessage
	Updated time.Time
	// Source is where the price came from: PriceSourceManual (also when
	// empty) or the catalogue it was synced from.
	Source string
	// Raw is the catalogue entry a synced price came from (JSON, opaque to
	// the store); nil for manual prices.
	Raw json.RawMessage
}

// modelPriceArgs checks p and returns the values of its row, in the
// column order model, input, output, cache_read, cache_write, tiers,
// updated, source, raw.
func modelPriceArgs(p ModelPrice) ([]any, error) {
	if p.Model == "" {
		return nil, errors.New("store: model price without model")
	}
	var tiers, raw any
	if len(p.Tiers) > 0 {
		if !json.Valid(p.Tiers) {
			return nil, fmt.Errorf("store: price tiers of %q are not valid JSON", p.Model)
		}
		tiers = string(p.Tiers)
	}
	if len(p.Raw) > 0 {
		if !json.Valid(p.Raw) {
			return nil, fmt.Errorf("store: catalogue entry of the price of %q is not valid JSON", p.Model)
		}
		raw = string(p.Raw)
	}
	source := p.Source
	if source == "" {
		source = PriceSourceManual
	}
	return []any{p.Model, p.Input, p.Output, p.CacheRead, p.CacheWrite, tiers, timeMS(p.Updated), source, raw}, nil
}

// upsertModelPrice is the statement that creates or replaces a price; its
// arguments are modelPriceArgs.
const upsertModelPrice = `INSERT INTO model_prices(model, input, output, cache_read, cache_write, tiers, updated, source, raw)
	VALUES(?,?,?,?,?,?,?,?,?) ON CONFLICT(model) DO UPDATE SET input=excluded.input, output=excluded.output,
	cache_read=excluded.cache_read, cache_write=excluded.cache_write, tiers=excluded.tiers, updated=excluded.updated,
	source=excluded.source, raw=excluded.raw`

// PutModelPrice creates or replaces the price of a model, whatever its
// source.
func (s *Store) PutModelPrice(ctx context.Context, p ModelPrice) error {
	args, err := modelPriceArgs(p)
	if err != nil {
		return err
	}
	return s.do(ctx, func(w *writer) error {
		if _, err := w.exec(upsertModelPrice, args...); err != nil {
			return fmt.Errorf("store: saving price of %q: %w", p.Model, err)
		}
		return nil
	})
}

// ReplaceModelPrices deletes the prices of the models in deletes, then
// creates or replaces the prices in upserts, in one transaction: either all
// of it is applied or, on error, nothing.
//
// A synced price (Source other than manual) never replaces a manual one:
// such upserts are skipped and their models returned in kept. Manual
// upserts replace any price.
func (s *Store) ReplaceModelPrices(ctx context.Context, upserts []ModelPrice, deletes []string) (kept []string, err error) {
	args := make([][]any, len(upserts))
	for i, p := range upserts {
		if args[i], err = modelPriceArgs(p); err != nil {
			return nil, err
		}
	}
	err = s.do(ctx, func(w *writer) error {
		kept = nil
		for _, m := range deletes {
			if _, err := w.exec("DELETE FROM model_prices WHERE model = ?", m); err != nil {
				return fmt.Errorf("store: deleting price of %q: %w", m, err)
			}
		}
		for i, p := range upserts {
			if p.Source != "" && p.Source != PriceSourceManual {
				var cur string
				err := w.conn.QueryRowContext(w.ctx, "SELECT source FROM model_prices WHERE model = ?", p.Model).Scan(&cur)
				switch {
				case err == nil && cur == PriceSourceManual:
					kept = append(kept, p.Model)
					continue
				case err != nil && !errors.Is(err, sql.ErrNoRows):
					return fmt.Errorf("store: reading price of %q: %w", p.Model, err)
				}
			}
			if _, err := w.exec(upsertModelPrice, args[i]...); err != nil {
				return fmt.Errorf("store: saving price of %q: %w", p.Model, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return kept, nil
}

// DeleteModelPrice removes the price of a model.
func (s *Store) DeleteModelPrice(ctx context.Context, model string) error {
	_, err := s.DeleteModelPrices(ctx, model)
	return err
}

// DeleteModelPrices removes the prices of models in one transaction and
// returns how many were stored.
func (s *Store) DeleteModelPrices(ctx context.Context, models ...string) (int, error) {
	var n int64
	err := s.do(ctx, func(w *writer) error {
		n = 0
		for _, m := range models {
			r, err := w.exec("DELETE FROM model_prices WHERE model = ?", m)
			if err != nil {
				return fmt.Errorf("store: deleting price of %q: %w", m, err)
			}
			k, err := r.RowsAffected()
			if err != nil {
				return fmt.Errorf("store: deleting price of %q: %w", m, err)
			}
			n += k
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

// ModelPrices returns every stored price, ordered by model name.
func (s *Store) ModelPrices(ctx context.Context) ([]ModelPrice, error) {
	rows, err := s.rdb.QueryContext(ctx, "SELECT model, input, output, cache_read, cache_write, tiers, updated, source, raw FROM model_prices ORDER BY model")
	if err != nil {
		return nil, fmt.Errorf("store: reading prices: %w", err)
	}
	defer rows.Close()
	var out []ModelPrice
	for rows.Next() {
		var p ModelPrice
		var tiers, raw sql.NullString
		var upd int64
		if err := rows.Scan(&p.Model, &p.Input, &p.Output, &p.CacheRead, &p.CacheWrite, &tiers, &upd, &p.Source, &raw); err != nil {
			return nil, fmt.Errorf("store: reading prices: %w", err)
		}
		if tiers.Valid {
			p.Tiers = json.RawMessage(tiers.String)
		}
		if raw.Valid {
			p.Raw = json.RawMessage(raw.String)
		}
		p.Updated = msTime(upd)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: reading prices: %w", err)
	}
	return out, nil
}

// ---- API key aliases ----

// APIKeyAlias names a client API key, identified by its hash.
type APIKeyAlias struct {
	KeyHash string
	Alias   string
	// Updated is when the alias was last changed; zero when unknown (set
	// before schema version 3).
	Updated time.Time
}

// AliasConflictError reports an alias that two API keys would share
// (aliases are unique ignoring case).
type AliasConflictError struct {
	Alias string
	// KeyHash is the key being named, OtherKeyHash the key that already
	// has the alias.
	KeyHash, OtherKeyHash string
}

func (e *AliasConflictError) Error() string {
	return fmt.Sprintf("store: alias %q of key %s is already the alias of key %s", e.Alias, e.KeyHash, e.OtherKeyHash)
}

// aliasNow is the clock of alias updates; tests replace it.
var aliasNow = time.Now

// PutAPIKeyAlias names a client API key (by hash); an empty alias removes
// the name. See PutAPIKeyAliases.
func (s *Store) PutAPIKeyAlias(ctx context.Context, keyHash, alias string) error {
	return s.PutAPIKeyAliases(ctx, []APIKeyAlias{{KeyHash: keyHash, Alias: alias}})
}

// PutAPIKeyAliases sets the aliases of several keys in one transaction: an
// empty Alias removes the key's alias. Updated is the time of the change
// (now when zero); an alias set to its current value keeps its time.
// Aliases are unique ignoring case: when a key named here would share its
// alias with another key, nothing is applied and the error is an
// *AliasConflictError.
func (s *Store) PutAPIKeyAliases(ctx context.Context, items []APIKeyAlias) error {
	for _, it := range items {
		if it.KeyHash == "" {
			return errors.New("store: API key alias without key hash")
		}
	}
	now := aliasNow()
	return s.do(ctx, func(w *writer) error {
		for _, it := range items {
			var err error
			if it.Alias == "" {
				_, err = w.exec("DELETE FROM api_key_aliases WHERE key_hash = ?", it.KeyHash)
			} else {
				upd := it.Updated
				if upd.IsZero() {
					upd = now
				}
				_, err = w.exec(`INSERT INTO api_key_aliases(key_hash, alias, updated) VALUES(?,?,?)
					ON CONFLICT(key_hash) DO UPDATE SET alias=excluded.alias, updated=excluded.updated
					WHERE alias != excluded.alias`, it.KeyHash, it.Alias, timeMS(upd))
			}
			if err != nil {
				return fmt.Errorf("store: saving API key alias: %w", err)
			}
		}
		return checkAliasConflicts(w, items)
	})
}

// checkAliasConflicts fails with an *AliasConflictError when a key named in
// items shares its alias (ignoring case) with another key. Keys not named
// keep whatever clashes older versions let in.
func checkAliasConflicts(w *writer, items []APIKeyAlias) error {
	rows, err := w.conn.QueryContext(w.ctx, "SELECT key_hash, alias FROM api_key_aliases ORDER BY key_hash")
	if err != nil {
		return fmt.Errorf("store: reading API key aliases: %w", err)
	}
	defer rows.Close()
	byAlias := map[string][]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return fmt.Errorf("store: reading API key aliases: %w", err)
		}
		byAlias[strings.ToLower(v)] = append(byAlias[strings.ToLower(v)], k)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: reading API key aliases: %w", err)
	}
	for _, it := range items {
		if it.Alias == "" {
			continue
		}
		for _, other := range byAlias[strings.ToLower(it.Alias)] {
			if other != it.KeyHash {
				return &AliasConflictError{Alias: it.Alias, KeyHash: it.KeyHash, OtherKeyHash: other}
			}
		}
	}
	return nil
}

// DeleteAPIKeyAlias removes the alias of a key and reports whether it had
// one.
func (s *Store) DeleteAPIKeyAlias(ctx context.Context, keyHash string) (bool, error) {
	var n int64
	err := s.do(ctx, func(w *writer) error {
		r, err := w.exec("DELETE FROM api_key_aliases WHERE key_hash = ?", keyHash)
		if err != nil {
			return fmt.Errorf("store: deleting API key alias: %w", err)
		}
		n, err = r.RowsAffected()
		if err != nil {
			return fmt.Errorf("store: deleting API key alias: %w", err)
		}
		return nil
	})
	return n > 0, err
}

// APIKeyAliases returns every alias by key hash.
func (s *Store) APIKeyAliases(ctx context.Context) (map[string]string, error) {
	list, err := s.APIKeyAliasList(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(list))
	for _, a := range list {
		out[a.KeyHash] = a.Alias
	}
	return out, nil
}

// APIKeyAliasList returns every alias, ordered by alias ignoring case,
// then by key hash.
func (s *Store) APIKeyAliasList(ctx context.Context) ([]APIKeyAlias, error) {
	rows, err := s.rdb.QueryContext(ctx, "SELECT key_hash, alias, updated FROM api_key_aliases")
	if err != nil {
		return nil, fmt.Errorf("store: reading API key aliases: %w", err)
	}
	defer rows.Close()
	var out []APIKeyAlias
	for rows.Next() {
		var a APIKeyAlias
		var upd int64
		if err := rows.Scan(&a.KeyHash, &a.Alias, &upd); err != nil {
			return nil, fmt.Errorf("store: reading API key aliases: %w", err)
		}
		a.Updated = msTime(upd)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: reading API key aliases: %w", err)
	}
	slices.SortFunc(out, func(a, b APIKeyAlias) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Alias), strings.ToLower(b.Alias)),
			cmp.Compare(a.Alias, b.Alias), cmp.Compare(a.KeyHash, b.KeyHash))
	})
	return out, nil
}

// ---- credential health ----

// CredentialHealth is the last known state of one CPA credential, as CPA's
// management API reports it.
type CredentialHealth struct {
	Upstream       string
	AuthIndex      string
	Updated        time.Time
	Status         string
	StatusMessage  string
	Disabled       bool
	Unavailable    bool
	NextRetryAfter time.Time
	QuotaExceeded  bool
	QuotaReason    string
	NextRecoverAt  time.Time
	BackoffLevel   int
	LastStatusCode int
	LastError      string
}

// PutCredentialHealth creates or replaces the state of a credential.
func (s *Store) PutCredentialHealth(ctx context.Context, h CredentialHealth) error {
	if h.Upstream == "" || h.AuthIndex == "" {
		return errors.New("store: credential health needs upstream and auth_index")
	}
	return s.do(ctx, func(w *writer) error {
		if _, err := w.exec(`INSERT OR REPLACE INTO credential_health(upstream, auth_index, updated, status,
			status_message, disabled, unavailable, next_retry_after, quota_exceeded, quota_reason, next_recover_at,
			backoff_level, last_status_code, last_error) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			h.Upstream, h.AuthIndex, timeMS(h.Updated), h.Status, h.StatusMessage, boolInt(h.Disabled),
			boolInt(h.Unavailable), timeMS(h.NextRetryAfter), boolInt(h.QuotaExceeded), h.QuotaReason,
			timeMS(h.NextRecoverAt), h.BackoffLevel, h.LastStatusCode, h.LastError); err != nil {
			return fmt.Errorf("store: saving credential health: %w", err)
		}
		return nil
	})
}

// CredentialHealths returns the stored credential states of upstream (all
// upstreams when ""), ordered by upstream and auth_index.
func (s *Store) CredentialHealths(ctx context.Context, upstream string) ([]CredentialHealth, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT upstream, auth_index, updated, status, status_message, disabled,
		unavailable, next_retry_after, quota_exceeded, quota_reason, next_recover_at, backoff_level, last_status_code,
		last_error FROM credential_health WHERE ? = '' OR upstream = ? ORDER BY upstream, auth_index`, upstream, upstream)
	if err != nil {
		return nil, fmt.Errorf("store: reading credential health: %w", err)
	}
	defer rows.Close()
	var out []CredentialHealth
	for rows.Next() {
		var h CredentialHealth
		var upd, retry, recov int64
		if err := rows.Scan(&h.Upstream, &h.AuthIndex, &upd, &h.Status, &h.StatusMessage, &h.Disabled, &h.Unavailable,
			&retry, &h.QuotaExceeded, &h.QuotaReason, &recov, &h.BackoffLevel, &h.LastStatusCode, &h.LastError); err != nil {
			return nil, fmt.Errorf("store: reading credential health: %w", err)
		}
		h.Updated, h.NextRetryAfter, h.NextRecoverAt = msTime(upd), msTime(retry), msTime(recov)
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: reading credential health: %w", err)
	}
	return out, nil
}

// DeleteAllSessions removes every session (admin key rotation signs
// everybody out).
func (s *Store) DeleteAllSessions(ctx context.Context) error {
	return s.do(ctx, func(w *writer) error {
		if _, err := w.exec("DELETE FROM sessions"); err != nil {
			return fmt.Errorf("store: deleting all sessions: %w", err)
		}
		return nil
	})
}
