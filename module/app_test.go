package module

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

func newTestContext(t *testing.T) caddy.Context {
	t.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	return ctx
}

// TestReloadSharesRuntime replays Caddy's reload order (provision new, start
// new, stop old, clean up old) and checks the database is opened once, stays
// open through the reload and closes with the last reference.
func TestReloadSharesRuntime(t *testing.T) {
	db := filepath.Join(t.TempDir(), "sub", "cpam.db")
	before := runtimesOpened.Load()

	first := &App{Database: db}
	if err := first.Provision(newTestContext(t)); err != nil {
		t.Fatalf("provision first: %v", err)
	}
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	rt := first.Runtime()
	if rt.Generation() != 1 || rt.Settings() != first.Settings() {
		t.Fatalf("after first start: generation %d, settings applied %v", rt.Generation(), rt.Settings() == first.Settings())
	}

	second := &App{Database: db, Retention: caddy.Duration(2 * DefaultRetention)}
	if err := second.Provision(newTestContext(t)); err != nil {
		t.Fatalf("provision second: %v", err)
	}
	if second.Runtime() != rt {
		t.Fatal("the second config got a new runtime for the same database")
	}
	if rt.Settings() != first.Settings() {
		t.Fatal("provisioning (without starting) swapped in the new settings")
	}
	if err := second.Start(); err != nil {
		t.Fatal(err)
	}
	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := first.Cleanup(); err != nil {
		t.Fatal(err)
	}
	if rt.Generation() != 2 || rt.Settings().Retention != 2*DefaultRetention {
		t.Errorf("after reload: generation %d, retention %s", rt.Generation(), rt.Settings().Retention)
	}
	if err := rt.Store().Ping(context.Background()); err != nil {
		t.Fatalf("database closed during reload: %v", err)
	}

	if err := second.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := second.Cleanup(); err != nil {
		t.Fatal(err)
	}
	if err := rt.Store().Ping(context.Background()); err == nil {
		t.Error("database still open after the last config was cleaned up")
	}
	if got := runtimesOpened.Load() - before; got != 1 {
		t.Errorf("runtimes opened = %d, want 1", got)
	}
}

// TestValidateStartsNothing provisions and cleans up without Start, as
// `caddy validate` and a failed reload do, next to a running config.
func TestValidateStartsNothing(t *testing.T) {
	db := filepath.Join(t.TempDir(), "cpam.db")
	running := &App{Database: db}
	if err := running.Provision(newTestContext(t)); err != nil {
		t.Fatal(err)
	}
	if err := running.Start(); err != nil {
		t.Fatal(err)
	}
	defer running.Cleanup()

	validated := &App{Database: db, Retention: caddy.Duration(3 * DefaultRetention)}
	if err := validated.Provision(newTestContext(t)); err != nil {
		t.Fatal(err)
	}
	if err := validated.Cleanup(); err != nil {
		t.Fatal(err)
	}
	rt := running.Runtime()
	if rt.Generation() != 1 || rt.Settings().Retention != DefaultRetention {
		t.Errorf("validation changed the running runtime: generation %d, retention %s", rt.Generation(), rt.Settings().Retention)
	}
	if err := rt.Store().Ping(context.Background()); err != nil {
		t.Errorf("validation closed the running database: %v", err)
	}
}

// TestCleanupAfterFailedProvision checks Cleanup copes with a config that
// never got its runtime.
func TestCleanupAfterFailedProvision(t *testing.T) {
	app := &App{Database: t.TempDir() + "/cpam.db", AdminKey: "short"}
	if err := app.Provision(newTestContext(t)); err == nil {
		t.Fatal("provision accepted a short admin key")
	}
	if err := app.Cleanup(); err != nil {
		t.Errorf("cleanup after failed provision: %v", err)
	}
}
