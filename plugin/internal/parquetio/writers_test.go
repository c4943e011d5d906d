package parquetio

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The outside-writer corpus (testdata/writers, made by its gen.py): files
// written by pyarrow and DuckDB, read through the plugin's whole path, equal
// value by value to what pyarrow reads (DuckDB's JSON for VARIANT columns,
// which pyarrow returns as raw structs). A refusal pyarrow would not make
// fails here.
func TestWritersCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "writers", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus in testdata/writers (%v)", err)
	}
	for _, jf := range files {
		name := strings.TrimSuffix(filepath.Base(jf), ".json")
		t.Run(name, func(t *testing.T) {
			var want struct {
				Columns []string            `json:"columns"`
				Rows    [][]json.RawMessage `json:"rows"`
			}
			raw, err := os.ReadFile(jf)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(strings.TrimSuffix(jf, ".json") + ".parquet")
			if err != nil {
				t.Fatal(err)
			}
			var notes []string
			got, cq, err := readAsCloudQuery(t, data, 3, func(n string) { notes = append(notes, n) })
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if len(notes) != 0 {
				t.Errorf("repairs on a valid file: %q", notes)
			}
			if cq.NumFields() != len(want.Columns) || len(got) != len(want.Rows) {
				t.Fatalf("%d columns × %d rows, pyarrow reads %d × %d", cq.NumFields(), len(got), len(want.Columns), len(want.Rows))
			}
			for i, row := range want.Rows {
				for c, cell := range row {
					g, w := asJSON(t, got[i][c]), decodeJSON(t, cell)
					if !reflect.DeepEqual(g, w) {
						t.Errorf("row %d column %q (read as %s):\n got  %v\n want %v", i, want.Columns[c], cq.Field(c).Type, g, w)
					}
				}
			}
		})
	}
}

// asJSON is a canonical value as the corpus's JSON writes it: floats by
// their bits ("f64:<hex>"), everything else as JSON has it.
func asJSON(t *testing.T, v any) any {
	var conv func(v any) any
	conv = func(v any) any {
		switch v := v.(type) {
		case float64:
			return fmt.Sprintf("f64:%016x", math.Float64bits(v))
		case []any:
			out := make([]any, len(v))
			for i := range v {
				out[i] = conv(v[i])
			}
			return out
		case map[string]any:
			out := make(map[string]any, len(v))
			for k, x := range v {
				out[k] = conv(x)
			}
			return out
		}
		return v
	}
	b, err := json.Marshal(conv(v))
	if err != nil {
		t.Fatal(err)
	}
	return decodeJSON(t, b)
}

// decodeJSON decodes b with numbers exact: each number becomes its value as
// a reduced fraction (so 12.50 equals 12.5, and 2^64-1 stays exact).
func decodeJSON(t *testing.T, b []byte) any {
	t.Helper()
	var exact func(v any) any
	exact = func(v any) any {
		switch v := v.(type) {
		case json.Number:
			r, ok := new(big.Rat).SetString(v.String())
			if !ok {
				t.Fatalf("JSON number %s", v)
			}
			return "num:" + r.RatString()
		case []any:
			for i := range v {
				v[i] = exact(v[i])
			}
		case map[string]any:
			for k := range v {
				v[k] = exact(v[k])
			}
		}
		return v
	}
	return exact(parseJSON(t, b))
}
