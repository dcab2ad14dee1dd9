package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/cpam-caddy/cpam/usage"
)

func TestLatestAccounts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpam.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	ev := func(i int, auth string, acc usage.Account) usage.Event {
		return usage.Event{Hash: hashOf("acc", i), Upstream: "u", Time: base.Add(time.Duration(i) * time.Minute),
			AuthIndex: auth, Model: "m", StatusCode: 200, Account: acc}
	}
	alice := usage.Account{Label: "alice", Email: "alice@example.com", Provider: "codex"}
	mustCommit(t, s, Batch{Events: []usage.Event{
		ev(1, "A1", alice),
		ev(2, "A1", usage.Account{}), // newer, but without attribution
		ev(3, "A2", usage.Account{}),
	}})
	check := func(s *Store, want map[string]usage.Account) {
		t.Helper()
		got, err := s.LatestAccounts(context.Background(), []string{"A1", "A2", "A3"})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("got %v, want %v", got, want)
		}
	}
	check(s, map[string]usage.Account{"A1": alice}) // from the commits
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	check(s, map[string]usage.Account{"A1": alice}) // from the events
	renamed := usage.Account{Label: "alice (work)", Email: "alice@example.com", Provider: "codex"}
	bob := usage.Account{Label: "bob"}
	mustCommit(t, s, Batch{Events: []usage.Event{ev(4, "A1", renamed), ev(5, "A2", bob)}})
	// A2 was just found without attribution; a commit still corrects that.
	check(s, map[string]usage.Account{"A1": renamed, "A2": bob})
}
