package cqplugin

import (
	"encoding/json"
	"testing"

	"github.com/cloudquery/plugin-sdk/v4/plugin"

	"github.com/infobloxopen/cq-source-s3/internal/spec"
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
