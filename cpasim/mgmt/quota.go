package mgmt

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// simulateProvider answers the provider quota and account URLs a panel
// probes through /api-call, so quota pages show data offline. It reports
// false for hosts it does not simulate.
func (s *State) simulateProvider(method string, u *url.URL, hdr http.Header, cred Credential) (int, http.Header, string, bool) {
	host := strings.ToLower(u.Hostname())
	p := u.Path
	now := s.opts.Now()
	at := func(d time.Duration) string { return now.Add(d).UTC().Format(time.RFC3339) }
	unix := func(d time.Duration) int64 { return now.Add(d).Unix() }
	email := cred.Source
	if cred.AuthType != "oauth" || email == "" {
		email = "demo@example.com"
	}

	var body any
	status := http.StatusOK
	switch {
	case host == "chatgpt.com" || host == "chat.openai.com":
		switch p {
		case "/backend-api/wham/usage":
			account := hdr.Get("Chatgpt-Account-Id")
			if account == "" {
				account = cred.AccountID
			}
			q := CodexQuotaOf(cred)
			if q.Status != http.StatusOK {
				status, body = q.Status, q.ErrorBody
				break
			}
			window := func(w CodexWindow) map[string]any {
				after := int64(w.ResetAfter / time.Second)
				return map[string]any{"used_percent": w.UsedPercent, "limit_window_seconds": w.WindowSeconds,
					"reset_after_seconds": after, "reset_at": unix(w.ResetAfter)}
			}
			body = map[string]any{
				"user_id": "user-sim-codex", "account_id": account, "email": email, "plan_type": q.Plan,
				"rate_limit": map[string]any{
					"allowed": !q.LimitReached(), "limit_reached": q.LimitReached(),
					"primary_window":   window(q.Primary),
					"secondary_window": window(q.Secondary),
				},
				"code_review_rate_limit": map[string]any{
					"allowed": true, "limit_reached": false,
					"primary_window": map[string]any{"used_percent": 0, "limit_window_seconds": 604800,
						"reset_after_seconds": 604800, "reset_at": unix(604800 * time.Second)},
					"secondary_window": nil,
				},
				"credits": map[string]any{"has_credits": false, "unlimited": false, "balance": "0"},
			}
		case "/backend-api/wham/rate-limit-reset-credits":
			body = map[string]any{"available": 0, "credits": []any{}}
		default:
			return notFoundProvider()
		}
	case host == "api.anthropic.com":
		switch p {
		case "/api/oauth/usage":
			window := func(util float64, d time.Duration) map[string]any {
				return map[string]any{"utilization": util, "resets_at": at(d)}
			}
			body = map[string]any{
				"five_hour":            window(18, 3*time.Hour),
				"seven_day":            window(42, 4*24*time.Hour),
				"seven_day_oauth_apps": nil,
				"seven_day_opus":       window(5, 4*24*time.Hour),
				"seven_day_sonnet":     window(37, 4*24*time.Hour),
				"extra_usage":          map[string]any{"is_enabled": false, "monthly_limit": nil, "used_credits": nil, "utilization": nil},
			}
		case "/api/oauth/profile":
			body = map[string]any{
				"account": map[string]any{"uuid": "00000000-0000-4000-8000-000000000001", "email": email,
					"full_name": "Demo User", "has_claude_pro": true, "has_claude_max": false},
				"organization": map[string]any{"uuid": "00000000-0000-4000-8000-000000000002", "name": "Demo Org",
					"organization_type": "claude_pro", "billing_type": "stripe_subscription"},
			}
		default:
			return notFoundProvider()
		}
	case strings.HasSuffix(host, "cloudcode-pa.googleapis.com") || strings.HasSuffix(host, "cloudcode-pa.sandbox.googleapis.com"):
		project := cred.ProjectID
		if project == "" {
			project = "demo-project-123456"
		}
		switch {
		case strings.HasSuffix(p, ":retrieveUserQuota") || strings.HasSuffix(p, ":retrieveUserQuotaSummary"):
			bucket := func(model string, frac float64) map[string]any {
				return map[string]any{"modelId": model, "tokenType": "REQUESTS", "remainingFraction": frac, "resetTime": at(20 * time.Hour)}
			}
			body = map[string]any{"buckets": []any{
				bucket("gemini-2.5-pro", 0.82), bucket("gemini-2.5-flash", 0.95), bucket("gemini-2.5-flash-lite", 1),
			}}
		case strings.HasSuffix(p, ":loadCodeAssist"):
			tier := map[string]any{"id": "standard-tier", "name": "Gemini Code Assist",
				"description":                        "Unlimited coding assistant with the most powerful Gemini models",
				"userDefinedCloudaicompanionProject": true}
			body = map[string]any{
				"currentTier":             tier,
				"allowedTiers":            []any{tier},
				"cloudaicompanionProject": project,
				"paidTier":                map[string]any{"id": "g1-pro-tier", "name": "Google AI Pro"},
			}
		case strings.HasSuffix(p, ":fetchAvailableModels"):
			model := func(display string, frac float64) map[string]any {
				return map[string]any{"displayName": display, "quotaInfo": map[string]any{"remainingFraction": frac, "resetTime": at(5 * time.Hour)}}
			}
			body = map[string]any{"models": map[string]any{
				"gemini-3-pro-preview":       model("Gemini 3 Pro", 0.76),
				"gemini-2.5-flash":           model("Gemini 2.5 Flash", 0.98),
				"claude-sonnet-4-5-thinking": model("Claude Sonnet 4.5 (Thinking)", 0.6),
			}}
		default:
			return notFoundProvider()
		}
	case host == "api.kimi.com":
		if p != "/coding/v1/usages" {
			return notFoundProvider()
		}
		body = map[string]any{
			"usage": map[string]any{"limit": "100", "used": "12", "remaining": "88", "resetTime": at(6 * 24 * time.Hour)},
			"limits": []any{map[string]any{
				"window": map[string]any{"duration": 300, "timeUnit": "TIME_UNIT_MINUTE"},
				"detail": map[string]any{"limit": "50", "used": "4", "remaining": "46", "resetTime": at(3 * time.Hour)},
			}},
		}
	case host == "cli-chat-proxy.grok.com":
		if p != "/v1/billing" {
			return notFoundProvider()
		}
		body = map[string]any{
			"plan": "SuperGrok", "currency": "USD",
			"usage":  map[string]any{"used_percent": 27.5, "window": "monthly", "resets_at": at(12 * 24 * time.Hour)},
			"limits": []any{map[string]any{"name": "requests", "used": 275, "limit": 1000, "resets_at": at(12 * 24 * time.Hour)}},
		}
	case host == "api.x.ai":
		if p != "/v1/me" {
			return notFoundProvider()
		}
		body = map[string]any{"user_id": "user-sim-xai", "email": email, "team_id": "team-sim-xai", "name": "Demo User"}
	default:
		return 0, nil, "", false
	}
	auth := hdr.Get("Authorization")
	if tok := strings.TrimSpace(strings.TrimPrefix(auth, "Bearer")); auth == "" || tok == "" {
		status = http.StatusUnauthorized
		body = map[string]any{"error": map[string]any{"type": "authentication_error", "message": "missing or invalid access token"}}
	}
	data, _ := json.Marshal(body)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Date", now.UTC().Format(http.TimeFormat))
	return status, h, string(data), true
}

