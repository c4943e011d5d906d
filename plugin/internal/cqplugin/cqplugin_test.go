package cqplugin

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/cloudquery/plugin-sdk/v4/plugin"

	"github.com/infobloxopen/cq-source-s3/internal/spec"
	identity "github.com/infobloxopen/cq-source-s3/plugin"
)

func TestPluginIdentity(t *testing.T) {
	p := New("v1.2.3") // panics if the embedded JSON schema does not compile
	if p.Name() != "s3" || p.Version() != "v1.2.3" || p.Kind() != plugin.KindSource || p.Team() != "infobloxopen" {
		t.Fatalf("identity = %s %s %s %s", p.Name(), p.Version(), p.Kind(), p.Team())
	}
}

// The JSON schema the CLI shows users must agree with spec.Parse on what is valid.
func TestSpecSchemaAgreesWithParser(t *testing.T) {
	v, err := plugin.JSONSchemaValidator(spec.JSONSchema)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		spec  string
		valid bool
	}{
		{"minimal", `{"bucket":"abc","region":"us-east-1"}`, true},
		{"everything", `{"bucket":"abc","region":"auto","path_prefix":"a/b","endpoint":"http://127.0.0.1:9000","use_path_style":true,"access_key_id":"k","secret_access_key":"s","session_token":"t","rows_per_record":10,"concurrency":2,"max_bytes_in_flight":1048576,"incremental":true}`, true},
		{"profile", `{"bucket":"abc","region":"us-east-1","profile":"p"}`, true},
		{"missing region", `{"bucket":"abc"}`, false},
		{"typo", `{"bucket":"abc","region":"us-east-1","bukcet":"x"}`, false},
		{"zero rows", `{"bucket":"abc","region":"us-east-1","rows_per_record":0}`, false},
		{"byte budget below 1 MiB", `{"bucket":"abc","region":"us-east-1","max_bytes_in_flight":1024}`, false},
		{"byte budget above 1 TiB", `{"bucket":"abc","region":"us-east-1","max_bytes_in_flight":1099511627777}`, false},
		{"too much concurrency", `{"bucket":"abc","region":"us-east-1","concurrency":1001}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var doc any
			if err := json.Unmarshal([]byte(tt.spec), &doc); err != nil {
				t.Fatal(err)
			}
			err := v.Validate(doc)
			if (err == nil) != tt.valid {
				t.Fatalf("schema validation err = %v, want valid=%v", err, tt.valid)
			}
			if _, err := spec.Parse([]byte(tt.spec)); (err == nil) != tt.valid {
				t.Fatalf("spec.Parse err = %v, want valid=%v", err, tt.valid)
			}
		})
	}
}

// `package` (tables.json) asks with no spec and no connection: no tables, no error. A sync
// with no spec is still refused, naming the missing key.
func TestInitWithoutSpec(t *testing.T) {
	p := New("v1.2.3")
	if err := p.Init(t.Context(), nil, plugin.NewClientOptions{NoConnection: true}); err != nil {
		t.Fatalf("Init(no spec, NoConnection) = %v", err)
	}
	tables, err := p.Tables(t.Context(), plugin.TableOptions{Tables: []string{"*"}})
	if err != nil || len(tables) != 0 {
		t.Fatalf("Tables = %v, %v; want none", tables, err)
	}
	err = New("v1.2.3").Init(t.Context(), nil, plugin.NewClientOptions{})
	if err == nil || !strings.Contains(err.Error(), "bucket") {
		t.Fatalf("Init(no spec) = %v; want an error naming bucket", err)
	}
}

// `package` builds every default target of the SDK, each with the image's GOFLAGS (and no tags
// of its own, which would replace them), and the Dockerfile sets the same GOFLAGS.
func TestBuildTargetsAreTheImages(t *testing.T) {
	var got, want []string
	for _, tg := range plugin.DefaultBuildTargets {
		want = append(want, tg.OS+"/"+tg.Arch)
	}
	for _, tg := range New("v1.2.3").Targets() {
		got = append(got, tg.OS+"/"+tg.Arch)
		if tg.CGO || len(tg.Tags) != 0 || strings.Join(tg.Env, " ") != "GOFLAGS="+identity.GoFlags {
			t.Errorf("%s/%s: CGO %v, tags %v, env %v; want no CGO, no tags, GOFLAGS=%s", tg.OS, tg.Arch, tg.CGO, tg.Tags, tg.Env, identity.GoFlags)
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("targets %v, want the SDK's defaults %v", got, want)
	}
	dockerfile, err := os.ReadFile("../../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if line := "ENV GOFLAGS=\"" + identity.GoFlags + "\""; !strings.Contains(string(dockerfile), "\n"+line+"\n") {
		t.Errorf("the Dockerfile lacks the line %s", line)
	}
}
