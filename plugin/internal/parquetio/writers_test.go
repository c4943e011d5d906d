package parquetio

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
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
			g, w := corpusRows(t, got, want.Rows)
			if i, c := firstDifference(g, w); i >= 0 {
				if c < 0 {
					t.Fatalf("row %d: %d columns read, %d in the corpus", i, len(g[i]), len(w[i]))
				}
				t.Errorf("row %d column %q (read as %s):\n got  %v\n want %v", i, want.Columns[c], cq.Field(c).Type, g[i][c], w[i][c])
			}
		})
	}
}

// corpusRows puts what was read and the corpus's rows in one comparable form.
func corpusRows(t *testing.T, got [][]any, want [][]json.RawMessage) (g, w [][]any) {
	for _, row := range got {
		out := make([]any, len(row))
		for c, v := range row {
			out[c] = asJSON(t, v)
		}
		g = append(g, out)
	}
	for _, row := range want {
		out := make([]any, len(row))
		for c, cell := range row {
			out[c] = decodeJSON(t, cell)
		}
		w = append(w, out)
	}
	return g, w
}

// The comparer of both type tests fails on a wrong answer, at the cell that is
// wrong: one changed value (generated file and corpus file), a missing row, a
// number equal only as text (12.50 vs 12.5 is equal; 12.51 is not).
func TestComparerFailsOnAWrongAnswer(t *testing.T) {
	f := newTypeGen(3).file(t)
	for len(f.want) < 2 {
		f = newTypeGen(int64(len(f.want)) + 100).file(t)
	}
	got, _, err := readAsCloudQuery(t, f.data, 5, nil)
	if err != nil {
		t.Fatal(err)
	}
	if i, c := firstDifference(got, f.want); i >= 0 {
		t.Fatalf("the right answer differs at row %d column %d", i, c)
	}
	wrong := make([][]any, len(f.want))
	copy(wrong, f.want)
	wrong[1] = append([]any{"not the value"}, f.want[1][1:]...)
	if i, c := firstDifference(got, wrong); i != 1 || c != 0 {
		t.Fatalf("a changed value: got row %d column %d, want row 1 column 0", i, c)
	}
	if i, c := firstDifference(got, f.want[1:]); i != 0 || c != -1 {
		t.Fatalf("a missing row: got row %d column %d, want the row count", i, c)
	}

	data, err := os.ReadFile(filepath.Join("testdata", "writers", "duckdb_variant.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	read, _, err := readAsCloudQuery(t, data, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows := func(last string) [][]json.RawMessage {
		out := [][]json.RawMessage{}
		for i, r := range []string{`{"a":[1,2],"b":"x"}`, `42`, `null`, `[]`, `{}`, `"text"`, `{"a":{"deep":[null,true]}}`, `"2024-01-01"`, last} {
			out = append(out, []json.RawMessage{json.RawMessage(strconv.Itoa(i + 1)), json.RawMessage(r)})
		}
		return out
	}
	if i, c := firstDifference(corpusRows(t, read, rows(`12.5`))); i >= 0 {
		t.Fatalf("the corpus's own answer differs at row %d column %d", i, c)
	}
	if i, c := firstDifference(corpusRows(t, read, rows(`12.51`))); i != 8 || c != 1 {
		t.Fatalf("12.51 for 12.50: got row %d column %d, want row 8 column 1", i, c)
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
