package mgmt

import (
	"encoding/json"
	"net/http"
	"testing"
)

// codexDemoFiles are the demo Codex accounts: file name → account id,
// plan, disabled.
var codexDemoFiles = map[string]struct {
	account, plan string
	disabled      bool
}{
	"codex-demo@example.com-plus.json":    {codexDemoAccount, "plus", false},
	"codex-full@example.com-pro.json":     {codexFullAccount, "pro", false},
	"codex-expired@example.com-plus.json": {codexExpiredAccount, "plus", false},
	"codex-gone@example.com-team.json":    {codexGoneAccount, "team", false},
	"codex-back@example.com-plus.json":    {codexBackAccount, "plus", true},
}

func codexIndex(name string) string { return AuthIndex("codex:/srv/cpa-sim/auths/" + name) }

func TestDemoCodexAccountsListed(t *testing.T) {
	s, _ := newTestState(t, nil)
	seen := map[string]bool{}
	for _, f := range decode(t, do(t, s, "GET", "/auth-files", nil))["files"].([]any) {
		e := f.(map[string]any)
		want, ok := codexDemoFiles[e["name"].(string)]
		if !ok {
			continue
		}
		seen[e["name"].(string)] = true
		status := "active"
		if want.disabled {
			status = "disabled"
		}
		tok, _ := e["id_token"].(map[string]any)
		if e["disabled"] != want.disabled || e["status"] != status || e["provider"] != "codex" ||
			tok["chatgpt_account_id"] != want.account || tok["plan_type"] != want.plan || e["auth_index"] != codexIndex(e["name"].(string)) {
			t.Errorf("%s: %v", e["name"], e)
		}
	}
	if len(seen) != len(codexDemoFiles) {
		t.Fatalf("listed codex files %v", seen)
	}
	// Disabled accounts never serve traffic; the others do.
	served := map[string]bool{}
	for _, c := range s.Credentials("gpt-5-codex") {
		served[c.Name] = true
	}
	for name, f := range codexDemoFiles {
		if served[name] == f.disabled {
			t.Errorf("%s (disabled %v) served: %v", name, f.disabled, served[name])
		}
	}
}

func TestDemoCodexUsage(t *testing.T) {
	s, _ := newTestState(t, nil)
	call := func(name string, hdr map[string]string) (int, map[string]any) {
		t.Helper()
		h := map[string]string{"Authorization": "Bearer $TOKEN$"}
		for k, v := range hdr {
			h[k] = v
		}
		rec := do(t, s, "POST", "/api-call", map[string]any{"auth_index": codexIndex(name), "method": "GET",
			"url": "https://chatgpt.com/backend-api/wham/usage", "header": h})
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", name, rec.Code, rec.Body)
		}
		m := decode(t, rec)
		var body map[string]any
		if err := json.Unmarshal([]byte(m["body"].(string)), &body); err != nil {
			t.Fatalf("%s body %q: %v", name, m["body"], err)
		}
		return int(m["status_code"].(float64)), body
	}
	windows := func(body map[string]any) (primary, secondary float64, reached bool) {
		rl := body["rate_limit"].(map[string]any)
		return rl["primary_window"].(map[string]any)["used_percent"].(float64),
			rl["secondary_window"].(map[string]any)["used_percent"].(float64), rl["limit_reached"].(bool)
	}

	code, body := call("codex-demo@example.com-plus.json", nil)
	if p, sec, reached := windows(body); code != 200 || p != 23 || sec != 41 || reached || body["plan_type"] != "plus" {
		t.Errorf("demo: %d %v", code, body)
	}
	code, body = call("codex-full@example.com-pro.json", nil)
	if p, sec, reached := windows(body); code != 200 || p != 60 || sec != 100 || !reached || body["plan_type"] != "pro" ||
		body["account_id"] != codexFullAccount || body["email"] != "codex-full@example.com" ||
		body["rate_limit"].(map[string]any)["allowed"] != false {
		t.Errorf("full: %d %v", code, body)
	}
	code, body = call("codex-expired@example.com-plus.json", nil)
	if e, _ := body["error"].(map[string]any); code != 401 || e["code"] != "token_expired" || e["message"] == "" {
		t.Errorf("expired: %d %v", code, body)
	}
	code, body = call("codex-gone@example.com-team.json", nil)
	if d, _ := body["detail"].(map[string]any); code != 402 || d["code"] != "deactivated_workspace" {
		t.Errorf("gone: %d %v", code, body)
	}
	code, body = call("codex-back@example.com-plus.json", nil)
	if p, sec, reached := windows(body); code != 200 || p != 10 || sec != 30 || reached {
		t.Errorf("back: %d %v", code, body)
	}
	// The behaviour follows the credential, not what the caller sends.
	code, body = call("codex-demo@example.com-plus.json", map[string]string{"Chatgpt-Account-Id": codexFullAccount})
	if p, sec, _ := windows(body); code != 200 || p != 23 || sec != 41 {
		t.Errorf("demo credential with the full account's header: %d %v", code, body)
	}
}

func TestCodexQuotaOf(t *testing.T) {
	for _, c := range []struct {
		name string
		cred Credential
		want int // secondary used percent, or -status
	}{
		{"by account id", Credential{AccountID: codexFullAccount, Source: "someone@example.com", AuthType: "oauth"}, 100},
		{"by email", Credential{Source: "Codex-Back@example.com", AuthType: "oauth"}, 30},
		{"email of an API key", Credential{Source: "codex-gone@example.com", AuthType: "apikey"}, 41},
		{"expired", Credential{AccountID: codexExpiredAccount}, -401},
		{"unknown", Credential{AccountID: "acc-other"}, 41},
	} {
		q := CodexQuotaOf(c.cred)
		got := q.Secondary.UsedPercent
		if q.Status != http.StatusOK {
			got = -q.Status
		}
		if got != c.want {
			t.Errorf("%s: %+v", c.name, q)
		}
	}
}
