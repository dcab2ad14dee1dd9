package api

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/cpam-caddy/cpam/store"
)

// AdminKeyHashSetting is the settings-table key under which the argon2id
// hash of a generated (or rotated) admin key is stored. The key itself is
// never stored.
const AdminKeyHashSetting = "admin_key_hash"

// adminKeyBytes is the entropy of a generated admin key (hex encoded: 48
// characters).
const adminKeyBytes = 24

// argonParams are the argon2id cost parameters of new hashes (OWASP's
// 19 MiB, 2 passes, 1 lane). Verification uses the parameters stored with
// each hash, so they can change without invalidating old hashes.
type argonParams struct {
	time    uint32
	memory  uint32 // KiB
	threads uint8
}

// defaultArgon is used for new hashes; tests may lower it.
var defaultArgon = argonParams{time: 2, memory: 19 * 1024, threads: 1}

const (
	argonSaltLen = 16
	argonKeyLen  = 32
)

// GenerateAdminKey returns a new random admin key.
func GenerateAdminKey() (string, error) {
	b := make([]byte, adminKeyBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating an admin key: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// HashAdminKey returns the argon2id hash of key in the PHC string format
// ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
func HashAdminKey(key string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("generating a salt: %w", err)
	}
	p := defaultArgon
	sum := argon2.IDKey([]byte(key), salt, p.time, p.memory, p.threads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memory, p.time, p.threads, enc.EncodeToString(salt), enc.EncodeToString(sum)), nil
}

// verifyAdminKeyHash reports whether key matches an encoded argon2id hash.
func verifyAdminKeyHash(encoded, key string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return false, errors.New("the stored admin key hash is not an argon2id hash")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, fmt.Errorf("the stored admin key hash has an unsupported version %q", parts[2])
	}
	var p argonParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &p.threads); err != nil {
		return false, fmt.Errorf("the stored admin key hash has unreadable parameters: %w", err)
	}
	if p.time == 0 || p.threads == 0 || p.memory == 0 || p.memory > 1<<21 || p.time > 64 {
		return false, errors.New("the stored admin key hash has out-of-range parameters")
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil {
		return false, fmt.Errorf("the stored admin key hash has an unreadable salt: %w", err)
	}
	want, err := enc.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, errors.New("the stored admin key hash has an unreadable digest")
	}
	got := argon2.IDKey([]byte(key), salt, p.time, p.memory, p.threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// EnsureAdminKey makes sure the store holds an admin key hash. When it
// does not, it generates a key, stores only its hash and returns the key
// (generated true) so the caller can show it once. A store that already has
// a hash keeps it.
func EnsureAdminKey(ctx context.Context, st *store.Store) (key string, generated bool, err error) {
	_, ok, err := st.Setting(ctx, AdminKeyHashSetting)
	if err != nil {
		return "", false, fmt.Errorf("reading the admin key hash: %w", err)
	}
	if ok {
		return "", false, nil
	}
	key, err = storeNewAdminKey(ctx, st)
	if err != nil {
		return "", false, err
	}
	return key, true, nil
}

// ResetAdminKey generates a new admin key, replaces the stored hash with
// its hash, deletes every login session and returns the new key. Keys
// verified before keep working in a running Auth only until its cache
// notices the new hash (on their next use).
func ResetAdminKey(ctx context.Context, st *store.Store) (string, error) {
	key, err := storeNewAdminKey(ctx, st)
	if err != nil {
		return "", err
	}
	if err := st.DeleteAllSessions(ctx); err != nil {
		return "", fmt.Errorf("signing out every session: %w", err)
	}
	return key, nil
}

func storeNewAdminKey(ctx context.Context, st *store.Store) (string, error) {
	key, err := GenerateAdminKey()
	if err != nil {
		return "", err
	}
	hash, err := HashAdminKey(key)
	if err != nil {
		return "", fmt.Errorf("hashing the admin key: %w", err)
	}
	if err := st.PutSetting(ctx, AdminKeyHashSetting, hash); err != nil {
		return "", fmt.Errorf("storing the admin key hash: %w", err)
	}
	return key, nil
}

// verifiedTTL is how long a bearer key verified against the slow hash is
// remembered, so only its first use pays for argon2.
const verifiedTTL = 5 * time.Minute
