package spec

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestJSONSchemaIsGenerated(t *testing.T) {
	want, err := GenerateJSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	if JSONSchema != string(want) {
		t.Fatal("internal/spec/schema.json is not what Spec generates: run `go generate ./...` in plugin/ and commit the result")
	}
}

// schemaProperties are the properties of the committed schema.
func schemaProperties(t *testing.T) map[string]struct {
	Default          any
	Minimum, Maximum *int64
} {
	t.Helper()
	var sc struct {
		Properties map[string]struct {
			Default          any
			Minimum, Maximum *int64
		}
	}
	if err := json.Unmarshal([]byte(JSONSchema), &sc); err != nil {
		t.Fatal(err)
	}
	return sc.Properties
}

// The defaults and bounds the schema states (from Spec's tags) are the ones
// Parse applies (from the constants).
func TestSchemaAgreesWithParser(t *testing.T) {
	const minimal = `"bucket":"abc","region":"us-east-1"`
	s, err := Parse([]byte("{" + minimal + "}"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var parsed map[string]any
	if err := json.Unmarshal(b, &parsed); err != nil {
		t.Fatal(err)
	}
	for key, p := range schemaProperties(t) {
		if p.Default != nil && !reflect.DeepEqual(parsed[key], p.Default) {
			t.Errorf("%q: the schema's default is %v, Parse's is %v", key, p.Default, parsed[key])
		}
		bounds := []struct {
			bound *int64
			delta int64
		}{{p.Minimum, 0}, {p.Minimum, -1}, {p.Maximum, 0}, {p.Maximum, 1}}
		for _, c := range bounds {
			if c.bound == nil {
				continue
			}
			v := *c.bound + c.delta
			_, err := Parse(fmt.Appendf(nil, `{%s,%q:%d}`, minimal, key, v))
			if valid := c.delta == 0; (err == nil) != valid {
				t.Errorf("%q: %d: Parse err = %v, want valid=%v as in the schema", key, v, err, valid)
			} else if err != nil && !strings.Contains(err.Error(), `"`+key+`"`) {
				t.Errorf("%q: %d: error %q does not name the key", key, v, err)
			}
		}
	}
}

// The README's spec reference has one row per key of the schema; the Hub's docs/configuration.md
// has the same rows (key, type, default).
func TestReadmeDocumentsEveryKey(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Spec reference\n")
	if !ok {
		t.Fatal(`README.md has no "## Spec reference" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	readmeRows := specRows(section)
	documented := slices.Sorted(maps.Keys(readmeRows))
	keys := slices.Sorted(maps.Keys(schemaProperties(t)))
	if !slices.Equal(documented, keys) {
		t.Fatalf("README.md's spec reference documents %v; the schema has %v", documented, keys)
	}
	hub, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	if hubRows := specRows(string(hub)); !maps.Equal(hubRows, readmeRows) {
		t.Fatalf("docs/configuration.md's rows %v differ from README.md's %v", hubRows, readmeRows)
	}
}

// specRows: key → "type | default" of each spec table row in text.
func specRows(text string) map[string]string {
	rows := map[string]string{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\| ([^|]+) \\| ([^|]+) \\|").FindAllStringSubmatch(text, -1) {
		rows[m[1]] = m[2] + " | " + m[3]
	}
	return rows
}
