package api

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cpam-caddy/cpam/store"
	"github.com/cpam-caddy/cpam/usage"
)

// testNormalizer hashes keys under a fixed database secret.
func testNormalizer(t testing.TB) *usage.Normalizer {
	t.Helper()
	n, err := usage.NewNormalizer([]byte("alias-test-secret-0123456789abcd"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAliasesRawKey(t *testing.T) {
	h, b := fixture(t)
	const raw = "sk-client-RAWSECRET-9f8e7d6c"
	// Without collection a raw key cannot be hashed.
	code, body := sendJSON(t, h, "PUT", "/v0/management/api-key-aliases", `{"items": [{"apiKey": "`+raw+`", "alias": "alice"}]}`)
	if code != http.StatusServiceUnavailable || bytes.Contains(body, []byte(raw)) {
		t.Fatalf("without normaliser: %d %s", code, body)
	}
	b.norm = testNormalizer(t)
	hash := b.norm.Secret(raw).Hash
	if len(hash) != keyHashLen || !validKeyHash(hash) {
		t.Fatalf("the normaliser's hash %q does not look like a key hash", hash)
	}
	other := b.norm.Secret("sk-other").Hash
	code, body = sendJSON(t, h, "PUT", "/v0/management/api-key-aliases", `{"items": [
		{"apiKey": "`+raw+`", "alias": "  alice  "},
		{"apiKeyHash": "`+other+`", "alias": "Bob", "note": "ignored"}]}`)
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
	if bytes.Contains(body, []byte(raw)) || bytes.Contains(body, []byte("RAWSECRET")) {
		t.Fatalf("the answer repeats the raw key: %s", body)
	}
	doc := decodeAs[aliasesDocJSON](t, body)
	if len(doc.Items) != 2 || doc.Items[0].APIKeyHash != hash || doc.Items[0].Alias != "alice" || doc.Items[1].Alias != "Bob" ||
		doc.Items[0].UpdatedAt == nil || time.Since(*doc.Items[0].UpdatedAt) > time.Minute {
		t.Fatalf("%+v", doc.Items)
	}
	var again aliasesDocJSON
	getJSON(t, h, "/v0/management/api-key-aliases", &again)
	if len(again.Items) != 2 || again.Items[0].APIKeyHash != hash || again.Items[0].Alias != "alice" ||
		again.Items[0].UpdatedAt == nil || !again.Items[0].UpdatedAt.Equal(*doc.Items[0].UpdatedAt) {
		t.Errorf("GET: %+v", again.Items)
	}
	// The alias is stored under the hash the collector computes.
	m, err := b.s.APIKeyAliases(context.Background())
	if err != nil || m[hash] != "alice" {
		t.Errorf("stored %v %v", m, err)
	}
	// The raw key is nowhere in the database files.
	if err := b.s.Close(); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(b.s.Path())
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		if bytes.Contains(data, []byte("RAWSECRET")) {
			t.Errorf("%s contains the raw key", e.Name())
		}
	}
}

func TestAliasesConflictsAndValidation(t *testing.T) {
	h, b := fixture(t)
	b.norm = testNormalizer(t)
	k1, k2, k3 := b.norm.Secret("k1").Hash, b.norm.Secret("k2").Hash, b.norm.Secret("k3").Hash
	put := func(body string) (int, []byte) {
		return sendJSON(t, h, "PUT", "/v0/management/api-key-aliases", body)
	}
	if code, body := put(`{"items": [{"apiKeyHash": "` + k1 + `", "alias": "ci"}, {"apiKeyHash": "` + k2 + `", "alias": "alice"}]}`); code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
	for _, c := range []struct {
		name, body string
		status     int
		want       string
	}{
		{"taken", `{"items": [{"apiKeyHash": "` + k3 + `", "alias": "new"}, {"apiKeyHash": "` + strings.Repeat("c", keyHashLen) + `", "alias": "CI"}]}`, 409, k1},
		{"taken via raw key", `{"items": [{"apiKey": "k3", "alias": "Alice"}]}`, 409, "items[0]"},
		{"twice in one request", `{"items": [{"apiKeyHash": "` + k3 + `", "alias": "x"}, {"apiKey": "k4", "alias": "X"}]}`, 400, "items[0] and items[1]"},
		{"same key twice", `{"items": [{"apiKeyHash": "` + k1 + `", "alias": "x"}, {"apiKey": "k1", "alias": "y"}]}`, 400, "same key"},
		{"not a hash", `{"items": [{"apiKeyHash": "sk-live-abc", "alias": "x"}]}`, 400, "apiKeyHash"},
		{"upper case hash", `{"items": [{"apiKeyHash": "` + strings.ToUpper(k3) + `", "alias": "x"}]}`, 400, "lowercase"},
		{"both", `{"items": [{"apiKeyHash": "` + k3 + `", "apiKey": "k3", "alias": "x"}]}`, 400, "not both"},
		{"neither", `{"items": [{"alias": "x"}]}`, 400, "apiKeyHash"},
		{"long alias", `{"items": [{"apiKeyHash": "` + k3 + `", "alias": "` + strings.Repeat("é", 121) + `"}]}`, 400, "120"},
		{"control", `{"items": [{"apiKeyHash": "` + k3 + `", "alias": "a\u0007b"}]}`, 400, "control"},
		{"no items", `{}`, 400, "items"},
		{"bad JSON", `{"items": [`, 400, "JSON"},
	} {
		code, body := put(c.body)
		_, msg := errorOf(t, body)
		if code != c.status || !strings.Contains(msg, c.want) {
			t.Errorf("%s: %d %s", c.name, code, body)
		}
		if bytes.Contains(body, []byte(`"k3"`)) || bytes.Contains(body, []byte(`"k4"`)) {
			t.Errorf("%s: the answer repeats a raw key: %s", c.name, body)
		}
	}
	// Nothing of the refused requests was applied.
	list, err := b.s.APIKeyAliasList(context.Background())
	if err != nil || len(list) != 2 {
		t.Fatalf("after refused requests: %+v %v", list, err)
	}
	// Exactly 120 characters, and swapping aliases in one request, work;
	// an empty alias deletes.
	long := strings.Repeat("é", 120)
	code, body := put(`{"items": [{"apiKeyHash": "` + k1 + `", "alias": "alice"}, {"apiKeyHash": "` + k2 + `", "alias": "ci"},
		{"apiKeyHash": "` + k3 + `", "alias": "` + long + `"}]}`)
	if code != http.StatusOK {
		t.Fatalf("swap: %d %s", code, body)
	}
	if code, body = put(`{"items": [{"apiKey": "k3", "alias": ""}]}`); code != http.StatusOK {
		t.Fatalf("empty alias: %d %s", code, body)
	}
	doc := decodeAs[aliasesDocJSON](t, body)
	if len(doc.Items) != 2 || doc.Items[0].APIKeyHash != k1 || doc.Items[0].Alias != "alice" || doc.Items[1].APIKeyHash != k2 {
		t.Errorf("%+v", doc.Items)
	}
}

func TestAliasDelete(t *testing.T) {
	h, b := fixture(t)
	hash := strings.Repeat("ab", keyHashLen/2)
	if err := b.s.PutAPIKeyAliases(context.Background(), []store.APIKeyAlias{{KeyHash: hash, Alias: "ci"}}); err != nil {
		t.Fatal(err)
	}
	code, body := sendJSON(t, h, "DELETE", "/v0/management/api-key-aliases/"+hash, "")
	if code != http.StatusOK || strings.TrimSpace(string(body)) != `{"ok":true}` {
		t.Fatalf("%d %s", code, body)
	}
	if code, body = sendJSON(t, h, "DELETE", "/v0/management/api-key-aliases/"+hash, ""); code != http.StatusNotFound {
		t.Errorf("again: %d %s", code, body)
	}
	if code, body = sendJSON(t, h, "DELETE", "/v0/management/api-key-aliases/not-a-hash", ""); code != http.StatusBadRequest {
		t.Errorf("bad hash: %d %s", code, body)
	}
	var doc aliasesDocJSON
	getJSON(t, h, "/v0/management/api-key-aliases", &doc)
	if doc.Items == nil || len(doc.Items) != 0 {
		t.Errorf("%+v", doc)
	}
}