func notFoundProvider() (int, http.Header, string, bool) {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return http.StatusNotFound, h, `{"error":{"message":"not found"}}`, true
}

// CodexWindow is one simulated Codex rate-limit window.
type CodexWindow struct {
	// UsedPercent is the share of the window used, 0 to 100.
	UsedPercent int
	// WindowSeconds is the window's length.
	WindowSeconds int64
	// ResetAfter is how long until the window resets.
	ResetAfter time.Duration
}

// CodexQuota is how a simulated Codex account answers the ChatGPT usage
// endpoint (wham/usage) and what quota its traffic reports.
type CodexQuota struct {
	// Status is the HTTP status of wham/usage; ErrorBody its body when it
	// is not 200 (then the account has no windows).
	Status    int
	ErrorBody json.RawMessage
	// Plan is the plan_type reported.
	Plan string
	// Primary is the 5-hour window, Secondary the weekly one.
	Primary, Secondary CodexWindow
}

// LimitReached reports whether a window is used up.
func (q CodexQuota) LimitReached() bool {
	return q.Primary.UsedPercent >= 100 || q.Secondary.UsedPercent >= 100
}

// Windows of the simulated Codex accounts.
const (
	codexPrimarySeconds   = 5 * 3600
	codexSecondarySeconds = 7 * 24 * 3600
)

