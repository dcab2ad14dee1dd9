package cpasim

import (
	"strings"
	"testing"

	"github.com/cpam-caddy/cpam/cpasim/mgmt"
)

// A request served through a Codex credential records the quota headers
// of that account's simulated windows, as its wham/usage reports them.
func TestCodexQuotaHeaders(t *testing.T) {
	s := newTestServer(t, nil)
	byName := map[string]mgmt.Credential{}
	for _, c := range s.state.Credentials("gpt-5-codex") {
		byName[c.Name] = c
		if c.Name == "codex-back@example.com-plus.json" {
			t.Fatalf("the disabled codex account serves traffic")
		}
	}
	names := map[string]string{
		"codex-demo@example.com-plus.json":    "23/300/9000 41/10080/302400",
		"codex-full@example.com-pro.json":     "60/300/7200 100/10080/259200",
		"codex-expired@example.com-plus.json": "", // no windows: its token is expired
		"codex-api-key":                       "23/300/9000 41/10080/302400",
	}
	for name, want := range names {
		cred, ok := byName[name]
		if name == "codex-api-key" {
			for _, c := range byName {
				if c.Section == "codex-api-key" {
					cred, ok = c, true
				}
			}
		}
		if !ok {
			t.Fatalf("no credential %s among %v", name, byName)
		}
		s.setUpstreamSeams(func(string) []mgmt.Credential { return []mgmt.Credential{cred} }, nil)
		if res := chat(t, s, `{"model":"gpt-5-codex","messages":[{"role":"user","content":"hi"}]}`, nil); res.status != 200 {
			t.Fatalf("%s: %d %s", name, res.status, res.body)
		}
		recs := popAll(t, s)
		if len(recs) != 1 || recs[0]["auth_index"] != cred.AuthIndex {
			t.Fatalf("%s: records %v", name, recs)
		}
		hdr := recs[0]["response_headers"].(map[string]any)
		var windows []string
		for _, w := range []string{"Primary", "Secondary"} {
			var vals []string
			for _, f := range []string{"Used-Percent", "Window-Minutes", "Reset-After-Seconds"} {
				if v, ok := hdr["X-Codex-"+w+"-"+f].([]any); ok && len(v) == 1 {
					vals = append(vals, v[0].(string))
				}
			}
			if len(vals) > 0 {
				windows = append(windows, strings.Join(vals, "/"))
			}
		}
		got := strings.Join(windows, " ")
		if got != want {
			t.Errorf("%s: quota headers %q, want %q (%v)", name, got, want, hdr)
		}
		if hdr["X-Ratelimit-Remaining-Requests"] == nil {
			t.Errorf("%s: the other headers are gone: %v", name, hdr)
		}
	}

	// Other providers send none.
	s.setUpstreamSeams(s.state.Credentials, nil)
	chat(t, s, chatBody, nil)
	for _, r := range popAll(t, s) {
		for k := range r["response_headers"].(map[string]any) {
			if strings.HasPrefix(k, "X-Codex-") {
				t.Errorf("mock-gpt record has %s", k)
			}
		}
	}
}
