package cpam_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/caddyconfig/caddyfile" // the caddyfile adapter
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/cpam-caddy/cpam"
)

var update = flag.Bool("update", false, "rewrite the golden adapt files")

// adapt runs the Caddyfile adapter and returns tab-indented JSON.
func adapt(t *testing.T, caddyfile []byte) string {
	t.Helper()
	out, warnings, err := caddyconfig.GetAdapter("caddyfile").Adapt(caddyfile, nil)
	if err != nil {
		t.Fatalf("adapt: %v", err)
	}
	for _, w := range warnings {
		t.Errorf("adapt warning: line %d: %s", w.Line, w.Message)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, out, "", "\t"); err != nil {
		t.Fatalf("indent: %v", err)
	}
	return pretty.String() + "\n"
}

func compareGolden(t *testing.T, golden, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestAdapt -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("adapted JSON differs from %s:\n%s", golden, lineDiff(string(want), got))
	}
}

// lineDiff lists the first differing lines, enough to see what changed.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("line " + strconv.Itoa(i+1) + ":\n  want: " + wl + "\n  got:  " + gl + "\n")
			if b.Len() > 2000 {
				break
			}
		}
	}
	return b.String()
}

// TestAdaptExamples pins the JSON every shipped example Caddyfile adapts to,
// and checks that no secret was resolved into it.
func TestAdaptExamples(t *testing.T) {
	files, err := filepath.Glob("caddyfile-examples/*.caddyfile")
	if err != nil || len(files) < 4 {
		t.Fatalf("want at least 4 example Caddyfiles, found %d (%v)", len(files), err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".caddyfile")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			got := adapt(t, src)
			if strings.Contains(string(src), "{env.") && !strings.Contains(got, "{env.") {
				t.Error("an {env.*} placeholder was resolved at adapt time")
			}
			compareGolden(t, filepath.Join("testdata", "adapt", "example-"+name+".json"), got)
		})
	}
}

// TestAdaptCases runs testdata/adapt/*.caddyfiletest: a Caddyfile, a line of
// dashes, then the JSON it must adapt to.
func TestAdaptCases(t *testing.T) {
	files, err := filepath.Glob("testdata/adapt/*.caddyfiletest")
	if err != nil || len(files) == 0 {
		t.Fatalf("no adapt cases found (%v)", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".caddyfiletest"), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			src, want, ok := strings.Cut(string(raw), "\n----------\n")
			if !ok {
				t.Fatalf("%s has no ---------- separator", file)
			}
			got := adapt(t, []byte(src))
			if *update {
				if err := os.WriteFile(file, []byte(src+"\n----------\n"+got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if want != got {
				t.Errorf("adapted JSON differs from %s:\n%s", file, lineDiff(want, got))
			}
		})
	}
}

// TestAdaptErrors checks that directive mistakes fail at adapt time with a
// message that says what to write instead.
func TestAdaptErrors(t *testing.T) {
	tests := []struct{ name, caddyfile, wantErr string }{
		{"api base from wildcard matcher", "localhost {\n\tcpam_api /a/*/b\n}\n",
			`cannot tell the API's base path from matcher "/a/*/b": use a prefix such as /cpam/* or set base_path`},
		{"api unknown option", "localhost {\n\tcpam_api {\n\t\tprefix /x\n\t}\n}\n",
			`unknown cpam_api option "prefix"; expected base_path`},
		{"api relative base", "localhost {\n\tcpam_api {\n\t\tbase_path cpam\n\t}\n}\n",
			`base_path must start with /, got "cpam"`},
		{"api base twice", "localhost {\n\tcpam_api {\n\t\tbase_path /a\n\t\tbase_path /b\n\t}\n}\n",
			"base_path is given twice"},
		{"api extra argument", "localhost {\n\tcpam_api /cpam/* extra\n}\n", "wrong argument count"},
		{"panel unknown option", "localhost {\n\tcpam_panel {\n\t\ttheme dark\n\t}\n}\n",
			`unknown cpam_panel option "theme"; expected api_base, management_base or file`},
		{"panel relative api base", "localhost {\n\tcpam_panel {\n\t\tapi_base cpam\n\t}\n}\n",
			`api_base must be a path starting with /, got "cpam"`},
		{"panel option twice", "localhost {\n\tcpam_panel {\n\t\tfile a.html\n\t\tfile b.html\n\t}\n}\n",
			"file is given twice"},
		{"panel option without value", "localhost {\n\tcpam_panel {\n\t\tfile\n\t}\n}\n", "wrong argument count"},
		{"management unknown option", "localhost {\n\tcpam_management {\n\t\tkey abc\n\t}\n}\n",
			`unknown cpam_management option "key"; expected upstream`},
		{"management upstream twice", "localhost {\n\tcpam_management {\n\t\tupstream a\n\t\tupstream b\n\t}\n}\n",
			"upstream is given twice"},
		{"global option twice", "{\n\tcpam\n\tcpam\n}\nlocalhost {\n\tcpam_api\n}\n",
			"the cpam global option is given twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(tt.caddyfile), nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("adapt error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}
