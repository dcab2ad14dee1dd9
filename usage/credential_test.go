package usage

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/cpam-caddy/cpam/cpasim"
)

func TestParseCredentialError(t *testing.T) {
	ts := time.Date(2026, 11, 27, 2, 7, 8, 5, time.FixedZone("CET", 3600))
	next := ts.Add(2 * time.Second)
	retryable := true
	q := &cpasim.QuotaState{Exceeded: true, Reason: "quota", NextRecoverAt: next, BackoffLevel: 1}
	ev := cpasim.ErrorEvent{
		Timestamp: ts, Provider: "openai-compatible-mock", Model: "mock-fail",
		AuthID: "openai-compatibility:mock:2303260f1889", AuthIndex: "3805471f4b0ffac9",
		StatusCode: 429,
		Body:       `{"error":{"message":"rate limited for key sk-mock-upstream-0123","code":"rate_limited"}}`,
		Code:       "rate_limited", Retryable: &retryable,
		AuthStatus: cpasim.AuthStatus{
			Status: "active", Quota: q,
			Model: &cpasim.ModelState{Name: "mock-fail", Status: "error", StatusMessage: "quota exhausted",
				Unavailable: true, NextRetryAfter: &next, Quota: q},
		},
	}
	got, err := ParseCredentialError(marshal(t, ev))
	if err != nil {
		t.Fatal(err)
	}
	wq := &QuotaState{Exceeded: true, Reason: "quota", NextRecoverAt: next.UTC(), BackoffLevel: 1}
	want := CredentialError{
		Time: ts.UTC(), Provider: "openai-compatible-mock", Model: "mock-fail",
		AuthID: "openai-compatibility:mock:2303260f1889", AuthIndex: "3805471f4b0ffac9",
		StatusCode: 429,
		Body:       `{"error":{"message":"rate limited for key [REDACTED]","code":"rate_limited"}}`,
		Code:       "rate_limited", Retryable: &retryable,
		AuthStatus: AuthStatus{
			Status: "active", Quota: wq,
			Model: &ModelState{Name: "mock-fail", Status: "error", StatusMessage: "quota exhausted",
				Unavailable: true, NextRetryAfter: next.UTC(), Quota: wq},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}

	// Minimal message: optional parts absent.
	got, err = ParseCredentialError([]byte(`{"timestamp":"2026-11-27T01:00:00Z","auth_index":"a","status_code":401,
		"auth_status":{"status":"error","status_message":"unauthorized: Bearer abcdefghijkl","unavailable":true,"next_retry_after":"garbage"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got.Retryable != nil || got.AuthStatus.Quota != nil || got.AuthStatus.Model != nil ||
		!got.AuthStatus.NextRetryAfter.IsZero() || got.AuthStatus.StatusMessage != "unauthorized: Bearer [REDACTED]" {
		t.Errorf("minimal: %+v", got)
	}
	for payload, wantErr := range map[string]error{
		`{"auth_index":"a"}`:       ErrTimestamp,
		`{"support_refresh":true}`: ErrControl,
		``:                         ErrEmpty,
		`[1]`:                      ErrNotObject,
	} {
		if _, err := ParseCredentialError([]byte(payload)); !errors.Is(err, wantErr) {
			t.Errorf("%s: %v, want %v", payload, err, wantErr)
		}
	}
}
