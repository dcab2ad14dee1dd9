package usage

import (
	"encoding/json"
	"reflect"
	"testing"
)

// checkDecode compares the fast decoder with encoding/json on obj: when the
// fast path accepts obj, encoding/json must accept it too and give the same
// Record.
func checkDecode(t *testing.T, obj []byte) (fast bool) {
	t.Helper()
	var got, want Record
	if !decodeRecord(obj, &got) {
		return false
	}
	if err := json.Unmarshal(obj, &want); err != nil {
		t.Fatalf("fast path accepted what encoding/json rejects (%v): %q", err, obj)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("fast path differs on %q:\n got %#v\nwant %#v", obj, got, want)
	}
	return true
}

func TestDecodeRecordMatchesEncodingJSON(t *testing.T) {
	claude := successRecord()
	claude.Provider, claude.AuthType, claude.Source = "claude", "oauth", "dev@example.com"
	fast := [][]byte{
		marshal(t, successRecord()),
		marshal(t, failedRecord()),
		legacyJSON(t, successRecord()),
		v610JSON(t, successRecord()),
		marshal(t, claude),
		[]byte(`{}`),
		[]byte(` { "timestamp" : "x" , "tokens" : null , "fail" : null , "generate" : null , "token_breakdown" : null , "response_headers" : null } `),
		[]byte(`{"generate":false,"generate":true,"failed":true,"failed":null}`),
		[]byte(`{"tokens":{"input_tokens":1},"tokens":{"output_tokens":2}}`),
		[]byte(`{"token_breakdown":{"input":{"total_tokens":1}},"token_breakdown":{"output":{"total_tokens":2},"input":null}}`),
		[]byte(`{"response_headers":{"A":["x"]},"response_headers":{"B":[],"C":null,"D":[null,"y"],"E\u0041":["\u00e9"]}}`),
		[]byte(`{"user_agent":"caf\u00e9 \"q\" \n","model":"é","alias":"bad ` + "\xff\xfe" + ` utf8"}`),
		[]byte(`{"latency_ms":-9223372036854775808,"ttft_ms":9223372036854775807,"accounting_version":-0}`),
		[]byte(`{"unknown":{"a":[1,2.5e-3,-0,true,false,null,"\ud83d\ude00",{}],"b\n":[]},"x":-1E+2}`),
		[]byte(`{"fail":{"status_code":429,"body":"","extra":1},"token_breakdown":{"schema_version":2,"quality":"complete","unclassified_tokens":0}}`),
	}
	for _, obj := range fast {
		if !checkDecode(t, obj) {
			t.Errorf("fast path declined %q", obj)
		}
	}
	slow := [][]byte{
		[]byte(`{"Timestamp":"x"}`),             // case-insensitive match
		[]byte(`{"tokens":{"INPUT_tokens":1}}`), // case-insensitive match
		[]byte(`{"\u0074imestamp":"x"}`),        // escaped key
		[]byte(`{"latency_ms":1.0}`),            // type error
		[]byte(`{"latency_ms":1e2}`),
		[]byte(`{"latency_ms":99999999999999999999}`),
		[]byte(`{"latency_ms":01}`),
		[]byte(`{"model":1}`),
		[]byte(`{"failed":"true"}`),
		[]byte(`{"x":tru}`),
		[]byte(`{"x":"\x01"}`),
		[]byte(`{"x":"\q"}`),
		[]byte(`{"x":1,}`),
		[]byte(`{"x":1} x`),
		[]byte(`{"x":[1 2]}`),
		[]byte(`{"response_headers":{null:["a"]}}`),
		[]byte(`{"response_headers":{"a":"b"}}`),
		[]byte(`{"model":"a\"}`),
		[]byte(`{"model":nullx}`),
	}
	for _, obj := range slow {
		if checkDecode(t, obj) {
			t.Errorf("fast path accepted %q", obj)
		}
	}
}

func FuzzDecodeRecord(f *testing.F) {
	fuzzSeeds(f)
	f.Add([]byte(`{"response_headers":{"A":["x",null]},"tokens":{"input_tokens":-0},"generate":null}`), "", "")
	f.Fuzz(func(t *testing.T, payload []byte, _, _ string) {
		if obj, err := objectBytes(payload); err == nil {
			checkDecode(t, obj)
		}
	})
}

// BenchmarkParse measures Parse of a typical v7.2 success record.
func BenchmarkParse(b *testing.B) {
	payload := marshal(b, successRecord())
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(payload); err != nil {
			b.Fatal(err)
		}
	}
}

// fillValue sets every field reachable from v to a distinct non-zero value
// (maps and slices get one element), so a field the fast decoder does not
// know shows up as a difference.
func fillValue(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString("v" + string(rune('a'+*n%26)))
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(*n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillValue(v.Elem(), n)
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if f.IsExported() && f.Tag.Get("json") != "-" {
				fillValue(v.Field(i), n)
			}
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fillValue(k, n)
		fillValue(e, n)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fillValue(s.Index(0), n)
		v.Set(s)
	}
}

// TestDecodeRecordKnowsEveryField guards the fast path against a field
// added to Record (or a nested type) but not to the hand-written decoder:
// a record with every field set must take the fast path and decode to
// exactly what was encoded.
func TestDecodeRecordKnowsEveryField(t *testing.T) {
	var want Record
	n := 0
	fillValue(reflect.ValueOf(&want).Elem(), &n)
	obj, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var got Record
	if !decodeRecord(obj, &got) {
		t.Fatalf("the fast path declines a record with every field set: %s", obj)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("the fast path loses fields:\n got %#v\nwant %#v", got, want)
	}
}