// codexDefaultQuota answers for Codex credentials without a behaviour of
// their own (the demo account, API keys, uploaded files): healthy.
var codexDefaultQuota = CodexQuota{
	Status: http.StatusOK, Plan: "plus",
	Primary:   CodexWindow{UsedPercent: 23, WindowSeconds: codexPrimarySeconds, ResetAfter: 9000 * time.Second},
	Secondary: CodexWindow{UsedPercent: 41, WindowSeconds: codexSecondarySeconds, ResetAfter: 302400 * time.Second},
}

// codexQuotas are the behaviours of the demo Codex accounts (see
// demoAuthFiles), by ChatGPT account id. An inspection classifies them:
// full → disable (weekly window used up), expired → reauth (401), gone →
// delete (402 deactivated workspace), back → enable (disabled, quota
// left); the demo account stays keep.
var codexQuotas = map[string]CodexQuota{
	codexFullAccount: {
		Status: http.StatusOK, Plan: "pro",
		Primary:   CodexWindow{UsedPercent: 60, WindowSeconds: codexPrimarySeconds, ResetAfter: 7200 * time.Second},
		Secondary: CodexWindow{UsedPercent: 100, WindowSeconds: codexSecondarySeconds, ResetAfter: 259200 * time.Second},
	},
	codexExpiredAccount: {
		Status: http.StatusUnauthorized, Plan: "plus",
		ErrorBody: json.RawMessage(`{"error":{"message":"Provided authentication token is expired. Please try signing in again.",` +
			`"type":"invalid_request_error","param":null,"code":"token_expired"}}`),
	},
	codexGoneAccount: {
		Status: http.StatusPaymentRequired, Plan: "team",
		ErrorBody: json.RawMessage(`{"detail":{"code":"deactivated_workspace"}}`),
	},
	codexBackAccount: {
		Status: http.StatusOK, Plan: "plus",
		Primary:   CodexWindow{UsedPercent: 10, WindowSeconds: codexPrimarySeconds, ResetAfter: 16200 * time.Second},
		Secondary: CodexWindow{UsedPercent: 30, WindowSeconds: codexSecondarySeconds, ResetAfter: 432000 * time.Second},
	},
}

// codexQuotaByEmail finds the behaviours by account email too, for a
// credential whose file lost its account id.
var codexQuotaByEmail = map[string]string{
	"codex-full@example.com":    codexFullAccount,
	"codex-expired@example.com": codexExpiredAccount,
	"codex-gone@example.com":    codexGoneAccount,
	"codex-back@example.com":    codexBackAccount,
}

// CodexQuotaOf returns the simulated quota of a Codex credential, chosen by
// the credential (its ChatGPT account id, else its email), never by what a
// caller sends.
func CodexQuotaOf(cred Credential) CodexQuota {
	if q, ok := codexQuotas[cred.AccountID]; ok {
		return q
	}
	if id, ok := codexQuotaByEmail[strings.ToLower(cred.Source)]; ok && cred.AuthType == "oauth" {
		return codexQuotas[id]
	}
	return codexDefaultQuota
}
