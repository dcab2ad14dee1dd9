package module

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/cpam-caddy/cpam/api"
	"github.com/cpam-caddy/cpam/store"
)

// bearerOK reports whether rt's Auth accepts key as an admin bearer.
func bearerOK(t *testing.T, rt *Runtime, key string) bool {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/v0/management/config", nil)
	r.Header.Set("Authorization", "Bearer "+key)
	_, ok := rt.Auth().Authenticate(httptest.NewRecorder(), r, false)
	return ok
}

func TestGeneratedAdminKeyIsStoredHashedAndLoggedOnce(t *testing.T) {
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "cpam.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	core, logs := observer.New(zapcore.DebugLevel)
	logger := zap.New(core)
	ctx := context.Background()

	if err := ensureAdminKey(ctx, st, &Settings{}, logger); err != nil {
		t.Fatal(err)
	}
	entries := logs.TakeAll()
	if len(entries) != 1 || entries[0].Level != zapcore.WarnLevel || !strings.Contains(entries[0].Message, "shown once") {
		t.Fatalf("log entries = %+v", entries)
	}
	key, _ := entries[0].ContextMap()["admin_key"].(string)
	if len(key) < 32 {
		t.Fatalf("logged key %q", key)
	}
	hash, ok, err := st.Setting(ctx, api.AdminKeyHashSetting)
	if err != nil || !ok || !strings.HasPrefix(hash, "$argon2id$") || strings.Contains(hash, key) {
		t.Fatalf("stored hash %q, %v, %v", hash, ok, err)
	}

	// The next start finds the hash: nothing generated, nothing logged.
	if err := ensureAdminKey(ctx, st, &Settings{}, logger); err != nil {
		t.Fatal(err)
	}
	if again, _, _ := st.Setting(ctx, api.AdminKeyHashSetting); again != hash || logs.Len() != 0 {
		t.Errorf("a second start regenerated the key or logged again (%d entries)", logs.Len())
	}
	// A configured key needs nothing stored.
	if err := ensureAdminKey(ctx, st, &Settings{AdminKey: "configured-key-0123456789"}, logger); err != nil || logs.Len() != 0 {
		t.Errorf("configured key: %v, %d log entries", err, logs.Len())
	}
}

func TestAdminKeyAcrossStartsAndReloads(t *testing.T) {
	db := filepath.Join(t.TempDir(), "cpam.db")
	first := &App{Database: db}
	if err := first.Provision(newTestContext(t)); err != nil {
		t.Fatal(err)
	}
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	rt := first.Runtime()
	ctx := context.Background()
	hash, ok, err := rt.Store().Setting(ctx, api.AdminKeyHashSetting)
	if err != nil || !ok {
		t.Fatalf("no admin key hash after the first start: %v", err)
	}
	// Replace the generated key by one the test knows, as the CLI does.
	known, err := api.ResetAdminKey(ctx, rt.Store())
	if err != nil {
		t.Fatal(err)
	}
	hash, _, _ = rt.Store().Setting(ctx, api.AdminKeyHashSetting)

	// A reload keeps the stored key.
	second := &App{Database: db}
	if err := second.Provision(newTestContext(t)); err != nil {
		t.Fatal(err)
	}
	if err := second.Start(); err != nil {
		t.Fatal(err)
	}
	_ = first.Cleanup()
	if again, _, _ := rt.Store().Setting(ctx, api.AdminKeyHashSetting); again != hash {
		t.Error("a reload regenerated the admin key")
	}
	if !bearerOK(t, rt, known) {
		t.Error("the stored key does not work after a reload")
	}

	// A configured key wins over the stored one.
	const configured = "configured-admin-key-0123456789"
	third := &App{Database: db, AdminKey: configured}
	if err := third.Provision(newTestContext(t)); err != nil {
		t.Fatal(err)
	}
	if err := third.Start(); err != nil {
		t.Fatal(err)
	}
	_ = second.Cleanup()
	if !bearerOK(t, rt, configured) || bearerOK(t, rt, known) {
		t.Error("with admin_key configured, only that key must work")
	}
	if again, _, _ := rt.Store().Setting(ctx, api.AdminKeyHashSetting); again != hash {
		t.Error("the configured key touched the stored hash")
	}
	_ = third.Cleanup()
}

func TestResetAdminKeyCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "cpam.db")
	var out, errOut bytes.Buffer
	if err := ResetAdminKeyCommand(context.Background(), db, &out, &errOut); err == nil || !strings.Contains(err.Error(), "--database") {
		t.Errorf("missing database: %v", err)
	}

	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	old, _, err := api.EnsureAdminKey(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutSession(ctx, store.Session{IDHash: []byte("h"), Created: time.Now(), Expires: time.Now().Add(time.Hour), LastSeen: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	if err := ResetAdminKeyCommand(ctx, db, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(out.String())
	if len(key) < 32 || key == old || strings.Contains(errOut.String(), key) || !strings.Contains(errOut.String(), "shown only once") {
		t.Fatalf("stdout %q, stderr %q", out.String(), errOut.String())
	}

	// A runtime on that database accepts the new key only, and the session is gone.
	app := &App{Database: db}
	if err := app.Provision(newTestContext(t)); err != nil {
		t.Fatal(err)
	}
	defer app.Cleanup()
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	rt := app.Runtime()
	if !bearerOK(t, rt, key) || bearerOK(t, rt, old) {
		t.Error("after reset-admin-key only the new key must work")
	}
	if _, ok, _ := rt.Store().Session(ctx, []byte("h"), time.Now()); ok {
		t.Error("reset-admin-key kept a session")
	}
}
