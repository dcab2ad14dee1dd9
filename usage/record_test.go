package usage

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseEnvelope(t *testing.T) {
	rec := marshal(t, successRecord())
	asString := marshal(t, string(rec))
	big := []byte(`{"timestamp":"2026-11-27T01:07:08Z","x":"` + strings.Repeat("a", MaxPayloadSize) + `"}`)
	tests := []struct {
		name    string
		payload []byte
		wantErr error
		wantReq string
	}{
		{"object", rec, nil, "f936c1b1"},
		{"object with spaces", append(append([]byte("  \n"), rec...), '\n'), nil, "f936c1b1"},
		{"json string holding object", asString, nil, "f936c1b1"},
		{"empty", nil, ErrEmpty, ""},
		{"blank", []byte(" \t\n"), ErrEmpty, ""},
		{"empty json string", []byte(`""`), ErrEmpty, ""},
		{"too large", big, ErrTooLarge, ""},
		{"array", []byte(`[1,2]`), ErrNotObject, ""},
		{"number", []byte(`42`), ErrNotObject, ""},
		{"null", []byte(`null`), ErrNotObject, ""},
		{"string not object", []byte(`"hello"`), ErrNotObject, ""},
		{"string holding array", []byte(`"[1]"`), ErrNotObject, ""},
		{"control", []byte(`{"refresh":true}`), ErrControl, ""},
		{"control in string", []byte(`"{\"support_refresh\":true}"`), ErrControl, ""},
		{"missing timestamp", []byte(`{"request_id":"abc"}`), ErrTimestamp, ""},
		{"bad timestamp", []byte(`{"timestamp":"yesterday"}`), ErrTimestamp, ""},
		{"zero timestamp", []byte(`{"timestamp":"0001-01-01T00:00:00Z"}`), ErrTimestamp, ""},
		{"null timestamp", []byte(`{"timestamp":null}`), ErrTimestamp, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Parse(tc.payload)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.RequestID != tc.wantReq {
				t.Fatalf("request_id = %q", r.RequestID)
			}
		})
	}
	for _, bad := range []string{`{"timestamp":"2026-11-27T01:07:08Z"`, `{"timestamp":"2026-11-27T01:07:08Z"} x`, `{"latency_ms":"7","timestamp":"2026-11-27T01:07:08Z"}`} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%s) accepted", bad)
		}
	}
}

func TestParseTimestamps(t *testing.T) {
	want := time.Date(2026, 11, 27, 1, 7, 8, 613320096, time.UTC)
	for _, ts := range []string{
		"2026-11-27T01:07:08.613320096Z",
		"2026-11-27T02:07:08.613320096+01:00",
		"2026-11-26T20:07:08.613320096-05:00",
		"2026-11-27T06:37:08.613320096+05:30",
	} {
		r, err := Parse([]byte(`{"timestamp":"` + ts + `"}`))
		if err != nil {
			t.Fatalf("%s: %v", ts, err)
		}
		if !r.Time.Equal(want) {
			t.Errorf("%s: time %v, want %v", ts, r.Time, want)
		}
	}
	r, err := Parse([]byte(`{"timestamp":"2026-11-27T01:07:08+02:00"}`))
	if err != nil || !r.Time.Equal(time.Date(2026, 11, 26, 23, 7, 8, 0, time.UTC)) {
		t.Errorf("no fraction: %v %v", r.Time, err)
	}
}

func TestParseTolerant(t *testing.T) {
	r, err := Parse([]byte(`{"timestamp":"2026-11-27T01:07:08Z","future_field":{"a":[1,2]},"model":"m","tokens":{"input_tokens":3,"new_counter":9}}`))
	if err != nil {
		t.Fatal(err)
	}
	if r.Model != "m" || r.Tokens.InputTokens != 3 || r.Generate != nil || r.TokenBreakdown != nil {
		t.Fatalf("unexpected %+v", r)
	}
}

func TestIsControl(t *testing.T) {
	tests := []struct {
		payload string
		kind    string
		ok      bool
	}{
		{`{"support_refresh":true}`, "support_refresh", true},
		{`{"refresh":true}`, "refresh", true},
		{` { "refresh" : true } `, "refresh", true},
		{`"{\"refresh\":true}"`, "refresh", true},
		{`{"refresh":false}`, "", false},
		{`{"refresh":"true"}`, "", false},
		{`{"refresh":1}`, "", false},
		{`{"refresh":true,"x":true}`, "", false},
		{`{}`, "", false},
		{`[true]`, "", false},
		{`true`, "", false},
		{``, "", false},
		{`{"refresh":true`, "", false},
	}
	for _, tc := range tests {
		kind, ok := IsControl([]byte(tc.payload))
		if kind != tc.kind || ok != tc.ok {
			t.Errorf("IsControl(%s) = %q,%v want %q,%v", tc.payload, kind, ok, tc.kind, tc.ok)
		}
	}
	if _, ok := IsControl(marshal(t, successRecord())); ok {
		t.Error("a record is not a control message")
	}
}

func TestParseRecordFields(t *testing.T) {
	r, err := Parse(marshal(t, successRecord()))
	if err != nil {
		t.Fatal(err)
	}
	if r.Generate == nil || !*r.Generate || r.TokenBreakdown == nil || r.TokenBreakdown.SchemaVersion != 2 ||
		r.AccountingVersion != 2 || r.Fail.StatusCode != 200 || r.ResponseHeaders["X-Request-Id"][0] != "mock-req-1" {
		b, _ := json.Marshal(r)
		t.Fatalf("fields not decoded: %s", b)
	}
}
